package solve

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// UnsatError explains why no installation satisfies a request: a minimal
// set of the problem's statements (request lines, dependencies,
// conflicts, keeps) that cannot hold together — drop any one and the rest
// can. errors.Is(err, ErrUnsat) holds.
type UnsatError struct {
	Reasons []string
}

func (e *UnsatError) Error() string {
	if len(e.Reasons) == 1 {
		return "no installation satisfies the request: " + e.Reasons[0]
	}
	return "no installation satisfies the request, because " + strings.Join(e.Reasons[:len(e.Reasons)-1], ", ") +
		", and " + e.Reasons[len(e.Reasons)-1] + ": these cannot all hold"
}

func (e *UnsatError) Unwrap() error { return ErrUnsat }

// maxCalls bounds the solver calls an explanation may take; past it the
// core found so far, minimal or not, is given.
const maxCalls = 3000

// explain finds a minimal unsatisfiable set of facts by deletion, in
// chunks: half of the facts are dropped at once where the rest stays
// unsatisfiable, then quarters, and so on down to single facts — about
// k·log n solver calls for a core of k facts among n, where dropping one
// fact at a time takes n. Request lines are tried last, so the core keeps
// them when it can.
func (m *model) explain(ctx context.Context) error {
	order := make([]int, 0, len(m.facts))
	for i := 1; i < len(m.facts); i++ {
		order = append(order, i)
	}
	rank := map[string]int{"conflicts": 0, "depends": 1, "keep": 2, "request": 3}
	sort.SliceStable(order, func(a, b int) bool { return rank[m.facts[order[a]].kind] < rank[m.facts[order[b]].kind] })
	keep := make([]bool, len(m.facts))
	calls := 0
	unsat := func(facts []int) (bool, error) {
		calls++
		clear(keep)
		for _, i := range facts {
			keep[i] = true
		}
		saved := m.cons
		var cs []constraint
		for _, c := range saved {
			if c.why != 0 && keep[c.why] {
				cs = append(cs, c)
			}
		}
		// A subset of the constraints: not what the cache converted.
		m.cons, m.base = cs, nil
		_, ok, err := m.solve(ctx, nil)
		m.cons, m.base = saved, nil
		return !ok, err
	}
	core := order
	minimal := true
	for chunk := max(len(core)/2, 1); ; chunk = max(chunk/2, 1) {
		for start := 0; start < len(core); {
			if calls >= maxCalls {
				minimal = false
				break
			}
			end := min(start+chunk, len(core))
			rest := append(append([]int(nil), core[:start]...), core[end:]...)
			still, err := unsat(rest)
			if err != nil {
				return err
			}
			if still {
				core = rest // the chunk is not needed
			} else {
				start = end
			}
		}
		if chunk == 1 || !minimal {
			break
		}
	}
	e := &UnsatError{Reasons: m.chain(core)}
	if !minimal {
		e.Reasons = append(e.Reasons, fmt.Sprintf("(not narrowed down to a minimal set after %d solver calls)", calls))
	}
	return e
}

// chain orders facts as a reader follows them: the request lines first,
// then each fact that speaks of a package already spoken of, so that a
// dependency follows what needs it and a conflict what it is between.
func (m *model) chain(facts []int) []string {
	vars := make(map[int][]int, len(facts))
	for _, c := range m.cons {
		if c.why != 0 {
			for _, l := range c.lits {
				vars[c.why] = append(vars[c.why], abs(l))
			}
		}
	}
	sort.Ints(facts)
	seen := map[int]bool{}
	used := make([]bool, len(facts))
	var out []string
	take := func(k int) {
		used[k] = true
		out = append(out, m.facts[facts[k]].say())
		for _, v := range vars[facts[k]] {
			seen[v] = true
		}
	}
	for k, i := range facts {
		if m.facts[i].kind == "request" {
			take(k)
		}
	}
	for len(out) < len(facts) {
		next := -1
		for k, i := range facts {
			if used[k] {
				continue
			}
			if next < 0 {
				next = k // nothing connects: the first left
			}
			if slices.ContainsFunc(vars[i], func(v int) bool { return seen[v] }) {
				next = k
				break
			}
		}
		take(next)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
