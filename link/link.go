// Package link checks what the dynamic loader checks once a program's
// objects are loaded: that every version an object needs is defined by
// the object it needs it from (glibc elf/dl-version.c), and that every
// undefined symbol binds, as under LD_BIND_NOW (elf/dl-lookup.c). Its
// messages are the loader's, so a user who has seen
//
//	./app: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./app)
//
// recognises it.
//
// Binding follows the global scope: the load list without the names not
// found, in order. A reference with a version binds to a definition of
// that version, or to an unversioned one; a reference without a version
// binds to an unversioned definition or the default version; weak
// references may stay unbound. musl has no versions: any definition
// binds, and its message is musl's ("Error relocating OBJ: SYM: symbol
// not found"). Because libc.so.6 binds GLIBC_PRIVATE
// symbols of ld.so, a libc from one glibc build with the loader of
// another fails here as it does at the first bind.
package link

import (
	"fmt"
	"sync"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/loader"
)

// Kind classifies a problem.
type Kind string

const (
	// KindVersion: a needed version is not defined (fatal).
	KindVersion Kind = "version-not-found"
	// KindWeakVersion: a weak needed version is not defined (warning).
	KindWeakVersion Kind = "weak-version-not-found"
	// KindNoVersionInfo: the object a version is needed from defines no
	// versions at all (warning).
	KindNoVersionInfo Kind = "no-version-information"
	// KindUndefined: a strong reference binds to nothing (fatal).
	KindUndefined Kind = "undefined-symbol"
	// KindCopySize: a copy-relocated object's size in the program differs
	// from the size in the library that defines it (warning: the program
	// sees a truncated or overlong object).
	KindCopySize Kind = "copy-relocation-size"
)

// Problem is one thing the loader would complain about.
type Problem struct {
	Kind Kind `json:"kind"`
	// Fatal problems stop the program; the others are printed warnings.
	Fatal bool `json:"fatal"`
	// Object is the path of the object with the need or reference.
	Object string `json:"object"`
	// Provider is the path of the object the version was needed from, or
	// that defines a copy-relocated symbol.
	Provider string `json:"provider,omitempty"`
	Symbol   string `json:"symbol,omitempty"`
	Version  string `json:"version,omitempty"`
	// Message is the loader's text, without the program name prefix.
	Message string `json:"message"`
	// Detail adds what the loader does not say, for people.
	Detail string `json:"detail,omitempty"`
}

// Checker checks load graphs. It indexes each object's symbols once,
// however many graphs hold it, and is safe for concurrent use.
type Checker struct {
	mu      sync.Mutex
	indexes map[*elffacts.Facts]*symbolIndex
}

// NewChecker returns a Checker.
func NewChecker() *Checker {
	return &Checker{indexes: map[*elffacts.Facts]*symbolIndex{}}
}

// symbolIndex maps a symbol name to its definitions in one object.
type symbolIndex struct {
	once sync.Once
	all  []elffacts.DefinedSymbol
	// first is the index in all of a name's first definition; more holds
	// the rest for the few names defined more than once (versions).
	first     map[string]int32
	more      map[string][]int32
	versioned bool // the object has a DT_VERSYM table
	versions  map[string]bool
}

// defs appends the indices in all of the definitions of name to buf.
func (ix *symbolIndex) defs(name string, buf []int32) []int32 {
	i, ok := ix.first[name]
	if !ok {
		return buf
	}
	return append(append(buf, i), ix.more[name]...)
}

func (c *Checker) index(f *elffacts.Facts) *symbolIndex {
	c.mu.Lock()
	ix := c.indexes[f]
	if ix == nil {
		ix = &symbolIndex{}
		c.indexes[f] = ix
	}
	c.mu.Unlock()
	ix.once.Do(func() {
		ix.all = f.Defined
		ix.first = make(map[string]int32, len(f.Defined))
		for i, d := range f.Defined {
			if _, dup := ix.first[d.Name]; dup {
				if ix.more == nil {
					ix.more = map[string][]int32{}
				}
				ix.more[d.Name] = append(ix.more[d.Name], int32(i))
				continue
			}
			ix.first[d.Name] = int32(i)
		}
		// ld writes DT_VERSYM whenever the object defines or needs a
		// version.
		ix.versioned = len(f.VersionDefs) > 0 || len(f.VersionNeeds) > 0
		ix.versions = map[string]bool{}
		for _, v := range f.VersionDefs {
			ix.versions[v.Name] = true
		}
	})
	return ix
}

