package matrix

import (
	"context"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/storeview"
)

// Drift is what changed from one host to another, and what it does to
// the catalogued images.
type Drift struct {
	Before string `json:"before"`
	After  string `json:"after"`
	// Libraries are the sonames whose library, as each host's loader
	// finds it, was added, removed or changed; unchanged ones are left
	// out.
	Libraries []LibraryChange `json:"libraries"`
	// Images are the images whose verdict differs between the hosts.
	Images []ImageChange `json:"images"`
	// Judged counts the images compared.
	Judged int `json:"judged"`
}

// LibraryChange is one soname of the host stack.
type LibraryChange struct {
	Soname string `json:"soname"`
	// Family is the interface family the soname belongs to, if any.
	Family string `json:"family,omitempty"`
	// Change is "added", "removed", "incompatible" (versions or symbols
	// went away) or "compatible" (the file changed, nothing went away).
	Change string `json:"change"`
	Before string `json:"before,omitempty"` // the path, on the first host
	After  string `json:"after,omitempty"`
	// VersionsRemoved are symbol versions the library no longer
	// defines; SymbolsRemoved its exported symbols (name@version, or name
	// when unversioned) that are gone; SymbolsAdded counts the new ones.
	VersionsRemoved []string `json:"versions_removed,omitempty"`
	SymbolsRemoved  []string `json:"symbols_removed,omitempty"`
	SymbolsAdded    int      `json:"symbols_added,omitempty"`
}

// ImageChange is an image whose verdict moved.
type ImageChange struct {
	Image  string `json:"image"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Reason is the first reason on the worse side.
	Reason string `json:"reason,omitempty"`
}

// Worse reports whether the image fares worse after.
func (c ImageChange) Worse() bool { return rank(c.After) > rank(c.Before) }

// DriftOf compares host before with host after, both in the catalog: the
// libraries each host's loader finds by soname, then the verdicts of the
// images on each.
func DriftOf(ctx context.Context, c *storeview.Catalog, before, after string, images []string, opts Options) (*Drift, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	d := &Drift{Before: before, After: after, Libraries: []LibraryChange{}, Images: []ImageChange{}}
	stacks := [2]map[string]*loader.Object{}
	for k, name := range []string{before, after} {
		im, err := c.Open(ctx, name)
		if err != nil {
			return nil, err
		}
		stacks[k] = stack(ctx, c, name, im)
		im.Close()
	}
	sonames := map[string]bool{}
	for _, s := range stacks {
		for n := range s {
			sonames[n] = true
		}
	}
	for n := range sonames {
		ch := compareLibrary(n, stacks[0][n], stacks[1][n])
		if ch == nil {
			continue
		}
		if f, _ := opts.Set.Library(n); f != nil && f.Interface != "floor" {
			ch.Family = f.Name
		}
		d.Libraries = append(d.Libraries, *ch)
	}
	order := map[string]int{"removed": 0, "incompatible": 1, "added": 2, "compatible": 3}
	sort.Slice(d.Libraries, func(i, j int) bool {
		a, b := d.Libraries[i], d.Libraries[j]
		if order[a.Change] != order[b.Change] {
			return order[a.Change] < order[b.Change]
		}
		return a.Soname < b.Soname
	})
	if len(images) > 0 {
		m, err := Run(ctx, c, images, []string{before, after}, opts)
		if err != nil {
			return nil, err
		}
		d.Judged = len(images)
		for i, img := range images {
			b, a := m.Cell(i, 0), m.Cell(i, 1)
			if b.Status == a.Status {
				continue
			}
			ch := ImageChange{Image: img, Before: b.Status, After: a.Status, Reason: a.Reason}
			if !ch.Worse() {
				ch.Reason = b.Reason
			}
			d.Images = append(d.Images, ch)
		}
	}
	return d, nil
}

// stack is a host's shared libraries by soname, each the file the host's
// own loader finds for it (for the host's main architecture).
func stack(ctx context.Context, c *storeview.Catalog, name string, im *image.Image) map[string]*loader.Object {
	l := loader.New(im.View, loader.WithSource(c.Source()), loader.WithEnv(im.Config.Env))
	return l.Libraries(ctx, c.Objects(name))
}

// compareLibrary says how a soname's library changed; nil when it did
// not.
func compareLibrary(soname string, before, after *loader.Object) *LibraryChange {
	switch {
	case before == nil && after == nil:
		return nil
	case before == nil:
		return &LibraryChange{Soname: soname, Change: "added", After: after.Path}
	case after == nil:
		return &LibraryChange{Soname: soname, Change: "removed", Before: before.Path}
	}
	bf, af := before.Facts, after.Facts
	if bf.SHA256 == af.SHA256 {
		return nil
	}
	ch := &LibraryChange{Soname: soname, Change: "compatible", Before: before.Path, After: after.Path}
	have := map[string]bool{}
	for _, v := range af.VersionDefs {
		have[v.Name] = true
	}
	for _, v := range bf.VersionDefs {
		if !v.Base && !have[v.Name] && !strings.HasSuffix(v.Name, "_PRIVATE") {
			ch.VersionsRemoved = append(ch.VersionsRemoved, v.Name)
		}
	}
	bs, as := exported(bf), exported(af)
	for s := range bs {
		if !as[s] {
			ch.SymbolsRemoved = append(ch.SymbolsRemoved, s)
		}
	}
	for s := range as {
		if !bs[s] {
			ch.SymbolsAdded++
		}
	}
	sort.Strings(ch.SymbolsRemoved)
	if len(ch.VersionsRemoved) > 0 || len(ch.SymbolsRemoved) > 0 {
		ch.Change = "incompatible"
	}
	return ch
}

// exported is the set of symbols a library offers others: name@version,
// hidden (non-default) versions included, as old binaries bind to them.
// Private versions (GLIBC_PRIVATE) are left out: only the library's own
// companions bind to them, and they change with every release.
func exported(f *elffacts.Facts) map[string]bool {
	out := map[string]bool{}
	for _, d := range f.Defined {
		if d.From != "" || d.Copy || strings.HasSuffix(d.Version, "_PRIVATE") {
			continue
		}
		if d.Version == "" {
			out[d.Name] = true
		} else {
			out[d.Name+"@"+d.Version] = true
		}
	}
	return out
}
