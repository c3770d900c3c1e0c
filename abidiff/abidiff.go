// Package abidiff says whether one version of a shared library can
// replace another, from the ELF facts of both: exported symbols and their
// versions, kinds, sizes and bindings, version definitions, the soname,
// needed libraries and the x86 ISA level. Each change is classified as
// incompatible (a program built against the old library may fail to load
// or misbehave with the new one) or compatible; the exit code follows
// abidiff's bitmask so scripts written for it keep working.
package abidiff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/elffacts"
)

// Exit code bits, as abidiff(1) sets them.
const (
	ExitError        = 1 // the comparison could not be made
	ExitUsage        = 2
	ExitChange       = 4 // the ABI changed
	ExitIncompatible = 8 // ... incompatibly
)

// Kinds of change.
const (
	SymbolRemoved   = "symbol-removed"
	SymbolAdded     = "symbol-added"
	SymbolMoved     = "symbol-version-moved" // the name lost one version and gained another
	DefaultChanged  = "default-version-changed"
	SizeChanged     = "size-changed"
	KindChanged     = "kind-changed"
	BindingChanged  = "binding-changed"
	VersionRemoved  = "version-removed"
	VersionAdded    = "version-added"
	SonameChanged   = "soname-changed"
	NeededAdded     = "needed-added"
	NeededRemoved   = "needed-removed"
	ISARaised       = "isa-level-raised"
	ISALowered      = "isa-level-lowered"
	ClassChanged    = "class-changed"
	TypeChanged     = "type-changed" // from the debug info (dwarfabi)
	MachineChanged  = "machine-changed"
	noSymbolVersion = ""
)

// Change is one difference between the old and the new library.
type Change struct {
	Kind string `json:"kind"`
	// Symbol is name@version (name alone when unversioned), or the
	// version, soname or library the change is about.
	Subject      string `json:"subject"`
	Old          string `json:"old,omitempty"`
	New          string `json:"new,omitempty"`
	Incompatible bool   `json:"incompatible"`
	// Harmless marks a change that touches no caller (a typedef renamed
	// for the same type): reported, not counted in the exit code.
	Harmless bool   `json:"harmless,omitempty"`
	Message  string `json:"message"`
}

// Report is the comparison of two libraries.
type Report struct {
	Old string `json:"old"`
	New string `json:"new"`
	// Level says what was compared: "symbols" (the dynamic symbol
	// tables and ELF headers), or "symbols and types" when both had
	// debug info (AddTypes).
	Level   string   `json:"level"`
	Changes []Change `json:"changes"`
	Summary Summary  `json:"summary"`
	// Suppressed counts the changes Suppressions left out.
	Suppressed int `json:"suppressed,omitempty"`
}

// Summary counts the changes.
type Summary struct {
	Removed      int `json:"removed"`
	Added        int `json:"added"`
	Changed      int `json:"changed"`
	Incompatible int `json:"incompatible"`
	Harmless     int `json:"harmless,omitempty"`
}

// Exit is the report's abidiff-style exit code: 0 when nothing changed,
// 4 for compatible changes only, 12 when one is incompatible.
func (r *Report) Exit() int {
	switch {
	case r.Summary.Incompatible > 0:
		return ExitChange | ExitIncompatible
	case len(r.Changes) > r.Summary.Harmless:
		return ExitChange
	}
	return 0
}

// symbol is an exported definition.
type symbol struct {
	name, version string
	hidden        bool
	d             elffacts.DefinedSymbol
}

func (s symbol) key() string {
	if s.version == noSymbolVersion {
		return s.name
	}
	return s.name + "@" + s.version
}

// exported lists the definitions other objects can bind to: global,
// weak and unique symbols, hidden (non-default) versions included (old
// programs bind to them), version-node markers and copies of other
// objects' data left out.
func exported(f *elffacts.Facts) map[string]symbol {
	nodes := map[string]bool{}
	for _, v := range f.VersionDefs {
		nodes[v.Name] = true
	}
	out := map[string]symbol{}
	for _, d := range f.Defined {
		if d.From != "" || d.Copy {
			continue
		}
		if d.Name == d.Version && nodes[d.Name] && d.Size == 0 {
			continue // the ABS symbol naming a version node
		}
		s := symbol{name: d.Name, version: d.Version, hidden: d.Hidden, d: d}
		out[s.key()] = s
	}
	return out
}

// isData reports whether a symbol's size is part of its ABI: a program
// may hold a copy of it (copy relocation) or index into it.
func isData(typ string) bool { return typ == "object" || typ == "tls" || typ == "common" }

