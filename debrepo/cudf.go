package debrepo

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/cudf"
	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// In CUDF a name is only its real packages; what Debian packages
// provide is under names of its own: VirtualPrefix for unversioned
// Provides ("--virtual-mail-transport-agent"), which satisfy only
// unversioned relations (Debian Policy 7.5), ProvidedPrefix for
// versioned ones ("--provided-pkg-config = 7"). So "one version of a
// name at a time" (each package conflicts with its name) does not
// reach the packages that provide it.
const (
	VirtualPrefix  = "--virtual-"
	ProvidedPrefix = "--provided-"
)

// Request is what to install and remove, as Debian relations ("openmpi-bin",
// "libc6 (>= 2.36)") or as apt names a version: "openmpi-bin=4.1.6-13",
// or the newest version a suite holds: "openmpi-bin/trixie".
type Request struct {
	Install, Remove []string
	// Slice writes only the packages the request and the installed
	// packages can reach, along Depends, Pre-Depends, Recommends and
	// Provides, with every version of a name reached: the part of the
	// universe a solver minimizing removals, changes, new packages,
	// staleness or unmet recommendations can use. (Criteria that reward
	// installing more need the whole universe.)
	Slice bool
}

// relation reads one request line as a Debian relation.
func (u *Universe) relation(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, " (|,") {
		return s, nil
	}
	if name, v, ok := strings.Cut(s, "="); ok {
		if _, err := version.Parse(v); err != nil || name == "" {
			return "", fmt.Errorf("request %q: want NAME=VERSION: %v", s, err)
		}
		return fmt.Sprintf("%s (= %s)", name, v), nil
	}
	name, suite, ok := strings.Cut(s, "/")
	if !ok {
		return s, nil
	}
	var best *Package
	suites := map[string]bool{}
	var elsewhere []string
	for _, p := range u.Packages {
		for _, su := range p.Suites {
			suites[su] = true
		}
		if p.Name != name {
			continue
		}
		if !slices.Contains(p.Suites, suite) {
			elsewhere = append(elsewhere, fmt.Sprintf("%s in %s", p.Version, strings.Join(p.Suites, ", ")))
			continue
		}
		if best == nil || version.Compare(p.Version, best.Version) > 0 {
			best = p
		}
	}
	switch {
	case best != nil:
		return fmt.Sprintf("%s (= %s)", name, best.Version), nil
	case !suites[suite]:
		var known []string
		for su := range suites {
			known = append(known, su)
		}
		sort.Strings(known)
		if len(known) == 0 {
			return "", fmt.Errorf("request %q: no index read says which suite it is (name it SUITE=FILE)", s)
		}
		return "", fmt.Errorf("request %q: no index of suite %q was read (suites: %s)", s, suite, strings.Join(known, ", "))
	case len(elsewhere) > 0:
		return "", fmt.Errorf("request %q: %s is not in %s (there is %s)", s, name, suite, strings.Join(elsewhere, "; "))
	}
	return "", fmt.Errorf("request %q: no package %s in %s", s, name, suite)
}

// Origin is the Debian package a package of the last CUDF document
// came from, or nil.
func (u *Universe) Origin(cp *cudf.Package) *Package { return u.origin[cp] }

// Package writes a package of a document CUDF made in Debian's terms:
// "libc6 2.36-9+deb12u4".
func (u *Universe) Package(p *cudf.Package) string {
	v, _ := p.Get("number")
	if n := strings.TrimSpace(v.Str); n != "" {
		return strings.ReplaceAll(p.Name, "%3a", ":") + " " + n
	}
	return p.String()
}

// Constraint is Relation: with Package, a Universe is a solve.Terms.
func (u *Universe) Constraint(vp cudf.VPkg) string { return u.Relation(vp) }

