// Package treediff compares the shared libraries of two trees — root
// filesystems, images, directories — as abipkgdiff compares packages, but
// pairing them by soname rather than file name: each soname's library (the
// one the tree's loader finds, else the first file that carries it) is
// diffed with abidiff; a soname whose version part changed (libffi.so.7 →
// libffi.so.8) is paired and reported as a bump.
package treediff

import (
	"context"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// Statuses of a pair.
const (
	Changed   = "changed"
	Unchanged = "unchanged" // the same file, or no ABI change
	Removed   = "removed"
	Added     = "added"
	Bumped    = "bumped" // the soname's version changed: a new ABI
)

// Pair is one soname of the old tree, the new tree, or both.
type Pair struct {
	Soname string `json:"soname"`
	// NewSoname is the new tree's soname of a bumped library.
	NewSoname string          `json:"new_soname,omitempty"`
	Status    string          `json:"status"`
	Old       string          `json:"old,omitempty"` // the file, in the old tree
	New       string          `json:"new,omitempty"`
	Report    *abidiff.Report `json:"report,omitempty"`
}

// Exit is the pair's abidiff-style exit code: a library removed or bumped
// breaks the programs that need it (12), one added changes the ABI (4).
func (p *Pair) Exit() int {
	switch p.Status {
	case Removed, Bumped:
		return abidiff.ExitChange | abidiff.ExitIncompatible
	case Added:
		return abidiff.ExitChange
	case Changed:
		return p.Report.Exit()
	}
	return 0
}

// Result is the comparison of two trees.
type Result struct {
	Pairs []Pair `json:"pairs"`
	// Unchanged counts the sonames whose library did not change ABI
	// (they are not in Pairs).
	Unchanged int `json:"unchanged"`
}

// Exit is the bitwise or of the pairs' exit codes.
func (r *Result) Exit() int {
	code := 0
	for i := range r.Pairs {
		code |= r.Pairs[i].Exit()
	}
	return code
}

// Options change a Diff.
type Options struct {
	// Old and New start the loaders that find each tree's libraries
	// (the trees' environments).
	Old, New []loader.Option
	// Suppress leaves changes out.
	Suppress *abidiff.Suppressions
	// DebugDirs are searched, after each tree's own /usr/lib/debug, for
	// separate debug info by build ID. A pair whose two libraries both
	// have debug info is compared at the type level too.
	DebugDirs []string
}

// addTypes adds the type level to a pair's report when both libraries
// have debug info: in the file, or by build ID in the tree's
// /usr/lib/debug (Debian's -dbg packages) or opts.DebugDirs.
func (opts Options) addTypes(rep *abidiff.Report, ov *rootfs.View, o library, nv *rootfs.View, n library) {
	read := func(v *rootfs.View, l library) *dwarfabi.Info {
		dirs := append([]string{v.HostPath("/usr/lib/debug")}, opts.DebugDirs...)
		info, err := dwarfabi.ReadFile(v.HostPath(l.path), dirs...)
		if err != nil {
			return nil
		}
		return info
	}
	oi := read(ov, o)
	if oi == nil {
		return
	}
	if ni := read(nv, n); ni != nil {
		rep.AddTypes(o.facts, oi, n.facts, ni)
	}
}

// library is one soname's file in a tree.
type library struct {
	path  string
	facts *elffacts.Facts
}

// libraries finds the shared libraries of a tree by soname.
func libraries(ctx context.Context, v *rootfs.View, opts []loader.Option) (map[string]library, error) {
	var paths []string
	first := map[string]library{}
	_, err := elfwalk.Walk(ctx, v, ".", func(o elfwalk.Object) error {
		if o.Err != nil || o.Facts.Type != "dyn" || o.Facts.Soname == "" {
			return nil
		}
		p := "/" + o.Path
		paths = append(paths, p)
		if _, ok := first[o.Facts.Soname]; !ok {
			first[o.Facts.Soname] = library{path: p, facts: o.Facts}
		}
		return nil
	}, elfwalk.WithSkipDirs("proc", "sys", "dev", "run"))
	if err != nil {
		return nil, err
	}
	l := loader.New(v, opts...)
	out := map[string]library{}
	for soname, o := range l.Libraries(ctx, paths) {
		out[soname] = library{path: o.File, facts: o.Facts}
	}
	// A library no search finds (a private directory) is still the
	// tree's: its first file stands for it.
	for soname, lib := range first {
		if _, ok := out[soname]; !ok {
			out[soname] = lib
		}
	}
	return out, nil
}

// base is a soname without its version: libssl.so.1.1 → libssl.so.
func base(soname string) string {
	if i := strings.Index(soname, ".so"); i >= 0 {
		return soname[:i+3]
	}
	return soname
}

// Diff compares the shared libraries of two Views. opts are loader
// options for each (its environment); sup, when set, leaves out the
// libraries and changes it names.
func Diff(ctx context.Context, old, new *rootfs.View, opts Options) (*Result, error) {
	sup := opts.Suppress
	ol, err := libraries(ctx, old, opts.Old)
	if err != nil {
		return nil, err
	}
	nl, err := libraries(ctx, new, opts.New)
	if err != nil {
		return nil, err
	}
	for _, m := range []map[string]library{ol, nl} {
		for soname := range m {
			if sup.Library(soname) {
				delete(m, soname)
			}
		}
	}
	r := &Result{Pairs: []Pair{}}
	removedByBase, addedByBase := map[string][]string{}, map[string][]string{}
	for _, s := range sortedKeys(ol) {
		o := ol[s]
		n, ok := nl[s]
		if !ok {
			removedByBase[base(s)] = append(removedByBase[base(s)], s)
			continue
		}
		// The loader reads without hashing: the same path in both trees
		// with equal hashes is the only shortcut.
		if o.facts.SHA256 != "" && o.facts.SHA256 == n.facts.SHA256 {
			r.Unchanged++
			continue
		}
		rep := abidiff.Diff(o.path, o.facts, n.path, n.facts)
		opts.addTypes(rep, old, o, new, n)
		sup.Apply(rep)
		if rep.Exit() == 0 {
			r.Unchanged++
			continue
		}
		r.Pairs = append(r.Pairs, Pair{Soname: s, Status: Changed, Old: o.path, New: n.path, Report: rep})
	}
	for _, s := range sortedKeys(nl) {
		if _, ok := ol[s]; !ok {
			addedByBase[base(s)] = append(addedByBase[base(s)], s)
		}
	}
	for _, b := range sortedKeys(removedByBase) {
		gone, came := removedByBase[b], addedByBase[b]
		if len(gone) == 1 && len(came) == 1 {
			o, n := ol[gone[0]], nl[came[0]]
			rep := abidiff.Diff(o.path, o.facts, n.path, n.facts)
			opts.addTypes(rep, old, o, new, n)
			sup.Apply(rep)
			r.Pairs = append(r.Pairs, Pair{Soname: gone[0], NewSoname: came[0], Status: Bumped, Old: o.path, New: n.path, Report: rep})
			delete(addedByBase, b)
			continue
		}
		for _, s := range gone {
			r.Pairs = append(r.Pairs, Pair{Soname: s, Status: Removed, Old: ol[s].path})
		}
	}
	for _, b := range sortedKeys(addedByBase) {
		for _, s := range addedByBase[b] {
			r.Pairs = append(r.Pairs, Pair{Soname: s, Status: Added, New: nl[s].path})
		}
	}
	order := map[string]int{Removed: 0, Bumped: 1, Changed: 2, Added: 3}
	sort.SliceStable(r.Pairs, func(i, j int) bool {
		a, b := r.Pairs[i], r.Pairs[j]
		if order[a.Status] != order[b.Status] {
			return order[a.Status] < order[b.Status]
		}
		return a.Soname < b.Soname
	})
	return r, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
