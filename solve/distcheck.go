package solve

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hitch-hpc/hitch/cudf"
)

// Broken is a package that no installation can hold: Why is the
// explanation (sentences) of why it cannot be installed; Chain, when the
// cause is a dependency nothing satisfies, the dependencies that lead
// there (the last one missing).
type Broken struct {
	Package *cudf.Package
	Why     []string
	Chain   []Step
}

// Step is one dependency of a chain: Package depends on one of Depends,
// all of which are broken — or, for the last step, absent.
type Step struct {
	Package *cudf.Package
	Depends []cudf.VPkg
}

// Installability checks every package of a universe, as dose-distcheck
// does: can it be installed at all, alone with whatever it needs (the
// installed flags and the request are ignored)? A greedy walk down each
// package's dependencies finds an installation for most; the rest are
// decided by the solver, over what the package can reach. Every package
// of an installation found is installable too, and is not asked again.
//
// terms write the reasons (nil: CUDF's own words).
func Installability(ctx context.Context, pkgs []*cudf.Package, terms Terms) ([]Broken, error) {
	// The universe without installed packages.
	clean := make([]*cudf.Package, len(pkgs))
	for i, p := range pkgs {
		q := *p
		q.Installed, q.Keep = false, cudf.KeepNone
		clean[i] = &q
	}
	u := newUniverse(clean)
	if terms != nil {
		u.terms = terms
	}
	ok := make([]bool, len(clean))
	var broken []Broken
	var brokenIdx []int
	g := newGreedy(u)
	for i := range clean {
		if ok[i] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if set, found := g.try(i); found {
			for _, j := range set {
				ok[j] = true
			}
			continue
		}
		// The solver decides: install this package, nothing else asked.
		req := &cudf.Request{Install: []cudf.VPkg{{Name: clean[i].Name, Op: cudf.Eq, Version: clean[i].Version}}}
		m := u.model(req, false)
		if m.err != nil {
			return nil, m.err
		}
		model, sat, err := m.solve(ctx, nil)
		if err != nil {
			return nil, err
		}
		if sat {
			for j := range clean {
				if v := m.varOf[j]; v > 0 && model[v] {
					ok[j] = true
				}
			}
			ok[i] = true
			continue
		}
		broken = append(broken, Broken{Package: pkgs[i]})
		brokenIdx = append(brokenIdx, i)
	}
	// Why: a chain of dependencies down to one that nothing satisfies
	// (dose's "missing"), when there is one; else a minimal set of
	// statements that cannot hold together.
	index := map[*cudf.Package]int{}
	for i, p := range clean {
		index[p] = i
	}
	isBroken := map[int]bool{}
	for _, i := range brokenIdx {
		isBroken[i] = true
	}
	for k, i := range brokenIdx {
		if chain, steps := missingChain(u, i, isBroken); chain != nil {
			broken[k].Why, broken[k].Chain = chain, steps
			for n := range steps {
				steps[n].Package = pkgs[index[steps[n].Package]]
			}
			continue
		}
		m := u.model(&cudf.Request{Install: []cudf.VPkg{{Name: clean[i].Name, Op: cudf.Eq, Version: clean[i].Version}}}, false)
		broken[k].Why = []string{fmt.Sprintf("%s cannot be installed", u.terms.Package(clean[i]))}
		if err := m.explain(ctx); err != nil {
			ue, ok := err.(*UnsatError)
			if !ok {
				return nil, err
			}
			broken[k].Why = ue.Reasons
		}
	}
	return broken, nil
}