// CUDF writes the universe and a request as a CUDF document. Each CUDF
// package carries its Debian version in the "number" property.
func (u *Universe) CUDF(req Request) (*cudf.Document, error) {
	var reqRels [2][]dependency.Relation
	for i, l := range [][]string{req.Install, req.Remove} {
		for _, s := range l {
			s, err := u.relation(s)
			if err != nil {
				return nil, err
			}
			d, err := dependency.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("request %q: %w", s, err)
			}
			reqRels[i] = append(reqRels[i], d.Relations...)
		}
	}
	pkgs := u.Packages
	if req.Slice {
		pkgs = u.reach(append(append([]dependency.Relation(nil), reqRels[0]...), reqRels[1]...))
	}
	ranks := u.ranks(pkgs, append(append([]dependency.Relation(nil), reqRels[0]...), reqRels[1]...))
	u.byRank = map[string]map[int64]string{}
	u.origin = map[*cudf.Package]*Package{}
	for name, m := range ranks {
		back := map[int64]string{}
		for v, r := range m {
			if old, ok := back[r]; !ok || v < old {
				back[r] = v
			}
		}
		u.byRank[name] = back
	}
	// Debian's unversioned Provides satisfy only unversioned relations
	// (Policy 7.5); CUDF's satisfy every constraint. As dose does, such
	// a provision is of a name of its own, which unversioned relations
	// add as an alternative.
	virtual, provided := map[string]bool{}, map[string]bool{}
	real := map[string]bool{}
	for _, p := range pkgs {
		real[p.Name] = true
		for _, r := range p.Provides {
			for _, q := range r.Possibilities {
				if q.Version == nil {
					virtual[q.Name] = true
				} else {
					provided[q.Name] = true
				}
			}
		}
	}
	rank := func(name string, v version.Version) int64 { return ranks[name][v.String()] }
	rawRank := map[string]map[string]int64{}
	vpkg := func(p dependency.Possibility) (cudf.VPkg, error) {
		vp := cudf.VPkg{Name: p.Name}
		// A relation to another architecture's package ("libc6-i386:x32")
		// names a package this universe does not hold: it keeps its
		// qualifier ("%3a" for ":", as apt-cudf writes it), so it
		// satisfies nothing and conflicts with nothing here.
		if p.Arch != nil {
			if a := p.Arch.String(); a != "any" && a != "native" && a != u.Arch && a != "all" {
				vp.Name += "%3a" + a
			}
		}
		if !cudf.IsPkgname(vp.Name) {
			return vp, fmt.Errorf("package name %q is not one CUDF can write", p.Name)
		}
		if p.Version == nil {
			return vp, nil
		}
		op, ok := relops[p.Version.Operator]
		if !ok {
			return vp, fmt.Errorf("%s: unknown relation %q", p.Name, p.Version.Operator)
		}
		// Each name's version texts ranked once.
		r, ok := rawRank[p.Name][p.Version.Number]
		if !ok {
			v, err := version.Parse(p.Version.Number)
			if err != nil {
				return vp, fmt.Errorf("%s (%s %s): %w", p.Name, p.Version.Operator, p.Version.Number, err)
			}
			r = rank(p.Name, v)
			if rawRank[p.Name] == nil {
				rawRank[p.Name] = map[string]int64{}
			}
			rawRank[p.Name][p.Version.Number] = r
		}
		vp.Op, vp.Version = op, r
		return vp, nil
	}
	formula := func(rels []dependency.Relation) (cudf.Formula, error) {
		var f cudf.Formula
		for _, r := range rels {
			var or []cudf.VPkg
			for _, p := range r.Possibilities {
				vp, err := vpkg(p)
				if err != nil {
					return nil, err
				}
				or = append(or, vp)
				if vp.Op == "" && virtual[vp.Name] {
					or = append(or, cudf.VPkg{Name: VirtualPrefix + vp.Name})
				}
				if provided[vp.Name] {
					or = append(or, cudf.VPkg{Name: ProvidedPrefix + vp.Name, Op: vp.Op, Version: vp.Version})
				}
			}
			if len(or) > 0 {
				f = append(f, or)
			}
		}
		return f, nil
	}
	list := func(rels []dependency.Relation) ([]cudf.VPkg, error) {
		f, err := formula(rels)
		var out []cudf.VPkg
		for _, or := range f {
			out = append(out, or...)
		}
		return out, err
	}
	doc := &cudf.Document{Preamble: &cudf.Preamble{ID: "hitch cudf from-deb", Props: []cudf.PropDecl{
		{Name: "number", Type: cudf.Type{Kind: cudf.String}, Default: &cudf.Value{Type: cudf.Type{Kind: cudf.String}}},
		{Name: "recommends", Type: cudf.Type{Kind: cudf.Vpkgformula}, Default: &cudf.Value{Type: cudf.Type{Kind: cudf.Vpkgformula}}},
	}}}
	for _, p := range pkgs {
		cp := &cudf.Package{Name: p.Name, Version: rank(p.Name, p.Version), Installed: p.Installed}
		if !cudf.IsPkgname(cp.Name) {
			return nil, fmt.Errorf("%s: package name %q is not one CUDF can write", p.Source, p.Name)
		}
		var err error
		if cp.Depends, err = formula(p.Depends); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
		}
		if cp.Conflicts, err = list(p.Conflicts); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
		}
		if req.Slice {
			// Conflicts with what the slice left out bind nothing.
			cp.Conflicts = slices.DeleteFunc(cp.Conflicts, func(vp cudf.VPkg) bool {
				n := strings.TrimPrefix(strings.TrimPrefix(vp.Name, VirtualPrefix), ProvidedPrefix)
				return !real[vp.Name] && !virtual[n] && !provided[n]
			})
		}
		// One version of a name at a time (dpkg's rule; CUDF allows
		// several): every version conflicts with the others.
		cp.Conflicts = append(cp.Conflicts, cudf.VPkg{Name: p.Name})
		var provides []cudf.VPkg
		for _, r := range p.Provides {
			for _, q := range r.Possibilities {
				pv, err := vpkg(q)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
				}
				provides = append(provides, pv)
			}
		}
		for _, pv := range provides {
			switch pv.Op {
			case "":
				cp.Provides = append(cp.Provides, cudf.VPkg{Name: VirtualPrefix + pv.Name})
			default:
				// Debian provides only "=".
				cp.Provides = append(cp.Provides, cudf.VPkg{Name: ProvidedPrefix + pv.Name, Op: cudf.Eq, Version: pv.Version})
			}
		}
		rec, err := formula(p.Recommends)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
		}
		switch {
		case p.Installed && p.Keep != "":
			cp.Keep = p.Keep
		case p.Installed && p.Essential:
			cp.Keep = cudf.KeepPackage
		}
		cp.Extra = []cudf.Prop{
			{Name: "number", Value: cudf.Value{Type: cudf.Type{Kind: cudf.String}, Str: p.Version.String()}},
			{Name: "recommends", Value: cudf.Value{Type: cudf.Type{Kind: cudf.Vpkgformula}, Formula: rec}},
		}
		doc.Packages = append(doc.Packages, cp)
		u.origin[cp] = p
	}
	r := &cudf.Request{ID: "hitch cudf from-deb"}
	for _, rel := range reqRels[0] {
		for _, q := range rel.Possibilities {
			vp, err := vpkg(q)
			if err != nil {
				return nil, fmt.Errorf("request: %w", err)
			}
			// A name only provided is installed through a provider.
			switch {
			case real[vp.Name]:
			case vp.Op == "" && virtual[vp.Name]:
				vp.Name = VirtualPrefix + vp.Name
			case provided[vp.Name]:
				vp.Name = ProvidedPrefix + vp.Name
			}
			r.Install = append(r.Install, vp)
		}
	}
	remove, err := list(reqRels[1])
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	r.Remove = remove
	doc.Request = r
	return doc, nil
}