// Check returns the problems of a load graph, in the order the loader
// meets them: version needs object by object, then symbol references
// object by object in load order.
//
// A graph whose loading failed (Graph.Error) has no problems here: the
// loader stops before it checks versions or binds anything.
func (c *Checker) Check(g *loader.Graph) []Problem {
	if g.Error != "" {
		return nil
	}
	var scope []*loader.Object
	for _, o := range g.Objects {
		if o.Found() && o.Facts != nil {
			scope = append(scope, o)
		}
	}
	var ps []Problem
	musl := g.Libc == "musl"
	if !musl {
		// musl has no symbol versions.
		ps = append(ps, c.versions(g, scope)...)
	}
	ps = append(ps, c.symbols(scope, musl)...)
	if !musl {
		ps = append(ps, c.copies(scope)...)
	}
	return ps
}

// copies checks the program's copy relocations: each copied object is
// looked up in the libraries (the program itself is skipped, as for
// ELF_RTYPE_CLASS_COPY); a size other than the one the program was linked
// with is glibc's warning ("has different size in shared object"), a
// missing one an undefined symbol.
func (c *Checker) copies(scope []*loader.Object) []Problem {
	if len(scope) == 0 {
		return nil
	}
	main := scope[0]
	libs := scope[1:]
	ixs := make([]*symbolIndex, len(libs))
	for i, o := range libs {
		ixs[i] = c.index(o.Facts)
	}
	var ps []Problem
	for _, d := range main.Facts.Defined {
		if !d.Copy {
			continue
		}
		p, def, ok := lookup(libs, ixs, elffacts.RequiredSymbol{Name: d.Name, Version: d.Version}, false)
		switch {
		case !ok:
			msg := fmt.Sprintf("%s: undefined symbol: %s", name(main), d.Name)
			if d.Version != "" {
				msg += ", version " + d.Version
			}
			ps = append(ps, Problem{Kind: KindUndefined, Fatal: true, Object: name(main), Symbol: d.Name, Version: d.Version, Message: msg})
		case def.Size != d.Size:
			ps = append(ps, Problem{Kind: KindCopySize, Object: name(main), Provider: name(p), Symbol: d.Name, Version: d.Version,
				Message: fmt.Sprintf("Symbol `%s' has different size in shared object, consider re-linking", d.Name),
				Detail:  fmt.Sprintf("%s defines %d bytes, the program copies %d", name(p), def.Size, d.Size)})
		}
	}
	return ps
}

// name is how the loader names an object in messages: its l_name, the
// program as given for the program.
func name(o *loader.Object) string { return o.Path }

// versions is _dl_check_all_versions: for each object's DT_VERNEED
// entries, the object of that name must define each version.
func (c *Checker) versions(g *loader.Graph, scope []*loader.Object) []Problem {
	var ps []Problem
	for _, o := range scope {
		for _, vn := range o.Facts.VersionNeeds {
			p := find(g, vn.File)
			if p == nil || !p.Found() || p.Facts == nil {
				// Not loaded: the loader reported it already.
				continue
			}
			ix := c.index(p.Facts)
			for _, v := range vn.Versions {
				switch {
				case len(p.Facts.VersionDefs) == 0:
					ps = append(ps, Problem{Kind: KindNoVersionInfo, Object: name(o), Provider: name(p), Version: v.Name,
						Message: fmt.Sprintf("%s: no version information available (required by %s)", name(p), name(o))})
				case ix.versions[v.Name]:
				case v.Weak:
					ps = append(ps, Problem{Kind: KindWeakVersion, Object: name(o), Provider: name(p), Version: v.Name,
						Message: fmt.Sprintf("%s: weak version `%s' not found (required by %s)", name(p), v.Name, name(o))})
				default:
					ps = append(ps, Problem{Kind: KindVersion, Fatal: true, Object: name(o), Provider: name(p), Version: v.Name,
						Message: fmt.Sprintf("%s: version `%s' not found (required by %s)", name(p), v.Name, name(o))})
				}
			}
		}
	}
	return ps
}

