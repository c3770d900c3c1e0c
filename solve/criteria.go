package solve

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hitch-hpc/hitch/cudf"
)

// Criterion is one objective of MISC 2012's user track: a measure of a
// set of packages, minimized or maximized.
//
// The sets are taken between the initial installation I and a solution
// S, package version by package version (aspcud's specification.lp, the
// reference, spells them out):
//
//	solution        installed in S
//	changed         installed in exactly one of I and S
//	new             installed in S, its name not installed in I
//	removed         installed in I, its name not installed in S
//	up              installed in S, its name installed in I, newer than every version there
//	down            installed in S, its name installed in I, older than every version there
//	installrequest  installed in S, named by a line of the request's install, at a version it accepts
//	upgraderequest  the same for upgrade
//	request         either
//
// and the measures count(SET), sum(SET,ATTR) (an integer property),
// notuptodate(SET) (versions older than their name's newest in the
// universe) and unsat_recommends(SET) (disjunctions of the set's
// "recommends" property that S does not satisfy).
//
// So changed counts versions, as aspcud does: given the choice between
// moving two installed packages to new versions (two names, four
// versions) and installing three new ones, aspcud takes the second and
// mccs, which counts names as MISC 2010 did, the first
// (testdata/changed-versions.cudf).
type Criterion struct {
	Maximize bool
	Measure  Measure
	Set      Set
	Attr     string // sum's property
}

// Measure is what a criterion measures of its set.
type Measure string

// Set names a set of packages between the initial installation and a
// solution.
type Set string

// The measures.
const (
	Count         Measure = "count"
	Sum           Measure = "sum"
	NotUpToDateOf Measure = "notuptodate"
	UnsatRecommOf Measure = "unsat_recommends"
	SetSolution   Set     = "solution"
	SetChanged    Set     = "changed"
	SetNew        Set     = "new"
	SetRemoved    Set     = "removed"
	SetUp         Set     = "up"
	SetDown       Set     = "down"
	SetInstallReq Set     = "installrequest"
	SetUpgradeReq Set     = "upgraderequest"
	SetRequest    Set     = "request"
)

var sets = []Set{SetSolution, SetChanged, SetNew, SetRemoved, SetUp, SetDown, SetInstallReq, SetUpgradeReq, SetRequest}

// The criteria of MISC 2010 and their names there, all minimized.
var (
	Removed         = Criterion{Measure: Count, Set: SetRemoved}
	Changed         = Criterion{Measure: Count, Set: SetChanged}
	New             = Criterion{Measure: Count, Set: SetNew}
	NotUpToDate     = Criterion{Measure: NotUpToDateOf, Set: SetSolution}
	UnsatRecommends = Criterion{Measure: UnsatRecommOf, Set: SetSolution}
)

// Paranoid is MISC's paranoid criterion: fewest removed, then fewest
// changed.
var Paranoid = []Criterion{Removed, Changed}

// Trendy is MISC's trendy criterion: fewest removed, then fewest not up
// to date, unsatisfied recommendations, new.
var Trendy = []Criterion{Removed, NotUpToDate, UnsatRecommends, New}

// String writes c in the MISC 2012 language, as aspcud reads it.
func (c Criterion) String() string {
	sign := "-"
	if c.Maximize {
		sign = "+"
	}
	if c.Measure == Sum {
		return fmt.Sprintf("%ssum(%s,%s)", sign, c.Set, c.Attr)
	}
	return fmt.Sprintf("%s%s(%s)", sign, c.Measure, c.Set)
}

// FormatCriteria writes criteria as a list aspcud reads.
func FormatCriteria(cs []Criterion) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ",")
}

const criteriaHelp = "paranoid, trendy, or a list of SIGN count(SET), SIGN sum(SET,PROPERTY), SIGN notuptodate(SET), SIGN unsat_recommends(SET) where SIGN is - (minimize) or + (maximize) and SET one of solution, changed, new, removed, up, down, installrequest, upgraderequest, request; MISC 2010's -removed, -new, -changed, -notuptodate, -unsat_recommends, -sum(PROPERTY) are read too"

