// Package solve answers CUDF requests: which packages to have installed
// so that every installed package's dependencies hold, no two installed
// packages conflict (a package never conflicts with itself), the keep
// properties and the request (install, remove, upgrade) hold — CUDF 2.0's
// semantics — and, among such installations, the best by a criterion.
//
// The universe is sliced first (only what the request and the installed
// packages can reach enters the model), encoded as clauses and cardinality
// constraints, and solved with gophersat behind the small Solver
// interface. Optimization is lexicographic and proven: each objective is
// minimized by binary search on a bound (solving under it, and tightening
// to the model found or raising the floor when there is none), then fixed
// at its optimum before the next.
package solve

import (
	"context"
	"errors"
	"fmt"
	"github.com/crillab/gophersat/solver"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/cudf"
)

// ErrUnsat is returned when no installation satisfies the request.
var ErrUnsat = errors.New("no installation satisfies the request")

// Options change a Solve.
type Options struct {
	// Criteria are optimized in order; none: any solution.
	Criteria []Criterion
	// Terms write packages and constraints in explanations; nil: CUDF's
	// own ("libfoo 3", "libbar >= 2").
	Terms Terms
}

// Terms write a universe's packages and constraints in the words of
// where they came from (Debian's "libc6 2.36-9", "libc6 (>= 2.38)").
type Terms interface {
	Package(p *cudf.Package) string
	Constraint(vp cudf.VPkg) string
}

// cudfTerms are CUDF's own words.
type cudfTerms struct{}

func (cudfTerms) Package(p *cudf.Package) string { return p.String() }
func (cudfTerms) Constraint(vp cudf.VPkg) string { return vp.String() }

// Result is a solution.
type Result struct {
	// Installed are the packages installed in the solution, by name and
	// version.
	Installed []*cudf.Package
	// Objective is each criterion's value, in order.
	Objective []int
	// Optimal is set when every criterion's value is proven the least;
	// when the context ends first, Solve returns the best so far.
	Optimal bool
	// Vars and Constraints count the model solved (after slicing).
	Vars, Constraints int
}

// Solve answers doc's request over its universe.
func Solve(ctx context.Context, doc *cudf.Document, opts Options) (*Result, error) {
	if doc.Request == nil {
		return nil, errors.New("the document has no request")
	}
	// Packages in name and version order, not the document's: the same
	// answer whatever the order of its stanzas.
	pkgs := append([]*cudf.Package(nil), doc.Packages...)
	sort.SliceStable(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Version < pkgs[j].Version
	})
	u := newUniverse(pkgs)
	if opts.Terms != nil {
		u.terms = opts.Terms
	}
	m := u.model(doc.Request, rewardsUnreached(doc, opts.Criteria))
	if m.err != nil {
		return nil, m.err
	}
	// The objectives' variables and definitions join the model first;
	// each is a cost to minimize (a maximized criterion negated).
	costs := make([]linear, len(opts.Criteria))
	for k, c := range opts.Criteria {
		l, err := m.objective(c, doc.Request)
		if err != nil {
			return nil, err
		}
		if c.Maximize {
			l = l.negated()
		}
		l.normalize()
		costs[k] = l
	}
	res := &Result{Vars: m.nvars, Constraints: len(m.cons)}
	model, ok, err := m.solve(ctx, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, m.explain(ctx)
	}
	res.Optimal = true
	var fixed []constraint
	for _, cost := range costs {
		// Binary search between what no model can beat (lo) and the best
		// model found (best): about log2(best−lo) solver calls where
		// tightening one at a time takes best−lo.
		best, lo := cost.value(model), cost.offset
		for lo < best && res.Optimal {
			mid := lo + (best-lo)/2
			next, ok, err := m.solve(ctx, append(fixed, cost.atMost(mid)))
			if err != nil {
				if ctx.Err() == nil {
					return nil, err
				}
				// Out of time: the best so far, not proven optimal.
				res.Optimal = false
				break
			}
			if ok {
				model, best = next, cost.value(next)
			} else {
				lo = mid + 1
			}
		}
		fixed = append(fixed, cost.atMost(best))
	}
	for k, cost := range costs {
		v := cost.value(model)
		if opts.Criteria[k].Maximize {
			v = -v
		}
		res.Objective = append(res.Objective, v)
	}
	for i, p := range u.pkgs {
		if v := m.varOf[i]; v > 0 && model[v] {
			res.Installed = append(res.Installed, p)
		}
	}
	return res, nil
}

