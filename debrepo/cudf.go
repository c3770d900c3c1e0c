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
	// ForeignPrefix names what a Multi-Arch: foreign package provides
	// to every architecture, AnyPrefix what a Multi-Arch: allowed one
	// provides to NAME:any relations.
	ForeignPrefix = "--foreign-"
	AnyPrefix     = "--any-"
	// ManualProperty is 1 for an installed package that was asked for
	// (not installed by apt as a dependency) and that no other package
	// replaces (Replaces with Conflicts or Breaks), 0 for the rest: what
	// -sum(removed,manual) keeps.
	ManualProperty = "manual"
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
	//
	// Architectures: a package of the native architecture, or of "all",
	// is named as in Debian; one of a foreign architecture NAME%3aARCH.
	// An unqualified relation is to its own architecture's packages; a
	// Multi-Arch: foreign package satisfies it from any architecture (it
	// provides ForeignPrefix+NAME), a Multi-Arch: allowed one satisfies
	// NAME:any (AnyPrefix+NAME). Conflicts and Breaks bind every
	// architecture. A name is installed in one version per architecture,
	// and in several architectures only when Multi-Arch: same, at one
	// version.
	native := u.Arch
	archs := append([]string{native}, u.Foreign...)
	archOf := func(p *Package) string {
		if p.Arch == "all" {
			return native
		}
		return p.Arch
	}
	cname := func(name, arch string) string {
		if arch == native || arch == "" || arch == "all" {
			return name
		}
		return name + "%3a" + arch
	}
	virtual, provided := map[string]bool{}, map[string]bool{}
	real, maForeign, maAllowed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range pkgs {
		real[cname(p.Name, archOf(p))] = true
		switch p.MultiArch {
		case "foreign":
			maForeign[p.Name] = true
		case "allowed":
			maAllowed[p.Name] = true
		}
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
	// Names some package both replaces and conflicts with (breaks): its
	// successor can take over, so removing it is no loss to the user.
	// Versioned relations count when the installed version satisfies
	// them (e2fsprogs-l10n replacing an older e2fsprogs does not make
	// today's removable).
	installedAt := map[string][]version.Version{}
	for _, p := range pkgs {
		if p.Installed {
			installedAt[p.Name] = append(installedAt[p.Name], p.Version)
		}
	}
	hits := func(q dependency.Possibility) bool {
		if q.Version == nil {
			return len(installedAt[q.Name]) > 0
		}
		want, err := version.Parse(q.Version.Number)
		if err != nil {
			return false
		}
		for _, v := range installedAt[q.Name] {
			c := version.Compare(v, want)
			switch q.Version.Operator {
			case ">=", ">":
				if c >= 0 {
					return true
				}
			case "<=", "<":
				if c <= 0 {
					return true
				}
			case ">>":
				if c > 0 {
					return true
				}
			case "<<":
				if c < 0 {
					return true
				}
			case "=":
				if c == 0 {
					return true
				}
			}
		}
		return false
	}
	replaced := map[string]bool{}
	for _, p := range pkgs {
		against := map[string]bool{}
		for _, r := range p.Conflicts {
			for _, q := range r.Possibilities {
				if hits(q) {
					against[q.Name] = true
				}
			}
		}
		for _, r := range p.Replaces {
			for _, q := range r.Possibilities {
				if against[q.Name] && q.Name != p.Name && hits(q) {
					replaced[q.Name] = true
				}
			}
		}
	}
	// constraint is q's version constraint in CUDF.
	constraint := func(q dependency.Possibility) (cudf.Relop, int64, error) {
		if !cudf.IsPkgname(q.Name) {
			return "", 0, fmt.Errorf("package name %q is not one CUDF can write", q.Name)
		}
		if q.Version == nil {
			return "", 0, nil
		}
		op, ok := relops[q.Version.Operator]
		if !ok {
			return "", 0, fmt.Errorf("%s: unknown relation %q", q.Name, q.Version.Operator)
		}
		// Each name's version texts ranked once.
		r, ok := rawRank[q.Name][q.Version.Number]
		if !ok {
			v, err := version.Parse(q.Version.Number)
			if err != nil {
				return "", 0, fmt.Errorf("%s (%s %s): %w", q.Name, q.Version.Operator, q.Version.Number, err)
			}
			r = rank(q.Name, v)
			if rawRank[q.Name] == nil {
				rawRank[q.Name] = map[string]int64{}
			}
			rawRank[q.Name][q.Version.Number] = r
		}
		return op, r, nil
	}
	// targets are the CUDF names a possibility of a package of arch from
	// points at (conflicts: every architecture's). A relation to an
	// architecture not read ("libc6-i386:x32") keeps its qualifier and
	// is satisfied by nothing.
	targets := func(q dependency.Possibility, from string, conflict bool) []string {
		a := ""
		if q.Arch != nil {
			a = q.Arch.String()
		}
		switch a {
		case "":
			if conflict {
				out := make([]string, len(archs))
				for i, x := range archs {
					out[i] = cname(q.Name, x)
				}
				return out
			}
			out := []string{cname(q.Name, from)}
			if maForeign[q.Name] {
				out = append(out, ForeignPrefix+q.Name)
			}
			return out
		case "any":
			out := []string{cname(q.Name, from)}
			if maForeign[q.Name] {
				out = append(out, ForeignPrefix+q.Name)
			}
			if maAllowed[q.Name] {
				out = append(out, AnyPrefix+q.Name)
			}
			return out
		case "native", "all":
			return []string{cname(q.Name, native)}
		}
		return []string{cname(q.Name, a)}
	}
	// formula translates relations of a package of arch from; for
	// conflicts, same names the package itself when it is Multi-Arch:
	// same, whose other architectures' instances it never conflicts
	// with (that is the version rule below), nor with what they provide.
	formula := func(rels []dependency.Relation, from string, conflict bool, same string) (cudf.Formula, error) {
		var f cudf.Formula
		for _, r := range rels {
			var or []cudf.VPkg
			for _, q := range r.Possibilities {
				op, v, err := constraint(q)
				if err != nil {
					return nil, err
				}
				own := cname(q.Name, from)
				for _, t := range targets(q, from, conflict) {
					if conflict && t != own && q.Name == same {
						continue
					}
					or = append(or, cudf.VPkg{Name: t, Op: op, Version: v})
					if strings.HasPrefix(t, ForeignPrefix) || strings.HasPrefix(t, AnyPrefix) {
						continue
					}
					if conflict && t != own && same != "" {
						// Another architecture's provisions: a virtual
						// name this package provides and conflicts with
						// (Provides/Conflicts/Replaces) is provided by its
						// other instances too.
						continue
					}
					if op == "" && virtual[q.Name] {
						or = append(or, cudf.VPkg{Name: VirtualPrefix + t})
					}
					if provided[q.Name] {
						or = append(or, cudf.VPkg{Name: ProvidedPrefix + t, Op: op, Version: v})
					}
				}
			}
			if len(or) > 0 {
				f = append(f, or)
			}
		}
		return f, nil
	}
	list := func(rels []dependency.Relation, from string, conflict bool, same string) ([]cudf.VPkg, error) {
		f, err := formula(rels, from, conflict, same)
		var out []cudf.VPkg
		for _, or := range f {
			out = append(out, or...)
		}
		return out, err
	}
	doc := &cudf.Document{Preamble: &cudf.Preamble{ID: "hitch cudf from-deb", Props: []cudf.PropDecl{
		{Name: "number", Type: cudf.Type{Kind: cudf.String}, Default: &cudf.Value{Type: cudf.Type{Kind: cudf.String}}},
		{Name: "recommends", Type: cudf.Type{Kind: cudf.Vpkgformula}, Default: &cudf.Value{Type: cudf.Type{Kind: cudf.Vpkgformula}}},
		{Name: ManualProperty, Type: cudf.Type{Kind: cudf.Nat}, Default: &cudf.Value{Type: cudf.Type{Kind: cudf.Nat}}},
	}}}
	for _, p := range pkgs {
		arch := archOf(p)
		cp := &cudf.Package{Name: cname(p.Name, arch), Version: rank(p.Name, p.Version), Installed: p.Installed}
		if !cudf.IsPkgname(cp.Name) {
			return nil, fmt.Errorf("%s: package name %q is not one CUDF can write", p.Source, p.Name)
		}
		var err error
		same := ""
		if p.MultiArch == "same" {
			same = p.Name
		}
		if cp.Depends, err = formula(p.Depends, arch, false, ""); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
		}
		if cp.Conflicts, err = list(p.Conflicts, arch, true, same); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
		}
		if req.Slice {
			// Conflicts with what the slice left out bind nothing.
			cp.Conflicts = slices.DeleteFunc(cp.Conflicts, func(vp cudf.VPkg) bool {
				n := strings.TrimPrefix(strings.TrimPrefix(vp.Name, VirtualPrefix), ProvidedPrefix)
				n, _, _ = strings.Cut(n, "%3a")
				return !real[vp.Name] && !virtual[n] && !provided[n]
			})
		}
		// One version of a name at a time (dpkg's rule; CUDF allows
		// several): every version conflicts with the others; and in
		// another architecture none, or (Multi-Arch: same) this one.
		cp.Conflicts = append(cp.Conflicts, cudf.VPkg{Name: cp.Name})
		if p.Arch != "all" {
			for _, x := range archs {
				switch {
				case x == arch:
				case p.MultiArch == "same":
					cp.Conflicts = append(cp.Conflicts, cudf.VPkg{Name: cname(p.Name, x), Op: cudf.Neq, Version: cp.Version})
				default:
					cp.Conflicts = append(cp.Conflicts, cudf.VPkg{Name: cname(p.Name, x)})
				}
			}
		}
		// What it provides, in its architecture or (Multi-Arch: foreign)
		// in every one.
		in := []string{arch}
		if p.MultiArch == "foreign" {
			in = archs
			cp.Provides = append(cp.Provides, cudf.VPkg{Name: ForeignPrefix + p.Name, Op: cudf.Eq, Version: cp.Version})
		}
		if p.MultiArch == "allowed" {
			cp.Provides = append(cp.Provides, cudf.VPkg{Name: AnyPrefix + p.Name, Op: cudf.Eq, Version: cp.Version})
		}
		for _, r := range p.Provides {
			for _, q := range r.Possibilities {
				op, v, err := constraint(q)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", p.Source, p.Name, err)
				}
				for _, x := range in {
					switch op {
					case "":
						cp.Provides = append(cp.Provides, cudf.VPkg{Name: VirtualPrefix + cname(q.Name, x)})
					default:
						// Debian provides only "=".
						cp.Provides = append(cp.Provides, cudf.VPkg{Name: ProvidedPrefix + cname(q.Name, x), Op: cudf.Eq, Version: v})
					}
				}
			}
		}
		rec, err := formula(p.Recommends, arch, false, "")
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
		if p.Installed && !p.Auto && !replaced[p.Name] {
			cp.Extra = append(cp.Extra, cudf.Prop{Name: ManualProperty, Value: cudf.Value{Type: cudf.Type{Kind: cudf.Nat}, Int: 1}})
		} else {
			cp.Extra = append(cp.Extra, cudf.Prop{Name: ManualProperty, Value: cudf.Value{Type: cudf.Type{Kind: cudf.Nat}}})
		}
		doc.Packages = append(doc.Packages, cp)
		u.origin[cp] = p
	}
	r := &cudf.Request{ID: "hitch cudf from-deb"}
	for _, rel := range reqRels[0] {
		for _, q := range rel.Possibilities {
			op, v, err := constraint(q)
			if err != nil {
				return nil, fmt.Errorf("request: %w", err)
			}
			vp := cudf.VPkg{Name: targets(q, native, false)[0], Op: op, Version: v}
			// A name only provided is installed through a provider.
			switch {
			case real[vp.Name]:
			case vp.Op == "" && virtual[q.Name]:
				vp.Name = VirtualPrefix + vp.Name
			case provided[q.Name]:
				vp.Name = ProvidedPrefix + vp.Name
			}
			r.Install = append(r.Install, vp)
		}
	}
	remove, err := list(reqRels[1], native, false, "")
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
		out = append(out, strings.ReplaceAll(p.Name, "%3a", ":")+"="+strings.TrimSpace(v.Str))
	}
	return out
}

// Relation writes a CUDF constraint of a document CUDF made back in
// Debian's terms: "thunderbird (<= 1:128.x)", "mail-transport-agent".
func (u *Universe) Relation(vp cudf.VPkg) string {
	name := vp.Name
	for _, prefix := range []string{VirtualPrefix, ProvidedPrefix, ForeignPrefix, AnyPrefix} {
		name = strings.TrimPrefix(name, prefix)
	}
	name = strings.ReplaceAll(name, "%3a", ":")
	if vp.Op == "" {
		return name
	}
	ops := map[cudf.Relop]string{cudf.Ge: ">=", cudf.Le: "<=", cudf.Gt: ">>", cudf.Lt: "<<", cudf.Eq: "=", cudf.Neq: "!="}
	debName, _, _ := strings.Cut(name, ":")
	v := u.byRank[debName][vp.Version]
	if v == "" {
		v = fmt.Sprint(vp.Version)
	}
	return fmt.Sprintf("%s (%s %s)", name, ops[vp.Op], v)
}
