package abidiff

import (
	"fmt"
	"sort"

	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/elffacts"
)

// Kinds of change Compat reports.
const (
	UsedSymbolMissing  = "used-symbol-missing"
	UsedVersionMissing = "used-version-missing"
	CopySizeChanged    = "copied-size-changed"
	NeededSonameGone   = "needed-soname-gone"
)

// Compat says whether app's use of a library survives its new version:
// only what app takes from it counts — the symbols it binds to in old (a
// versioned reference to that version, an unversioned one to the default
// or an unversioned definition), the versions it needs from it, the
// objects it holds copies of, the soname it names. Symbols old defines
// that app never uses do not.
func Compat(appName string, app *elffacts.Facts, oldName string, old *elffacts.Facts, newName string, new *elffacts.Facts) *Report {
	r := &Report{Old: oldName, New: newName, Level: "symbols used by " + appName, Changes: []Change{}}
	add := func(c Change) {
		c.Incompatible = true
		r.Changes = append(r.Changes, c)
	}
	needs := false
	for _, n := range app.Needed {
		needs = needs || n == old.Soname
	}
	if needs && new.Soname != old.Soname {
		add(Change{Kind: NeededSonameGone, Subject: old.Soname, Old: old.Soname, New: new.Soname,
			Message: fmt.Sprintf("%s needs %s; the new library is %s, which its loader will not take for it", appName, old.Soname, or(new.Soname, "(no soname)"))})
	}
	newNodes := versionNodes(new)
	for _, vn := range app.VersionNeeds {
		if vn.File != old.Soname {
			continue
		}
		for _, v := range vn.Versions {
			if !newNodes[v.Name] && !v.Weak {
				add(Change{Kind: UsedVersionMissing, Subject: v.Name,
					Message: fmt.Sprintf("%s: version `%s' not found (required by %s)", newName, v.Name, appName)})
			}
		}
	}
	oldIndex, newIndex := bindIndex(old), bindIndex(new)
	seen := map[string]bool{}
	for _, req := range app.Required {
		if req.Weak {
			continue // may stay unbound
		}
		if req.Version != "" && req.From != old.Soname {
			continue // needed from another library
		}
		o, ok := oldIndex.bind(req)
		if !ok {
			continue // not old's: app takes it from elsewhere
		}
		key := o.key()
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, ok := newIndex.bind(req); !ok {
			add(Change{Kind: UsedSymbolMissing, Subject: key,
				Message: fmt.Sprintf("%s uses %s %s, which the new library does not define: undefined symbol: %s", appName, kindWord(o.d.Type), key, req.Name)})
		}
	}
	// Objects app holds copies of: their size is fixed in app.
	for _, d := range app.Defined {
		if !d.Copy {
			continue
		}
		req := elffacts.RequiredSymbol{Name: d.Name, Version: d.Version, From: d.From}
		if d.From == "" {
			req.From = old.Soname
		}
		if _, ok := oldIndex.bind(req); !ok {
			continue
		}
		n, ok := newIndex.bind(req)
		if ok && n.d.Size != d.Size {
			add(Change{Kind: CopySizeChanged, Subject: n.key(), Old: fmt.Sprint(d.Size), New: fmt.Sprint(n.d.Size),
				Message: fmt.Sprintf("%s holds a %d-byte copy of %s; the new library's is %d bytes", appName, d.Size, n.key(), n.d.Size)})
		}
	}
	sort.SliceStable(r.Changes, func(i, j int) bool { return r.Changes[i].Subject < r.Changes[j].Subject })
	r.count()
	return r
}

// index finds the definition a reference binds to, as the loader does.
type index map[string][]symbol

func bindIndex(f *elffacts.Facts) index {
	ix := index{}
	for _, s := range exported(f) {
		ix[s.name] = append(ix[s.name], s)
	}
	return ix
}

// bind: a versioned reference binds to that version (hidden or not) or to
// an unversioned definition; an unversioned one to the default version or
// an unversioned definition.
func (ix index) bind(req elffacts.RequiredSymbol) (symbol, bool) {
	for _, s := range ix[req.Name] {
		switch {
		case s.version == "":
			return s, true
		case req.Version != "" && s.version == req.Version:
			return s, true
		case req.Version == "" && !s.hidden:
			return s, true
		}
	}
	return symbol{}, false
}

// UsedSymbols lists, sorted, the names of old's symbols that app binds
// to: its strong references that old's definitions satisfy by the
// loader's rules (a versioned reference from another library excluded),
// and the variables it holds copies of.
func UsedSymbols(app, old *elffacts.Facts) []string {
	ix := bindIndex(old)
	seen := map[string]bool{}
	for _, req := range app.Required {
		if req.Weak || (req.Version != "" && req.From != old.Soname) {
			continue
		}
		if _, ok := ix.bind(req); ok {
			seen[req.Name] = true
		}
	}
	for _, d := range app.Defined {
		if d.Copy && (d.From == "" || d.From == old.Soname) {
			if _, ok := ix.bind(elffacts.RequiredSymbol{Name: d.Name, Version: d.Version, From: old.Soname}); ok {
				seen[d.Name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AddUsedTypes adds what the debug info of both versions says of the
// types of the symbols app uses (UsedSymbols), as AddTypes does for every
// symbol both export: the type level of Compat.
func (r *Report) AddUsedTypes(app, old *elffacts.Facts, oldTypes, newTypes *dwarfabi.Info) {
	for _, c := range dwarfabi.Diff(oldTypes, newTypes, UsedSymbols(app, old)) {
		r.Changes = append(r.Changes, Change{Kind: TypeChanged, Subject: c.Symbol, Incompatible: c.Class == dwarfabi.Incompatible,
			Harmless: c.Class == dwarfabi.Harmless, Message: c.Message})
	}
	r.Level += ", with their types"
	sort.SliceStable(r.Changes, func(i, j int) bool { return r.Changes[i].Subject < r.Changes[j].Subject })
	r.count()
}