// universe indexes packages by name and by the features they provide.
type universe struct {
	pkgs   []*cudf.Package
	byName map[string][]int
	// provides maps a feature to the packages providing it, with the
	// provided version (0: every version).
	provides map[string][]provider
	// memo holds candidates already computed (a universe is used by one
	// goroutine).
	memo map[cudf.VPkg][]int
	// terms write explanations.
	terms Terms
	// deps[i] are package i's dependencies as candidate lists, one per
	// disjunction (the alternatives' candidates, in order), resolved
	// on first use (depsOf).
	deps [][][]int
}

// depsOf is package i's dependencies as candidate lists.
func (u *universe) depsOf(i int) [][]int {
	if u.deps[i] == nil {
		d := make([][]int, len(u.pkgs[i].Depends))
		for k, or := range u.pkgs[i].Depends {
			for _, vp := range or {
				d[k] = append(d[k], u.candidates(vp)...)
			}
		}
		u.deps[i] = d
	}
	return u.deps[i]
}

type provider struct {
	pkg     int
	version int64 // 0: unversioned
}

func newUniverse(pkgs []*cudf.Package) *universe {
	u := &universe{pkgs: pkgs, byName: map[string][]int{}, provides: map[string][]provider{}, memo: map[cudf.VPkg][]int{}, terms: cudfTerms{}, deps: make([][][]int, len(pkgs))}
	for i, p := range pkgs {
		u.byName[p.Name] = append(u.byName[p.Name], i)
		for _, f := range p.Provides {
			v := int64(0)
			if f.Op == cudf.Eq {
				v = f.Version
			}
			u.provides[f.Name] = append(u.provides[f.Name], provider{pkg: i, version: v})
		}
	}
	return u
}

// candidates are the packages that satisfy vp: of that name and a
// matching version, or providing it (an unversioned provision satisfies
// every constraint), sorted.
func (u *universe) candidates(vp cudf.VPkg) []int {
	if c, ok := u.memo[vp]; ok {
		return c
	}
	c := u.findCandidates(vp)
	u.memo[vp] = c
	return c
}

func (u *universe) findCandidates(vp cudf.VPkg) []int {
	out := u.named(vp)
	for _, pr := range u.provides[vp.Name] {
		if pr.version == 0 || vp.Op.Holds(pr.version, vp.Version) {
			out = append(out, pr.pkg)
		}
	}
	sort.Ints(out)
	// A package both named and providing it counts once.
	j := 0
	for i, x := range out {
		if i == 0 || x != out[j-1] {
			out[j] = x
			j++
		}
	}
	return out[:j]
}

// constraint is sum of lits >= atLeast, or (atMost >= 0) sum <= atMost,
// the sum weighted when weights are given.
type constraint struct {
	lits    []int
	weights []int // nil: every weight 1
	atLeast int
	atMost  int // -1 for none
	// why is the index of the fact it encodes in model.facts, 0 for
	// none (objectives, bounds).
	why int
}

func clause(lits ...int) constraint { return constraint{lits: lits, atLeast: 1, atMost: -1} }

func atMost(lits []int, n int) constraint {
	return constraint{lits: append([]int(nil), lits...), atMost: n}
}

// model is the encoded problem.
type model struct {
	u     *universe
	varOf []int // package index → variable (0: sliced away, never installed)
	nvars int
	cons  []constraint
	// wasInstalled names: their versions installed before.
	before map[string][]int
	err    error
	names  []string // the names in the model, sorted
	// facts are what the constraints say, in words (index 0 unused).
	facts []fact
	// base is cons converted for the SAT solver (baseOf constraints of
	// them; baseOK false when one can never hold).
	base   []solver.PBConstr
	baseOf int
	baseOK bool
}