// missingChain follows, from package i, a dependency all of whose
// alternatives are broken or absent, down to one that no package
// satisfies; nil when the breakage is not of that kind (conflicts).
func missingChain(u *universe, i int, broken map[int]bool) ([]string, []Step) {
	var chain []string
	var steps []Step
	seen := map[int]bool{}
	for {
		if seen[i] {
			return nil, nil
		}
		seen[i] = true
		p := u.pkgs[i]
		next := -1
		for _, or := range p.Depends {
			dead, via := true, -1
			for _, vp := range or {
				for _, j := range u.candidates(vp) {
					if !broken[j] {
						dead = false
					} else if via < 0 {
						via = j
					}
				}
			}
			if !dead {
				continue
			}
			alts := make([]string, len(or))
			for k, vp := range or {
				alts[k] = vp.String()
			}
			steps = append(steps, Step{Package: p, Depends: or})
			if via < 0 {
				return append(chain, fmt.Sprintf("%s depends on %s, which no package satisfies", p, strings.Join(alts, " or "))), steps
			}
			chain = append(chain, fmt.Sprintf("%s depends on %s, and %s cannot be installed", p, strings.Join(alts, " or "), u.pkgs[via]))
			next = via
			break
		}
		if next < 0 {
			return nil, nil
		}
		i = next
	}
}

// greedy looks for an installation of one package by walking down its
// dependencies, taking for each disjunction the first alternative that
// conflicts with nothing taken so far; it gives up, rather than
// backtracking, at the first dead end.
//
// Its sets are marks stamped with the try's number (no clearing between
// tries), and each package's dependencies and conflicts are resolved to
// package indexes once, on first use.
type greedy struct {
	u     *universe
	epoch uint32
	// in marks the packages taken, listed in taken; banned those a
	// package taken conflicts with.
	in, banned []uint32
	taken      []int
	// deps[i] are package i's disjunctions as candidate lists, confl[i]
	// the packages it conflicts with (never itself); resolved[i] says
	// they are computed.
	deps     [][][]int
	confl    [][]int
	resolved []bool
}

func newGreedy(u *universe) *greedy {
	n := len(u.pkgs)
	return &greedy{u: u, in: make([]uint32, n), banned: make([]uint32, n),
		deps: make([][][]int, n), confl: make([][]int, n), resolved: make([]bool, n)}
}

// resolve computes package i's candidate lists.
func (g *greedy) resolve(i int) {
	if g.resolved[i] {
		return
	}
	g.resolved[i] = true
	p := g.u.pkgs[i]
	g.deps[i] = g.u.depsOf(i)
	for _, vp := range p.Conflicts {
		for _, j := range g.u.candidates(vp) {
			if j != i {
				g.confl[i] = append(g.confl[i], j)
			}
		}
	}
}

// try returns the packages of an installation of root, if the walk finds
// one (the slice is reused by the next try).
func (g *greedy) try(root int) ([]int, bool) {
	g.epoch++
	g.taken = g.taken[:0]
	if !g.take(root) {
		return nil, false
	}
	// Every dependency of every package taken holds, and no two conflict:
	// checked again on the whole set, whatever the order of taking.
	for _, i := range g.taken {
		for _, c := range g.deps[i] {
			if !slices.ContainsFunc(c, g.has) {
				return nil, false
			}
		}
		if slices.ContainsFunc(g.confl[i], g.has) {
			return nil, false
		}
	}
	return g.taken, true
}

func (g *greedy) has(i int) bool { return g.in[i] == g.epoch }

// take adds package i and, depth first, an alternative for each of its
// dependencies.
func (g *greedy) take(i int) bool {
	if g.has(i) {
		return true
	}
	if g.conflicts(i) {
		return false
	}
	g.in[i] = g.epoch
	g.taken = append(g.taken, i)
	for _, k := range g.confl[i] {
		g.banned[k] = g.epoch
	}
	for _, c := range g.deps[i] {
		if len(g.taken) > 1<<14 {
			return false // too deep for a greedy walk: the solver decides
		}
		if slices.ContainsFunc(c, g.has) {
			continue
		}
		took := false
		for _, j := range c {
			if !g.conflicts(j) && g.take(j) {
				took = true
				break
			}
		}
		if !took {
			return false
		}
	}
	return true
}

// conflicts reports whether package i conflicts, either way, with a
// package taken (resolving i first).
func (g *greedy) conflicts(i int) bool {
	g.resolve(i)
	if g.banned[i] == g.epoch {
		return true
	}
	return slices.ContainsFunc(g.confl[i], g.has)
}
