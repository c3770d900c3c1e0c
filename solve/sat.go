package solve

import (
	"context"
	"fmt"

	"github.com/crillab/gophersat/solver"
)

// solve finds a model of m's constraints and extra ones: model[v] is
// variable v's value (index 0 unused); false when there is none.
func (m *model) solve(ctx context.Context, extra []constraint) ([]bool, bool, error) {
	// The model's own constraints are converted once and reused: the
	// optimization and the explanations solve it many times over with
	// other extra ones (gophersat copies what it keeps; unweighted
	// constraints are not changed by it).
	if m.base == nil || m.baseOf != len(m.cons) {
		base, ok := convert(m.cons, nil)
		m.base, m.baseOf, m.baseOK = base, len(m.cons), ok
	}
	if !m.baseOK {
		return nil, false, nil
	}
	pbs, ok := convert(extra, append([]solver.PBConstr(nil), m.base...))
	if !ok {
		return nil, false, nil
	}
	// Variables no constraint names stay false: not installed, which
	// nothing forbids.
	pb := solver.ParsePBConstrs(pbs)
	if pb.Status == solver.Unsat {
		return nil, false, nil
	}
	s := solver.New(pb)
	done := make(chan solver.Status, 1)
	var crash any
	go func() {
		defer func() {
			if r := recover(); r != nil {
				crash = r
				done <- solver.Indet
			}
		}()
		done <- s.Solve()
	}()
	var st solver.Status
	select {
	case st = <-done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if crash != nil {
		return nil, false, fmt.Errorf("the SAT solver failed on %d variables, %d constraints: %v", m.nvars, len(pbs), crash)
	}
	if st != solver.Sat {
		return nil, false, nil
	}
	raw := s.Model()
	model := make([]bool, m.nvars+1)
	for i := 0; i < len(raw) && i < m.nvars; i++ {
		model[i+1] = raw[i]
	}
	return model, true, nil
}

// convert appends constraints to pbs as gophersat's; false when one can
// never hold.
func convert(cons []constraint, pbs []solver.PBConstr) ([]solver.PBConstr, bool) {
	for _, c := range cons {
		switch {
		case c.weights != nil:
			if c.atMost < 0 {
				return nil, false // positive weights: never holds
			}
			pbs = append(pbs, solver.LtEq(append([]int(nil), c.lits...), append([]int(nil), c.weights...), c.atMost))
		case c.atMost >= 0:
			if c.atMost >= len(c.lits) {
				continue // always holds
			}
			lits, _ := tidy(c.lits)
			pbs = append(pbs, solver.AtMost(lits, c.atMost))
		case len(c.lits) == 0:
			return nil, false // an empty disjunction
		default:
			lits, taut := tidy(c.lits)
			if taut {
				continue // x ∨ ¬x always holds
			}
			pbs = append(pbs, solver.PropClause(lits...))
		}
	}
	return pbs, true
}

// tidy drops repeated literals; taut reports a literal and its negation
// both present (gophersat's learning assumes neither happens). Short
// lists, the usual ones, are searched without a map.
func tidy(lits []int) (out []int, taut bool) {
	if len(lits) <= 16 {
		out = make([]int, 0, len(lits))
	next:
		for _, l := range lits {
			for _, o := range out {
				switch o {
				case -l:
					return nil, true
				case l:
					continue next
				}
			}
			out = append(out, l)
		}
		return out, false
	}
	seen := make(map[int]bool, len(lits))
	for _, l := range lits {
		if seen[-l] {
			return nil, true
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, false
}