// fact is one statement of the problem: a request line, a package's
// dependency or conflict, a keep.
type fact struct {
	kind string        // "request", "depends", "conflicts", "keep"
	say  func() string // the statement, in the universe's terms
}

// add appends constraints for a new fact.
func (m *model) add(kind string, say func() string, cs ...constraint) {
	m.facts = append(m.facts, fact{kind: kind, say: say})
	for _, c := range cs {
		c.why = len(m.facts) - 1
		m.cons = append(m.cons, c)
	}
}

func (m *model) newVar() int {
	m.nvars++
	return m.nvars
}

// dependsText says a dependency: "a 1 depends on b or c (which no
// package is or provides)".
func (u *universe) dependsText(p *cudf.Package, or []cudf.VPkg) string {
	var alts []string
	seen := map[string]bool{}
	for _, vp := range or {
		alt := u.terms.Constraint(vp)
		if len(u.candidates(vp)) == 0 {
			alt += " (which no package is or provides)"
		}
		if !seen[alt] {
			seen[alt] = true
			alts = append(alts, alt)
		}
	}
	return fmt.Sprintf("%s depends on %s", u.terms.Package(p), strings.Join(alts, " or "))
}

// lit is the variable of package i, or 0 when it is sliced away.
func (m *model) lit(i int) int { return m.varOf[i] }

