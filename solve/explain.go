package solve

import (
	"context"
	"fmt"
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

// maxExplain bounds the statements a minimal core is searched among (one
// solver call each); a larger problem gets the request lines only.
const maxExplain = 4000

// explain finds a minimal unsatisfiable set of facts by deletion: each
// fact is dropped in turn, and stays out when the rest is still
// unsatisfiable. Request lines are tried last, so the core keeps them
// when it can.
func (m *model) explain(ctx context.Context) error {
	order := make([]int, 0, len(m.facts))
	for i := 1; i < len(m.facts); i++ {
		order = append(order, i)
	}
	rank := map[string]int{"conflicts": 0, "depends": 1, "keep": 2, "request": 3}
	sort.SliceStable(order, func(a, b int) bool { return rank[m.facts[order[a]].kind] < rank[m.facts[order[b]].kind] })
	keep := make([]bool, len(m.facts))
	for _, i := range order {
		keep[i] = true
	}
	unsat := func() (bool, error) {
		saved := m.cons
		var cs []constraint
		for _, c := range saved {
			if c.why != 0 && keep[c.why] {
				cs = append(cs, c)
			}
		}
		m.cons = cs
		_, ok, err := m.solve(ctx, nil)
		m.cons = saved
		return !ok, err
	}
	if len(order) <= maxExplain {
		for _, i := range order {
			keep[i] = false
			still, err := unsat()
			if err != nil {
				return err
			}
			if !still {
				keep[i] = true
			}
		}
	}
	e := &UnsatError{}
	// Requests first, then the rest in the order the problem states them.
	for _, kind := range []string{"request", "keep", "depends", "conflicts"} {
		for i := 1; i < len(m.facts); i++ {
			if keep[i] && m.facts[i].kind == kind && (len(order) <= maxExplain || kind == "request") {
				e.Reasons = append(e.Reasons, m.facts[i].text)
			}
		}
	}
	if len(order) > maxExplain {
		e.Reasons = append(e.Reasons, fmt.Sprintf("some of the %d dependencies, conflicts and keeps it reaches (too many to narrow down to a minimal set)", len(order)))
	}
	return e
}