// Diff compares the facts of an old and a new version of a library at
// the symbol level.
func Diff(oldName string, old *elffacts.Facts, newName string, new *elffacts.Facts) *Report {
	r := &Report{Old: oldName, New: newName, Level: "symbols", Changes: []Change{}}
	add := func(c Change) { r.Changes = append(r.Changes, c) }

	if old.Class != new.Class {
		add(Change{Kind: ClassChanged, Subject: "class", Old: old.Class, New: new.Class, Incompatible: true,
			Message: fmt.Sprintf("ELF class changed from %s to %s", old.Class, new.Class)})
	}
	if old.Machine != new.Machine {
		add(Change{Kind: MachineChanged, Subject: "machine", Old: old.Machine, New: new.Machine, Incompatible: true,
			Message: fmt.Sprintf("machine changed from %s to %s", old.Machine, new.Machine)})
	}
	if old.Soname != new.Soname {
		add(Change{Kind: SonameChanged, Subject: "soname", Old: old.Soname, New: new.Soname, Incompatible: true,
			Message: fmt.Sprintf("soname changed from %s to %s: programs linked against the old one will not find the new one", or(old.Soname, "(none)"), or(new.Soname, "(none)"))})
	}
	if o, n := isaLevel(old), isaLevel(new); o != n {
		if n > o {
			add(Change{Kind: ISARaised, Subject: "x86 ISA level", Old: isaName(o), New: isaName(n), Incompatible: true,
				Message: fmt.Sprintf("needs %s CPUs now (was %s): it will not load on older ones", isaName(n), isaName(o))})
		} else {
			add(Change{Kind: ISALowered, Subject: "x86 ISA level", Old: isaName(o), New: isaName(n),
				Message: fmt.Sprintf("needs only %s CPUs now (was %s)", isaName(n), isaName(o))})
		}
	}
	oldNeeded, newNeeded := setOf(old.Needed), setOf(new.Needed)
	for _, n := range old.Needed {
		if !newNeeded[n] {
			add(Change{Kind: NeededRemoved, Subject: n, Message: fmt.Sprintf("no longer needs %s (programs that relied on it being loaded must link it themselves)", n)})
		}
	}
	for _, n := range new.Needed {
		if !oldNeeded[n] {
			add(Change{Kind: NeededAdded, Subject: n, Message: fmt.Sprintf("now needs %s", n)})
		}
	}

	// Version definitions: a program needing a removed node fails to load
	// ("version `X' not found").
	oldNodes, newNodes := versionNodes(old), versionNodes(new)
	for _, v := range sortedKeys(oldNodes) {
		if !newNodes[v] {
			add(Change{Kind: VersionRemoved, Subject: v, Incompatible: true,
				Message: fmt.Sprintf("version %s is no longer defined: programs that need it will not load", v)})
		}
	}
	for _, v := range sortedKeys(newNodes) {
		if !oldNodes[v] {
			add(Change{Kind: VersionAdded, Subject: v, Message: fmt.Sprintf("defines version %s", v)})
		}
	}

	os, ns := exported(old), exported(new)
	newByName := byName(ns)
	for _, k := range sortedKeys(os) {
		o := os[k]
		n, ok := ns[k]
		if !ok {
			c := Change{Kind: SymbolRemoved, Subject: k, Incompatible: true,
				Message: fmt.Sprintf("%s %s removed", kindWord(o.d.Type), k)}
			if others := versionsOf(newByName[o.name]); len(others) > 0 {
				c.Kind = SymbolMoved
				c.New = strings.Join(others, ", ")
				c.Message = fmt.Sprintf("%s %s removed; %s now has version %s only", kindWord(o.d.Type), k, o.name, c.New)
			}
			add(c)
			continue
		}
		if o.d.Type != n.d.Type && !(sameCode(o.d.Type) && sameCode(n.d.Type)) {
			add(Change{Kind: KindChanged, Subject: k, Old: o.d.Type, New: n.d.Type, Incompatible: true,
				Message: fmt.Sprintf("%s changed from %s to %s", k, kindWord(o.d.Type), kindWord(n.d.Type))})
		} else if isData(o.d.Type) && o.d.Size != n.d.Size {
			add(Change{Kind: SizeChanged, Subject: k, Old: fmt.Sprint(o.d.Size), New: fmt.Sprint(n.d.Size), Incompatible: true,
				Message: fmt.Sprintf("%s %s changed size from %d to %d bytes", kindWord(o.d.Type), k, o.d.Size, n.d.Size)})
		}
		if o.d.Binding != n.d.Binding {
			add(Change{Kind: BindingChanged, Subject: k, Old: o.d.Binding, New: n.d.Binding,
				Message: fmt.Sprintf("%s binding changed from %s to %s", k, o.d.Binding, n.d.Binding)})
		}
		if !o.hidden && n.hidden {
			// The old default is kept as a non-default version: programs
			// linked against it still bind; new links get another.
			def := defaultVersion(newByName[o.name])
			add(Change{Kind: DefaultChanged, Subject: o.name, Old: o.version, New: def,
				Message: fmt.Sprintf("default version of %s changed from %s to %s (%s kept for programs linked against it)", o.name, o.version, or(def, "none"), k)})
		}
	}
	for _, k := range sortedKeys(ns) {
		n := ns[k]
		if _, ok := os[k]; ok {
			continue
		}
		add(Change{Kind: SymbolAdded, Subject: k, Message: fmt.Sprintf("%s %s added", kindWord(n.d.Type), k)})
	}
	r.count()
	return r
}