// ParseCriteria reads "paranoid", "trendy", or a list of criteria in the
// MISC 2012 language as aspcud reads it: "-removed,-count(down),
// +sum(solution,installedsize),-notuptodate(changed)".
func ParseCriteria(s string) ([]Criterion, error) {
	switch strings.TrimSpace(s) {
	case "paranoid":
		return Paranoid, nil
	case "trendy":
		return Trendy, nil
	case "", "none":
		return nil, nil
	}
	var out []Criterion
	for _, part := range splitCriteria(s) {
		c, err := parseCriterion(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// splitCriteria splits at the commas outside parentheses.
func splitCriteria(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseCriterion(part string) (Criterion, error) {
	var c Criterion
	switch {
	case strings.HasPrefix(part, "-"):
	case strings.HasPrefix(part, "+"):
		c.Maximize = true
	default:
		return c, fmt.Errorf("criterion %q: want a sign, - to minimize or + to maximize", part)
	}
	body := strings.TrimSpace(part[1:])
	name, args, hasArgs := strings.Cut(body, "(")
	name = strings.TrimSpace(name)
	var list []string
	if hasArgs {
		inner, ok := strings.CutSuffix(strings.TrimSpace(args), ")")
		if !ok {
			return c, fmt.Errorf("criterion %q: no closing parenthesis", part)
		}
		for _, a := range strings.Split(inner, ",") {
			list = append(list, strings.TrimSpace(a))
		}
	}
	set := func(s string) (Set, error) {
		for _, k := range sets {
			if Set(s) == k {
				return k, nil
			}
		}
		return "", fmt.Errorf("criterion %q: unknown set %q (known: solution, changed, new, removed, up, down, installrequest, upgraderequest, request)", part, s)
	}
	var err error
	switch {
	case !hasArgs && (name == "removed" || name == "new" || name == "changed"):
		c.Measure, c.Set = Count, Set(name)
	case !hasArgs && name == string(NotUpToDateOf):
		c.Measure, c.Set = NotUpToDateOf, SetSolution
	case !hasArgs && name == string(UnsatRecommOf):
		c.Measure, c.Set = UnsatRecommOf, SetSolution
	case hasArgs && len(list) == 1 && name == "unsatrecommends":
		// apt-cudf 7 writes unsat_recommends(SET) so; aspcud refuses it.
		c.Measure = UnsatRecommOf
		c.Set, err = set(list[0])
	case hasArgs && len(list) == 1 && (name == string(Count) || name == string(NotUpToDateOf) || name == string(UnsatRecommOf)):
		c.Measure = Measure(name)
		c.Set, err = set(list[0])
	case hasArgs && name == string(Sum) && len(list) == 1:
		// MISC 2011's sum(PROPERTY), over the solution.
		c.Measure, c.Set, c.Attr = Sum, SetSolution, list[0]
	case hasArgs && name == string(Sum) && len(list) == 2:
		c.Measure, c.Attr = Sum, list[1]
		c.Set, err = set(list[0])
	case name == "aligned":
		return c, fmt.Errorf("criterion %q: aligned is not supported by hitch", part)
	default:
		return c, fmt.Errorf("criterion %q: not a criterion (known: %s)", part, criteriaHelp)
	}
	if c.Measure == Sum && c.Attr == "" {
		return c, fmt.Errorf("criterion %q: sum wants a property", part)
	}
	return c, err
}

// attrValue is package p's value of the integer property attr.
func attrValue(p *cudf.Package, attr string) (int64, error) {
	if attr == "version" {
		return p.Version, nil
	}
	v, ok := p.Get(attr)
	if !ok {
		return 0, fmt.Errorf("sum(%s): package %s has no property %q (declare it in the preamble, with a default)", attr, p, attr)
	}
	switch v.Type.Kind {
	case cudf.Int, cudf.Posint, cudf.Nat:
		return v.Int, nil
	}
	return 0, fmt.Errorf("sum(%s): property %q of %s is a %s", attr, attr, p, v.Type)
}

// Properties are the extra package properties criteria read: what a
// parser must keep (cudf.ParseOptions) for Solve to measure them.
func Properties(cs []Criterion) []string {
	var out []string
	for _, c := range cs {
		switch {
		case c.Measure == UnsatRecommOf && !slices.Contains(out, "recommends"):
			out = append(out, "recommends")
		case c.Measure == Sum && c.Attr != "version" && !slices.Contains(out, c.Attr):
			out = append(out, c.Attr)
		}
	}
	return out
}

// rewardsUnreached reports whether a criterion can prefer a solution that
// installs a package nothing in the request or the installation reaches:
// one that maximizes, or sums a property that may be negative. Such
// criteria are solved over the whole universe.
func rewardsUnreached(doc *cudf.Document, cs []Criterion) bool {
	for _, c := range cs {
		if c.Maximize {
			return true
		}
		if c.Measure != Sum || c.Attr == "version" || doc.Preamble == nil {
			continue
		}
		if d := doc.Preamble.Decl(c.Attr); d != nil && d.Type.Kind == cudf.Int {
			return true
		}
	}
	return false
}

// linear is an objective: offset + Σ weights[k]·lits[k], every weight
// positive after normalize.
type linear struct {
	lits    []int
	weights []int
	offset  int
}

func (l *linear) add(lit, w int) {
	if lit != 0 && w != 0 {
		l.lits = append(l.lits, lit)
		l.weights = append(l.weights, w)
	}
}

// normalize merges repeated variables and makes every weight positive
// (w·¬x = w − w·x), so that a bound is one pseudo-boolean constraint.
func (l *linear) normalize() {
	coef := map[int]int{}
	var order []int
	for k, lit := range l.lits {
		v, w := lit, l.weights[k]
		if lit < 0 {
			v = -lit
			l.offset += w
			w = -w
		}
		if _, ok := coef[v]; !ok {
			order = append(order, v)
		}
		coef[v] += w
	}
	l.lits, l.weights = l.lits[:0], l.weights[:0]
	for _, v := range order {
		switch w := coef[v]; {
		case w > 0:
			l.lits, l.weights = append(l.lits, v), append(l.weights, w)
		case w < 0:
			l.lits, l.weights = append(l.lits, -v), append(l.weights, -w)
			l.offset += w
		}
	}
}

// negated is −l.
func (l linear) negated() linear {
	n := linear{offset: -l.offset}
	for k, lit := range l.lits {
		n.add(lit, -l.weights[k])
	}
	return n
}

// value is l's value in a model.
func (l linear) value(model []bool) int {
	n := l.offset
	for k, lit := range l.lits {
		if lit > 0 && model[lit] || lit < 0 && !model[-lit] {
			n += l.weights[k]
		}
	}
	return n
}

// atMost is the constraint value ≤ n.
func (l linear) atMost(n int) constraint {
	c := constraint{lits: append([]int(nil), l.lits...), atMost: n - l.offset}
	for _, w := range l.weights {
		if w != 1 {
			c.weights = append([]int(nil), l.weights...)
			break
		}
	}
	return c
}

// members gives, for each package index, the literal that is true when
// it belongs to set s in a solution (0: never). The variables it needs
// are added to m.
func (m *model) members(s Set, req *cudf.Request) []int {
	u := m.u
	out := make([]int, len(u.pkgs))
	var matches map[int]bool
	if s == SetInstallReq || s == SetUpgradeReq || s == SetRequest {
		matches = map[int]bool{}
		var lines []cudf.VPkg
		if s != SetUpgradeReq {
			lines = append(lines, req.Install...)
		}
		if s != SetInstallReq {
			lines = append(lines, req.Upgrade...)
		}
		for _, vp := range lines {
			for _, i := range u.named(vp) {
				matches[i] = true
			}
		}
	}
	gone := map[string]int{} // removed: the name's "no version in S"
	for i, p := range u.pkgs {
		x := m.lit(i)
		before := m.before[p.Name]
		switch s {
		case SetSolution:
			out[i] = x
		case SetChanged:
			if p.Installed {
				out[i] = -x
			} else {
				out[i] = x
			}
		case SetNew:
			if len(before) == 0 {
				out[i] = x
			}
		case SetRemoved:
			if !p.Installed {
				continue
			}
			r, ok := gone[p.Name]
			if !ok {
				// r ↔ no version of the name installed.
				r = m.newVar()
				cl := []int{r}
				for _, j := range u.byName[p.Name] {
					if y := m.lit(j); y != 0 {
						cl = append(cl, y)
						m.cons = append(m.cons, clause(-r, -y))
					}
				}
				m.cons = append(m.cons, clause(cl...))
				gone[p.Name] = r
			}
			out[i] = r
		case SetUp, SetDown:
			if len(before) == 0 {
				continue
			}
			newer, older := true, true
			for _, j := range before {
				newer = newer && p.Version > u.pkgs[j].Version
				older = older && p.Version < u.pkgs[j].Version
			}
			if s == SetUp && newer || s == SetDown && older {
				out[i] = x
			}
		case SetInstallReq, SetUpgradeReq, SetRequest:
			if matches[i] {
				out[i] = x
			}
		}
	}
	return out
}

// named are the packages of vp's name and a version it accepts, not
// the providers: the packages a request line names, as cudf2lp counts
// them for installrequest and upgraderequest.
func (u *universe) named(vp cudf.VPkg) []int {
	var out []int
	for _, i := range u.byName[vp.Name] {
		if vp.Op.Holds(u.pkgs[i].Version, vp.Version) {
			out = append(out, i)
		}
	}
	return out
}

// objective encodes criterion c as a linear function of the model's
// variables, adding the definitions it needs.
func (m *model) objective(c Criterion, req *cudf.Request) (linear, error) {
	var l linear
	u := m.u
	in := m.members(c.Set, req)
	newest := map[string]int64{}
	if c.Measure == NotUpToDateOf {
		for _, p := range u.pkgs {
			newest[p.Name] = max(newest[p.Name], p.Version)
		}
	}
	for i, p := range u.pkgs {
		x := in[i]
		if x == 0 {
			continue
		}
		switch c.Measure {
		case Count:
			l.add(x, 1)
		case Sum:
			w, err := attrValue(p, c.Attr)
			if err != nil {
				return l, err
			}
			l.add(x, int(w))
		case NotUpToDateOf:
			if p.Version < newest[p.Name] {
				l.add(x, 1)
			}
		case UnsatRecommOf:
			v, ok := p.Get("recommends")
			if !ok || v.Type.Kind != cudf.Vpkgformula {
				continue
			}
			for _, or := range v.Formula {
				// un ↔ x ∧ no alternative installed.
				un := m.newVar()
				cl := []int{un, -x}
				m.cons = append(m.cons, clause(-un, x))
				for _, vp := range or {
					for _, j := range u.candidates(vp) {
						if y := m.lit(j); y != 0 {
							cl = append(cl, y)
							m.cons = append(m.cons, clause(-un, -y))
						}
					}
				}
				m.cons = append(m.cons, clause(cl...))
				l.add(un, 1)
			}
		default:
			return l, fmt.Errorf("unknown criterion %v (known: %s)", c, criteriaHelp)
		}
	}
	return l, nil
}

// Evaluate measures each criterion for an installation (a solution's
// packages, by name and version) of doc's universe: what a solver's
// answer is worth, whichever solver gave it. It reads the sets' defini-
// tions directly, apart from the encoding Solve uses.
func Evaluate(doc *cudf.Document, installed []*cudf.Package, criteria []Criterion) ([]int, error) {
	type nv struct {
		name string
		v    int64
	}
	after := map[nv]bool{}
	afterNames := map[string]bool{}
	for _, p := range installed {
		after[nv{p.Name, p.Version}] = true
		afterNames[p.Name] = true
	}
	before := map[string][]int64{}
	newest := map[string]int64{}
	for _, p := range doc.Packages {
		if p.Installed {
			before[p.Name] = append(before[p.Name], p.Version)
		}
		newest[p.Name] = max(newest[p.Name], p.Version)
	}
	req := doc.Request
	if req == nil {
		req = &cudf.Request{}
	}
	idx := newUniverse(doc.Packages)
	matching := func(lines []cudf.VPkg) map[int]bool {
		out := map[int]bool{}
		for _, vp := range lines {
			for _, i := range idx.named(vp) {
				out[i] = true
			}
		}
		return out
	}
	inInstall, inUpgrade := matching(req.Install), matching(req.Upgrade)
	member := func(s Set, i int, p *cudf.Package) bool {
		inS := after[nv{p.Name, p.Version}]
		was := before[p.Name]
		switch s {
		case SetSolution:
			return inS
		case SetChanged:
			return inS != p.Installed
		case SetNew:
			return inS && len(was) == 0
		case SetRemoved:
			return p.Installed && !afterNames[p.Name]
		case SetUp, SetDown:
			if !inS || len(was) == 0 {
				return false
			}
			for _, v := range was {
				if s == SetUp && p.Version <= v || s == SetDown && p.Version >= v {
					return false
				}
			}
			return true
		case SetInstallReq:
			return inS && inInstall[i]
		case SetUpgradeReq:
			return inS && inUpgrade[i]
		case SetRequest:
			return inS && (inInstall[i] || inUpgrade[i])
		}
		return false
	}
	var out []int
	for _, c := range criteria {
		n := 0
		for i, p := range doc.Packages {
			if !member(c.Set, i, p) {
				continue
			}
			switch c.Measure {
			case Count:
				n++
			case Sum:
				w, err := attrValue(p, c.Attr)
				if err != nil {
					return nil, err
				}
				n += int(w)
			case NotUpToDateOf:
				if p.Version < newest[p.Name] {
					n++
				}
			case UnsatRecommOf:
				v, ok := p.Get("recommends")
				if !ok || v.Type.Kind != cudf.Vpkgformula {
					continue
				}
				for _, or := range v.Formula {
					held := false
					for _, vp := range or {
						for _, j := range idx.candidates(vp) {
							q := doc.Packages[j]
							held = held || after[nv{q.Name, q.Version}]
						}
					}
					if !held {
						n++
					}
				}
			default:
				return nil, fmt.Errorf("unknown criterion %v", c)
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// Check says whether installed (packages by name and version, a
// solver's answer) solves doc's request: the statements it breaks —
// request lines, dependencies, conflicts, keeps — in the words of terms
// (nil: CUDF's), none when it is a solution.
func Check(doc *cudf.Document, installed []*cudf.Package, terms Terms) ([]string, error) {
	if doc.Request == nil {
		return nil, errors.New("the document has no request")
	}
	u := newUniverse(doc.Packages)
	if terms != nil {
		u.terms = terms
	}
	type nv struct {
		name string
		v    int64
	}
	index := map[nv]int{}
	for i, p := range doc.Packages {
		index[nv{p.Name, p.Version}] = i
	}
	var broken []string
	m := u.model(doc.Request, true)
	if m.err != nil {
		var ue *UnsatError
		if errors.As(m.err, &ue) {
			return ue.Reasons, nil
		}
		return nil, m.err
	}
	model := make([]bool, m.nvars+1)
	for _, p := range installed {
		i, ok := index[nv{p.Name, p.Version}]
		if !ok {
			broken = append(broken, fmt.Sprintf("%s is not in the universe", p))
			continue
		}
		model[m.lit(i)] = true
	}
	seen := map[int]bool{}
	for _, c := range m.cons {
		if c.why == 0 || seen[c.why] {
			continue
		}
		n := 0
		for _, l := range c.lits {
			if l > 0 && model[l] || l < 0 && !model[-l] {
				n++
			}
		}
		if c.atMost >= 0 && n > c.atMost || c.atMost < 0 && n < c.atLeast {
			seen[c.why] = true
			broken = append(broken, m.facts[c.why].say())
		}
	}
	return broken, nil
}