// reach is the slice of the universe the request lines and the installed
// packages reach (Request.Slice), in the universe's order.
func (u *Universe) reach(request []dependency.Relation) []*Package {
	byName := map[string][]int{}
	providers := map[string][]int{}
	for i, p := range u.Packages {
		byName[p.Name] = append(byName[p.Name], i)
		for _, r := range p.Provides {
			for _, q := range r.Possibilities {
				providers[q.Name] = append(providers[q.Name], i)
			}
		}
	}
	in := make([]bool, len(u.Packages))
	names := map[string]bool{}
	var queue []int
	name := func(n string) {
		if names[n] {
			return
		}
		names[n] = true
		for _, list := range [][]int{byName[n], providers[n]} {
			for _, i := range list {
				if !in[i] {
					in[i] = true
					queue = append(queue, i)
				}
			}
		}
	}
	for _, r := range request {
		for _, q := range r.Possibilities {
			name(q.Name)
		}
	}
	for _, p := range u.Packages {
		if p.Installed {
			name(p.Name)
		}
	}
	for len(queue) > 0 {
		p := u.Packages[queue[0]]
		queue = queue[1:]
		name(p.Name)
		for _, rels := range [][]dependency.Relation{p.Depends, p.Recommends} {
			for _, r := range rels {
				for _, q := range r.Possibilities {
					name(q.Name)
				}
			}
		}
	}
	var out []*Package
	for i, p := range u.Packages {
		if in[i] {
			out = append(out, p)
		}
	}
	return out
}