// model slices the universe and encodes the request.
func (u *universe) model(req *cudf.Request, whole bool) *model {
	m := &model{u: u, varOf: make([]int, len(u.pkgs)), before: map[string][]int{}, facts: []fact{{}}}
	// Slice: from the installed packages and the request's candidates,
	// along dependencies and recommendations, with every version of a
	// name reached (and the providers a kept feature needs).
	reach := make([]bool, len(u.pkgs))
	var queue []int
	push := func(i int) {
		if !reach[i] {
			reach[i] = true
			queue = append(queue, i)
		}
	}
	for i, p := range u.pkgs {
		if p.Installed {
			// Every version of an installed name: another may replace
			// one that can no longer stay.
			for _, j := range u.byName[p.Name] {
				push(j)
			}
			m.before[p.Name] = append(m.before[p.Name], i)
		}
	}
	if whole {
		// Criteria that may reward any package: no slicing.
		for i := range u.pkgs {
			push(i)
		}
	}
	for _, l := range [][]cudf.VPkg{req.Install, req.Upgrade} {
		for _, vp := range l {
			for _, i := range u.candidates(vp) {
				push(i)
			}
			for _, i := range u.byName[vp.Name] {
				push(i)
			}
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		p := u.pkgs[i]
		// Every version of a reached name (an installed name's newest
		// makes it up to date), and what it depends on or recommends
		// (a recommendation met counts for unsat_recommends).
		for _, j := range u.byName[p.Name] {
			push(j)
		}
		for _, c := range u.depsOf(i) {
			for _, j := range c {
				push(j)
			}
		}
		if v, ok := p.Get("recommends"); ok && v.Type.Kind == cudf.Vpkgformula {
			for _, or := range v.Formula {
				for _, vp := range or {
					for _, j := range u.candidates(vp) {
						push(j)
					}
				}
			}
		}
		if p.Installed && p.Keep == cudf.KeepFeature {
			for _, f := range p.Provides {
				for _, j := range u.candidates(cudf.VPkg{Name: f.Name}) {
					push(j)
				}
			}
		}
		if p.Installed && p.Keep == cudf.KeepPackage {
			for _, j := range u.byName[p.Name] {
				push(j)
			}
		}
	}
	names := map[string]bool{}
	for i, ok := range reach {
		if ok {
			m.varOf[i] = m.newVar()
			names[u.pkgs[i].Name] = true
		}
	}
	for n := range names {
		m.names = append(m.names, n)
	}
	sort.Strings(m.names)
	// lits of the reachable candidates of vp.
	cands := func(vp cudf.VPkg, except int) []int {
		var out []int
		for _, j := range u.candidates(vp) {
			if j != except && m.lit(j) != 0 {
				out = append(out, m.lit(j))
			}
		}
		return out
	}
	for i, p := range u.pkgs {
		x := m.lit(i)
		if x == 0 {
			continue
		}
		// Dependencies: x → each disjunction. What each constraint says
		// is written only when an explanation needs it.
		for k, or := range p.Depends {
			lits := []int{-x}
			for _, j := range u.depsOf(i)[k] {
				if y := m.lit(j); y != 0 {
					lits = append(lits, y)
				}
			}
			m.add("depends", func() string { return u.dependsText(p, or) }, clause(lits...))
		}
		// Conflicts: never with itself.
		for _, vp := range p.Conflicts {
			var cs []constraint
			for _, y := range cands(vp, i) {
				cs = append(cs, clause(-x, -y))
			}
			switch {
			case len(cs) == 0:
			case vp.Name == p.Name && vp.Op == "":
				m.add("conflicts", func() string {
					return fmt.Sprintf("only one version of %s can be installed at a time", u.terms.Constraint(vp))
				}, cs...)
			default:
				m.add("conflicts", func() string {
					return fmt.Sprintf("%s conflicts with %s", u.terms.Package(p), u.terms.Constraint(vp))
				}, cs...)
			}
		}
		if !p.Installed {
			continue
		}
		switch p.Keep {
		case cudf.KeepVersion:
			m.add("keep", func() string { return fmt.Sprintf("%s must stay installed (keep: version)", u.terms.Package(p)) }, clause(x))
		case cudf.KeepPackage:
			var lits []int
			for _, j := range u.byName[p.Name] {
				if m.lit(j) != 0 {
					lits = append(lits, m.lit(j))
				}
			}
			m.add("keep", func() string {
				return fmt.Sprintf("some version of %s must stay installed (keep: package)", u.terms.Constraint(cudf.VPkg{Name: p.Name}))
			}, clause(lits...))
		case cudf.KeepFeature:
			for _, f := range p.Provides {
				m.add("keep", func() string {
					return fmt.Sprintf("something must keep providing %s, as %s does (keep: feature)", u.terms.Constraint(cudf.VPkg{Name: f.Name}), u.terms.Package(p))
				}, clause(cands(cudf.VPkg{Name: f.Name}, -1)...))
			}
		}
	}
	// The request.
	for _, vp := range req.Install {
		lits := cands(vp, -1)
		if len(lits) == 0 {
			m.err = &UnsatError{Reasons: []string{fmt.Sprintf("the request installs %s, which no package is or provides", u.terms.Constraint(vp))}}
			return m
		}
		m.add("request", func() string { return fmt.Sprintf("the request installs %s", u.terms.Constraint(vp)) }, clause(lits...))
	}
	for _, vp := range req.Remove {
		var cs []constraint
		for _, y := range cands(vp, -1) {
			cs = append(cs, clause(-y))
		}
		m.add("request", func() string { return fmt.Sprintf("the request removes %s", u.terms.Constraint(vp)) }, cs...)
	}
	for _, vp := range req.Upgrade {
		// One version of the name, satisfying the constraint, not older
		// than any installed now.
		var newest int64
		installed := "nothing installed"
		for _, i := range m.before[vp.Name] {
			if u.pkgs[i].Version > newest {
				newest = u.pkgs[i].Version
				installed = "the installed " + u.terms.Package(u.pkgs[i])
			}
		}
		var all, ok []int
		for _, i := range u.byName[vp.Name] {
			if m.lit(i) == 0 {
				continue
			}
			all = append(all, m.lit(i))
			if vp.Op.Holds(u.pkgs[i].Version, vp.Version) && u.pkgs[i].Version >= newest {
				ok = append(ok, m.lit(i))
			}
		}
		if len(ok) == 0 {
			m.err = &UnsatError{Reasons: []string{fmt.Sprintf("the request upgrades %s, and no version of %s satisfies it and is at least the installed one", u.terms.Constraint(vp), u.terms.Constraint(cudf.VPkg{Name: vp.Name}))}}
			return m
		}
		m.add("request", func() string {
			return fmt.Sprintf("the request upgrades %s: one version of %s, no older than %s", u.terms.Constraint(vp), u.terms.Constraint(cudf.VPkg{Name: vp.Name}), installed)
		}, clause(ok...), atMost(all, 1))
	}
	return m
}