// count fills the summary from the changes.
func (r *Report) count() {
	r.Summary = Summary{}
	for _, c := range r.Changes {
		if c.Harmless {
			r.Summary.Harmless++
			continue
		}
		switch c.Kind {
		case SymbolRemoved, SymbolMoved, VersionRemoved, NeededRemoved, UsedSymbolMissing, UsedVersionMissing, NeededSonameGone:
			r.Summary.Removed++
		case SymbolAdded, VersionAdded, NeededAdded:
			r.Summary.Added++
		default:
			r.Summary.Changed++
		}
		if c.Incompatible {
			r.Summary.Incompatible++
		}
	}
}

// AddTypes adds what the debug info of both versions (oldTypes of old,
// newTypes of new) says of the types of the symbols both export, and
// marks the report as comparing types.
func (r *Report) AddTypes(old *elffacts.Facts, oldTypes *dwarfabi.Info, new *elffacts.Facts, newTypes *dwarfabi.Info) {
	exportedNames := func(f *elffacts.Facts) map[string]bool {
		out := map[string]bool{}
		for _, s := range exported(f) {
			out[s.name] = true
		}
		return out
	}
	on, nn := exportedNames(old), exportedNames(new)
	var both []string
	for n := range on {
		if nn[n] {
			both = append(both, n)
		}
	}
	sort.Strings(both)
	for _, c := range dwarfabi.Diff(oldTypes, newTypes, both) {
		r.Changes = append(r.Changes, Change{Kind: TypeChanged, Subject: c.Symbol, Incompatible: c.Class == dwarfabi.Incompatible,
			Harmless: c.Class == dwarfabi.Harmless, Message: c.Message})
	}
	r.Level = "symbols and types"
	r.count()
}

// sameCode: functions and IFUNCs are both called; one becoming the other
// changes nothing for a caller.
func sameCode(t string) bool { return t == "func" || t == "ifunc" }

func kindWord(t string) string {
	switch t {
	case "func", "ifunc":
		return "function"
	case "object", "common":
		return "variable"
	case "tls":
		return "thread-local variable"
	}
	return "symbol"
}

func versionNodes(f *elffacts.Facts) map[string]bool {
	out := map[string]bool{}
	for _, v := range f.VersionDefs {
		if !v.Base {
			out[v.Name] = true
		}
	}
	return out
}

func byName(syms map[string]symbol) map[string][]symbol {
	out := map[string][]symbol{}
	for _, s := range syms {
		out[s.name] = append(out[s.name], s)
	}
	return out
}

func versionsOf(syms []symbol) []string {
	var out []string
	for _, s := range syms {
		out = append(out, or(s.version, "(unversioned)"))
	}
	sort.Strings(out)
	return out
}

func defaultVersion(syms []symbol) string {
	for _, s := range syms {
		if !s.hidden {
			return s.version
		}
	}
	return ""
}

// isaLevel is the highest x86-64 level the object needs (0 baseline).
func isaLevel(f *elffacts.Facts) int {
	level := 0
	for _, l := range f.X86ISANeeded {
		var n int
		if _, err := fmt.Sscanf(l, "x86-64-v%d", &n); err == nil && n > level {
			level = n
		}
	}
	return level
}

func isaName(l int) string {
	if l <= 1 {
		return "x86-64 (baseline)"
	}
	return fmt.Sprintf("x86-64-v%d", l)
}

func setOf(ss []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range ss {
		out[s] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