// find is dl-version.c find_needed: the loaded object a DT_VERNEED file
// name refers to, by the names it was asked for or its path.
func find(g *loader.Graph, file string) *loader.Object {
	for _, o := range g.Objects {
		if o.Name == file || o.Path == file || (o.Facts != nil && o.Facts.Soname == file && o.Found()) {
			return o
		}
	}
	return nil
}

// symbols binds every strong reference of every object in the scope;
// for musl, without regard to versions.
func (c *Checker) symbols(scope []*loader.Object, musl bool) []Problem {
	var ps []Problem
	ixs := make([]*symbolIndex, len(scope))
	for i, o := range scope {
		ixs[i] = c.index(o.Facts)
	}
	for _, o := range scope {
		for _, r := range o.Facts.Required {
			if r.Weak {
				continue
			}
			if musl {
				r.Version = ""
			}
			if _, _, ok := lookup(scope, ixs, r, musl); ok {
				continue
			}
			msg := fmt.Sprintf("%s: undefined symbol: %s", name(o), r.Name)
			if r.Version != "" {
				msg += ", version " + r.Version
			}
			if musl {
				msg = fmt.Sprintf("Error relocating %s: %s: symbol not found", name(o), r.Name)
			}
			ps = append(ps, Problem{Kind: KindUndefined, Fatal: true, Object: name(o), Symbol: r.Name, Version: r.Version, Message: msg})
		}
	}
	return ps
}

// lookup finds the definition a reference binds to: the first object in
// scope order with a matching definition (do_lookup_x, check_match).
func lookup(scope []*loader.Object, ixs []*symbolIndex, r elffacts.RequiredSymbol, musl bool) (*loader.Object, elffacts.DefinedSymbol, bool) {
	var buf [4]int32
	for i, ix := range ixs {
		defs := ix.defs(r.Name, buf[:0])
		if len(defs) == 0 {
			continue
		}
		if musl {
			return scope[i], ix.all[defs[0]], true
		}
		if d, ok := match(ix, defs, r.Version); ok {
			return scope[i], *d, true
		}
	}
	return nil, elffacts.DefinedSymbol{}, false
}

// match applies check_match to the definitions of one name in one object.
func match(ix *symbolIndex, defs []int32, version string) (*elffacts.DefinedSymbol, bool) {
	if !ix.versioned {
		// No version table: any definition will do.
		return &ix.all[defs[0]], true
	}
	if version != "" {
		for _, i := range defs {
			// The version asked for, or a definition without a version
			// (VER_NDX_GLOBAL) that is not hidden.
			if d := &ix.all[i]; d.Version == version || (d.Version == "" && !d.Hidden) {
				return d, true
			}
		}
		return nil, false
	}
	var only *elffacts.DefinedSymbol
	n := 0
	for _, i := range defs {
		d := &ix.all[i]
		if d.Version == "" {
			return d, true
		}
		if !d.Hidden {
			only = d
			n++
		}
	}
	// An unversioned reference takes the one visible version when there
	// is exactly one, as there is no ambiguity (dl-lookup.c).
	return only, n == 1
}

// Binding is one symbol reference and the object it binds to (nil when
// nothing defines it).
type Binding struct {
	From   *loader.Object
	Symbol elffacts.RequiredSymbol
	To     *loader.Object
}

// Bindings binds every reference of every loaded object in the graph's
// global scope, weak ones included, as Check does.
func (c *Checker) Bindings(g *loader.Graph) []Binding {
	var scope []*loader.Object
	for _, o := range g.Objects {
		if o.Found() && o.Facts != nil {
			scope = append(scope, o)
		}
	}
	ixs := make([]*symbolIndex, len(scope))
	for i, o := range scope {
		ixs[i] = c.index(o.Facts)
	}
	musl := g.Libc == "musl"
	var out []Binding
	for _, o := range scope {
		for _, r := range o.Facts.Required {
			to, _, _ := lookup(scope, ixs, r, musl)
			out = append(out, Binding{From: o, Symbol: r, To: to})
		}
	}
	return out
}

// Defines reports whether an object with facts f would satisfy the
// reference r: a definition of that name the version rules accept.
func (c *Checker) Defines(f *elffacts.Facts, r elffacts.RequiredSymbol) bool {
	ix := c.index(f)
	var buf [4]int32
	defs := ix.defs(r.Name, buf[:0])
	if len(defs) == 0 {
		return false
	}
	_, ok := match(ix, defs, r.Version)
	return ok
}
