package check

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// typeInfos reads each file's DWARF once per Run: nil when it has none
// (or it cannot be read: the type level is extra evidence, never a
// reason to fail).
type typeInfos struct {
	mu sync.Mutex
	m  map[string]*typeEntry
}

type typeEntry struct {
	once sync.Once
	info *dwarfabi.Info
}

func (t *typeInfos) get(view *rootfs.View, file string) *dwarfabi.Info {
	host := view.HostPath(file)
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]*typeEntry{}
	}
	e := t.m[host]
	if e == nil {
		e = &typeEntry{}
		t.m[host] = e
	}
	t.mu.Unlock()
	e.once.Do(func() {
		if info, err := dwarfabi.ReadFile(host); err == nil {
			e.info = info
		}
	})
	return e.info
}

// typeChanges adds, for each library the binds replaced where both the
// image's file and the bound one carry debug info, the incompatible type
// changes in the functions and variables the objects of the graph use of
// it (the DWARF level of 'hitch compat'): the loader takes such a
// library without a word, and the program misreads what it passes. The
// reasons are warnings; the evidence says "DWARF".
func typeChanges(v *Verdict, before *loader.Loader, beforeView, view *rootfs.View, infos *typeInfos) {
	used := false
	for _, s := range v.Shadowed {
		if s.Before == "" {
			continue
		}
		var bound *loader.Object
		for _, o := range v.Graph.Objects {
			if o.Path == s.After && o.Facts != nil {
				bound = o
				break
			}
		}
		if bound == nil {
			continue
		}
		oldInfo := infos.get(beforeView, s.Before)
		if oldInfo == nil {
			continue
		}
		newInfo := infos.get(view, bound.File)
		if newInfo == nil {
			continue
		}
		oldFacts, err := before.Facts(s.Before)
		if err != nil {
			continue
		}
		used = true
		var names []string
		for _, u := range v.Graph.Objects {
			if u != bound && u.Facts != nil && slices.Contains(u.Facts.Needed, s.Soname) {
				names = append(names, abidiff.UsedSymbols(u.Facts, oldFacts)...)
			}
		}
		slices.Sort(names)
		for _, c := range dwarfabi.Diff(oldInfo, newInfo, slices.Compact(names)) {
			if c.Class != dwarfabi.Incompatible {
				continue
			}
			v.Reasons = append(v.Reasons, Reason{Kind: "type-changed",
				Message: fmt.Sprintf("%s (bound from the host): %s", s.Soname, c.Message)})
			if v.Status == OK {
				v.Status = Warning
			}
		}
	}
	if used {
		v.Evidence = append(v.Evidence, "DWARF")
	}
}