// relops are Debian's relation operators in CUDF (">" and "<" are
// dpkg's deprecated spellings of ">=" and "<=").
var relops = map[string]cudf.Relop{">=": cudf.Ge, "<=": cudf.Le, ">>": cudf.Gt, "<<": cudf.Lt, "=": cudf.Eq, ">": cudf.Ge, "<": cudf.Le}

// ranks numbers, name by name, every Debian version a name has or is
// constrained against, in dpkg's order from 1.
func (u *Universe) ranks(pkgs []*Package, extra []dependency.Relation) map[string]map[string]int64 {
	seen := map[string]map[string]version.Version{}
	note := func(name string, v version.Version) {
		if seen[name] == nil {
			seen[name] = map[string]version.Version{}
		}
		seen[name][v.String()] = v
	}
	rels := func(yield func([]dependency.Relation)) {
		yield(extra)
		for _, p := range pkgs {
			note(p.Name, p.Version)
			for _, r := range [][]dependency.Relation{p.Depends, p.Conflicts, p.Recommends, p.Provides} {
				yield(r)
			}
		}
	}
	raw := map[string]map[string]bool{} // version texts already noted, by name
	rels(func(rels []dependency.Relation) {
		for _, r := range rels {
			for _, q := range r.Possibilities {
				if q.Version == nil || raw[q.Name][q.Version.Number] {
					continue
				}
				if raw[q.Name] == nil {
					raw[q.Name] = map[string]bool{}
				}
				raw[q.Name][q.Version.Number] = true
				if v, err := version.Parse(q.Version.Number); err == nil {
					note(q.Name, v)
				}
			}
		}
	})
	out := make(map[string]map[string]int64, len(seen))
	for name, vs := range seen {
		list := make([]version.Version, 0, len(vs))
		for _, v := range vs {
			list = append(list, v)
		}
		sort.Slice(list, func(i, j int) bool { return version.Compare(list[i], list[j]) < 0 })
		// Versions dpkg holds equal ("1.0" and "1.0-0") share a rank.
		m := make(map[string]int64, len(list))
		r := int64(0)
		for i, v := range list {
			if i == 0 || version.Compare(list[i-1], v) != 0 {
				r++
			}
			m[v.String()] = r
		}
		out[name] = m
	}
	return out
}

// Names maps a CUDF solution back to Debian: "name=version".
func Names(doc *cudf.Document, installed []*cudf.Package) []string {
	var out []string
	for _, p := range installed {
		v, _ := p.Get("number")
		out = append(out, p.Name+"="+strings.TrimSpace(v.Str))
	}
	return out
}

// Relation writes a CUDF constraint of a document CUDF made back in
// Debian's terms: "thunderbird (<= 1:128.x)", "mail-transport-agent".
func (u *Universe) Relation(vp cudf.VPkg) string {
	name := strings.TrimPrefix(strings.TrimPrefix(vp.Name, VirtualPrefix), ProvidedPrefix)
	name = strings.ReplaceAll(name, "%3a", ":")
	if vp.Op == "" {
		return name
	}
	ops := map[cudf.Relop]string{cudf.Ge: ">=", cudf.Le: "<=", cudf.Gt: ">>", cudf.Lt: "<<", cudf.Eq: "=", cudf.Neq: "!="}
	v := u.byRank[name][vp.Version]
	if v == "" {
		v = fmt.Sprint(vp.Version)
	}
	return fmt.Sprintf("%s (%s %s)", name, ops[vp.Op], v)
}
