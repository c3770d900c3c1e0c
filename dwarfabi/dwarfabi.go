// Package dwarfabi reads the types of a library's exported functions and
// variables from its DWARF debug info (the standard library's
// debug/dwarf, DWARF 4 and 5, compressed sections included) and compares
// two versions: parameter and return types, struct and union layouts
// (size, member offsets and types), enums (values), arrays, pointers,
// qualifiers and typedefs, each change with the path from the exported
// symbol to it ("pair_f() parameter 1 → struct s → member b: offset 4 →
// 8") and a class: incompatible, compatible or harmless.
//
// C++: functions and variables are keyed by their linkage (mangled)
// names, as the dynamic symbol table names them; out-of-line definitions
// are matched to their declarations (DW_AT_specification,
// DW_AT_abstract_origin); classes are compared with their base classes
// and virtual functions (vtable slots).
package dwarfabi

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoDWARF is returned for an object without debug info.
var ErrNoDWARF = errors.New("no DWARF debug info")

// ErrSplitDWARF is returned for an object whose debug info is split into
// .dwo files (gcc -gsplit-dwarf): hitch reads only what the object holds.
var ErrSplitDWARF = errors.New("split DWARF (.dwo files), which hitch does not read")

// Info is what the debug info says of an object's exported interface.
type Info struct {
	// Funcs are the external functions by name.
	Funcs map[string]*Func
	// Vars are the external variables' types by name.
	Vars map[string]dwarf.Type
	// Classes are the C++ classes (and structs) defined, by name: their
	// base classes and virtual functions, which debug/dwarf's struct
	// types leave out.
	Classes map[string]*Class
}

// Class is what a C++ class's layout holds beyond its members.
type Class struct {
	// Bases are the direct base classes in order, with their offsets.
	Bases []Base
	// Virtuals are the virtual functions the class declares, by linkage
	// name (else name), with their vtable slots.
	Virtuals map[string]Virtual
	// Static are the static data members: not part of the layout, though
	// DWARF 4 lists them among the members (debug/dwarf, at offset 0).
	Static map[string]bool
}

// Base is a direct base class.
type Base struct {
	Name    string
	Offset  int64
	Virtual bool
}

// Virtual is a virtual function's vtable slot.
type Virtual struct {
	Name string // as written, for messages
	Slot int64
}

// Names lists the functions and variables the info describes.
func (i *Info) Names() []string {
	out := make([]string, 0, len(i.Funcs)+len(i.Vars))
	for n := range i.Funcs {
		out = append(out, n)
	}
	for n := range i.Vars {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Func is a function's signature.
type Func struct {
	// Name is the function's name as written (DW_AT_name), when its
	// symbol is a mangled name.
	Name string
	// This is set for a C++ method: its first parameter is the object.
	This   bool
	Return dwarf.Type // nil for void
	Params []dwarf.Type
}

// ReadFile reads the debug info of the ELF file at path, or, when it has
// none, of its separate debug file: DIR/.build-id/xx/yyyy.debug under
// each of debugDirs (where Debian's -dbg packages put them, under
// /usr/lib/debug), found by the file's build ID.
func ReadFile(path string, debugDirs ...string) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := Read(f)
	if !errors.Is(err, ErrNoDWARF) {
		return info, err
	}
	id := buildID(f)
	if len(id) < 3 {
		return nil, err
	}
	for _, dir := range debugDirs {
		dbg := filepath.Join(dir, ".build-id", id[:2], id[2:]+".debug")
		g, oerr := os.Open(dbg)
		if oerr != nil {
			continue
		}
		info, err := Read(g)
		g.Close()
		if err != nil {
			return nil, fmt.Errorf("%s (debug info of %s): %w", dbg, path, err)
		}
		return info, nil
	}
	return nil, err
}

// buildID is the hex GNU build ID of an ELF file, "" when it has none.
func buildID(r io.ReaderAt) string {
	f, err := elf.NewFile(r)
	if err != nil {
		return ""
	}
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return ""
	}
	b, err := s.Data()
	// namesz, descsz, type, then "GNU\0" and the ID.
	if err != nil || len(b) < 16 {
		return ""
	}
	namesz := f.ByteOrder.Uint32(b[0:4])
	descsz := f.ByteOrder.Uint32(b[4:8])
	off := 12 + (namesz+3)&^3
	if uint64(off)+uint64(descsz) > uint64(len(b)) || descsz == 0 || descsz > 64 {
		return ""
	}
	return hex.EncodeToString(b[off : off+descsz])
}

// Read reads the debug info of the ELF object in r. It returns
// ErrNoDWARF when there is none, and an error (never a panic) when it is
// corrupt.
func Read(r io.ReaderAt) (info *Info, err error) {
	defer func() {
		if p := recover(); p != nil {
			info, err = nil, fmt.Errorf("reading DWARF: %v", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		return nil, ErrNoDWARF
	}
	d, sec, err := typesDWARF(f)
	if err != nil {
		return nil, fmt.Errorf("reading DWARF: %w", err)
	}
	info = &Info{Funcs: map[string]*Func{}, Vars: map[string]dwarf.Type{}, Classes: map[string]*Class{}}
	w := &walker{d: d, info: info, rd: d.Reader()}
	if err := w.walk(); err != nil {
		// C++'s char16_t and char32_t, which debug/dwarf cannot type:
		// rewritten as unsigned characters of their size, read again.
		if !strings.Contains(err.Error(), "unrecognized encoding attribute value") || sec == nil {
			return nil, err
		}
		psec, ok := sec.patchUTF(d)
		if !ok {
			return nil, err
		}
		if d, err = psec.build(); err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		info = &Info{Funcs: map[string]*Func{}, Vars: map[string]dwarf.Type{}, Classes: map[string]*Class{}}
		w = &walker{d: d, info: info, rd: d.Reader()}
		if err := w.walk(); err != nil {
			return nil, err
		}
	}
	if len(w.dwo) > 0 {
		more := ""
		if len(w.dwo) > 1 {
			more = fmt.Sprintf(" and %d more", len(w.dwo)-1)
		}
		return nil, fmt.Errorf("%w: the types are in %s%s", ErrSplitDWARF, w.dwo[0], more)
	}
	return info, nil
}

// typesDWARF is f.DWARF() without the sections that describe code rather
// than types (line tables, location and range lists, frames): they are
// most of a big library's debug info and are never read here. Relocatable
// objects (whose debug sections need relocating) take the standard path.
func typesDWARF(f *elf.File) (*dwarf.Data, *sections, error) {
	if f.Type == elf.ET_REL {
		d, err := f.DWARF()
		return d, nil, err
	}
	want := map[string]bool{"abbrev": true, "info": true, "str": true,
		"str_offsets": true, "line_str": true, "addr": true}
	sec := &sections{dat: map[string][]byte{}}
	for _, s := range f.Sections {
		name, ok := strings.CutPrefix(s.Name, ".debug_")
		if !ok {
			name, ok = strings.CutPrefix(s.Name, ".zdebug_")
		}
		if !ok || s.Type == elf.SHT_NOBITS {
			continue
		}
		if name == "types" {
			b, err := s.Data()
			if err != nil {
				return nil, nil, fmt.Errorf("section %s: %w", s.Name, err)
			}
			sec.types = append(sec.types, b)
			continue
		}
		if _, dup := sec.dat[name]; dup || !want[name] {
			continue
		}
		b, err := s.Data()
		if err != nil {
			return nil, nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		sec.dat[name] = b
	}
	d, err := sec.build()
	return d, sec, err
}

// sections are the debug sections a dwarf.Data is built from.
type sections struct {
	dat   map[string][]byte
	types [][]byte // DWARF 4 .debug_types
}

func (sec *sections) build() (*dwarf.Data, error) {
	d, err := dwarf.New(sec.dat["abbrev"], nil, nil, sec.dat["info"], nil, nil, nil, sec.dat["str"])
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"str_offsets", "line_str", "addr"} {
		if b, ok := sec.dat[name]; ok {
			if err := d.AddSection(".debug_"+name, b); err != nil {
				return nil, err
			}
		}
	}
	for i, b := range sec.types {
		if err := d.AddTypes(fmt.Sprintf("types-%d", i), b); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// utfEncoding is DW_ATE_UTF, the encoding of C++'s char8_t, char16_t
// and char32_t (gcc 10 and later), which debug/dwarf (Go 1.26) does not
// know: it fails every type that reaches one.
const utfEncoding = 0x10

// patchUTF returns the sections with every DW_ATE_UTF base type's
// encoding byte rewritten as DW_ATE_unsigned_char, which debug/dwarf
// reads (the name and size stay, and they are what hitch compares).
// The byte is found after the entry's abbreviation code and checked by
// reading the entry again; false when some cannot be rewritten (an
// encoding held in the abbreviation, say).
func (sec *sections) patchUTF(d *dwarf.Data) (*sections, bool) {
	info := sec.dat["info"]
	if info == nil {
		return nil, false
	}
	type target struct {
		off  dwarf.Offset
		name string
		size int64
		try  int // the candidate byte, counted from the entry's start
	}
	var todo []*target
	rd := d.Reader()
	for {
		e, err := rd.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == dwarf.TagBaseType {
			if enc, _ := e.Val(dwarf.AttrEncoding).(int64); enc == utfEncoding {
				name, _ := e.Val(dwarf.AttrName).(string)
				size, _ := e.Val(dwarf.AttrByteSize).(int64)
				todo = append(todo, &target{off: e.Offset, name: name, size: size})
			}
		}
		if e.Children && e.Tag != dwarf.TagCompileUnit && e.Tag != dwarf.TagPartialUnit && e.Tag != dwarf.TagNamespace {
			rd.SkipChildren()
		}
	}
	if len(todo) == 0 {
		return nil, false
	}
	out := &sections{dat: map[string][]byte{}, types: sec.types}
	for k, v := range sec.dat {
		out.dat[k] = v
	}
	// gcc writes the encoding in the abbreviation when every such type
	// shares it (DW_AT_encoding 0x3e, DW_FORM_implicit_const 0x21, then
	// the value): rewritten there, it needs no change in the entries.
	if abbrev := sec.dat["abbrev"]; bytes.Contains(abbrev, []byte{0x3e, 0x21, utfEncoding}) {
		out.dat["abbrev"] = bytes.ReplaceAll(abbrev, []byte{0x3e, 0x21, utfEncoding}, []byte{0x3e, 0x21, 0x08})
		nd, err := out.build()
		if err != nil {
			return nil, false
		}
		r := nd.Reader()
		var left []*target
		for _, t := range todo {
			r.Seek(t.off)
			if e, err := r.Next(); err == nil && e != nil {
				if enc, _ := e.Val(dwarf.AttrEncoding).(int64); enc == utfEncoding {
					left = append(left, t)
				}
			}
		}
		if todo = left; len(todo) == 0 {
			return out, true
		}
	}
	patched := append([]byte(nil), info...)
	next := func(t *target) bool {
		for t.try++; t.try < 16 && int(t.off)+t.try < len(patched); t.try++ {
			if patched[int(t.off)+t.try] == utfEncoding {
				patched[int(t.off)+t.try] = 0x08 // DW_ATE_unsigned_char
				return true
			}
		}
		return false
	}
	for _, t := range todo {
		if !next(t) {
			return nil, false
		}
	}
	out.dat["info"] = patched
	// Check each rewrite by reading the entry again; a wrong byte is put
	// back and the next candidate tried, a few rounds at most.
	for round := 0; round < 4; round++ {
		nd, err := out.build()
		if err != nil {
			return nil, false
		}
		var wrong []*target
		r := nd.Reader()
		for _, t := range todo {
			r.Seek(t.off)
			e, err := r.Next()
			if err != nil || e == nil {
				wrong = append(wrong, t)
				continue
			}
			enc, _ := e.Val(dwarf.AttrEncoding).(int64)
			name, _ := e.Val(dwarf.AttrName).(string)
			size, _ := e.Val(dwarf.AttrByteSize).(int64)
			if e.Tag != dwarf.TagBaseType || enc != 0x08 || name != t.name || size != t.size {
				wrong = append(wrong, t)
			}
		}
		if len(wrong) == 0 {
			return out, true
		}
		for _, t := range wrong {
			patched[int(t.off)+t.try] = utfEncoding
			if !next(t) {
				return nil, false
			}
		}
		todo = wrong
	}
	return nil, false
}

// Classes of a change.
const (
	Incompatible = "incompatible"
	Compatible   = "compatible"
	Harmless     = "harmless"
)

// Change is one difference in the types of an exported symbol.
type Change struct {
	Symbol string `json:"symbol"`
	// Path leads from the symbol to what changed.
	Path    string `json:"path"`
	Class   string `json:"class"`
	Message string `json:"message"`
}

// Diff compares the types of the symbols both versions export (names
// lists them), function by function and variable by variable. A named
// struct, union or enum that changed is reported once, on the first path
// that reaches it, however many symbols reach it (as abidiff folds
// redundant changes).
func Diff(old, new *Info, names []string) []Change {
	var out []Change
	done := map[string]bool{}
	for _, name := range names {
		if of, ok := old.Funcs[name]; ok {
			nf, ok := new.Funcs[name]
			if !ok {
				continue
			}
			c := &cmp{symbol: name, seen: map[[2]dwarf.Type]bool{}, done: done, old: old, new: new}
			// A C++ function by its name as written, its symbol beside.
			fname := name + "()"
			if of.Name != "" {
				fname = of.Name + "() [" + name + "]"
			}
			if len(of.Params) != len(nf.Params) {
				c.add(fname, Incompatible, fmt.Sprintf("takes %d parameters, was %d", len(nf.Params), len(of.Params)))
			} else {
				for i := range of.Params {
					which := fmt.Sprintf("parameter %d", i+1)
					if i == 0 && of.This {
						which = "this"
					}
					c.types(fname+" "+which, of.Params[i], nf.Params[i])
				}
			}
			switch {
			case of.Return == nil && nf.Return != nil, of.Return != nil && nf.Return == nil:
				c.add(fname+" return", Incompatible, fmt.Sprintf("returns %s, was %s", typeName(nf.Return), typeName(of.Return)))
			case of.Return != nil:
				c.types(fname+" return", of.Return, nf.Return)
			}
			out = append(out, c.out...)
			continue
		}
		if ov, ok := old.Vars[name]; ok {
			if nv, ok := new.Vars[name]; ok {
				c := &cmp{symbol: name, seen: map[[2]dwarf.Type]bool{}, done: done, old: old, new: new}
				c.types(name, ov, nv)
				out = append(out, c.out...)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Symbol < out[j].Symbol })
	return out
}

type cmp struct {
	symbol string
	seen   map[[2]dwarf.Type]bool
	// done holds the named types already compared, by both names and
	// sizes, across the symbols of one Diff.
	done  map[string]bool
	out   []Change
	depth int
	// old and new hold the classes' bases and virtual functions.
	old, new *Info
}

// once reports whether the named type pair is compared for the first
// time in this Diff; anonymous types always are.
func (c *cmp) once(kind, a, b string, sa, sb int64) bool {
	if a == "" || b == "" {
		return true
	}
	key := fmt.Sprintf("%s %s %d %s %d", kind, a, sa, b, sb)
	if c.done[key] {
		return false
	}
	c.done[key] = true
	return true
}

func (c *cmp) add(path, class, msg string) {
	c.out = append(c.out, Change{Symbol: c.symbol, Path: path, Class: class, Message: path + ": " + msg})
}

// typeName names a type as C writes it, to a bounded depth: debug/dwarf's
// String recurses without end on the cycles corrupt debug info can hold.
func typeName(t dwarf.Type) string { return name(t, 8) }

func name(t dwarf.Type, depth int) string {
	if t == nil {
		return "void"
	}
	if depth == 0 {
		return "…"
	}
	switch u := t.(type) {
	case *dwarf.PtrType:
		return name(u.Type, depth-1) + " *"
	case *dwarf.QualType:
		return u.Qual + " " + name(u.Type, depth-1)
	case *dwarf.TypedefType:
		return u.Name
	case *dwarf.StructType:
		return u.Kind + " " + or(u.StructName, "(anonymous)")
	case *dwarf.EnumType:
		return "enum " + or(u.EnumName, "(anonymous)")
	case *dwarf.ArrayType:
		return fmt.Sprintf("%s[%d]", name(u.Type, depth-1), u.Count)
	case *dwarf.FuncType:
		return "function"
	case *dwarf.VoidType:
		return "void"
	}
	return or(t.Common().Name, "(unnamed)")
}

// maxDepth bounds how deep a comparison follows types: real interfaces
// are far shallower; corrupt debug info can loop.
const maxDepth = 64

// strip removes typedefs and qualifiers, a bounded number of them.
func strip(t dwarf.Type) dwarf.Type {
	for i := 0; i < maxDepth; i++ {
		switch u := t.(type) {
		case *dwarf.TypedefType:
			t = u.Type
		case *dwarf.QualType:
			t = u.Type
		default:
			return t
		}
	}
	return t
}

// types compares two types met at path.
func (c *cmp) types(path string, a, b dwarf.Type) {
	if c.depth >= maxDepth {
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	if a == nil || b == nil {
		if (a == nil) != (b == nil) {
			c.add(path, Incompatible, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
		}
		return
	}
	key := [2]dwarf.Type{a, b}
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	if ta, ok := a.(*dwarf.TypedefType); ok {
		if tb, ok := b.(*dwarf.TypedefType); ok && ta.Name != tb.Name {
			c.add(path, Harmless, fmt.Sprintf("typedef %s renamed %s", ta.Name, tb.Name))
		}
	}
	sa, sb := strip(a), strip(b)
	switch x := sa.(type) {
	case *dwarf.PtrType:
		y, ok := sb.(*dwarf.PtrType)
		if !ok {
			c.add(path, Incompatible, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
			return
		}
		c.types(path+" → *", x.Type, y.Type)
	case *dwarf.StructType:
		y, ok := sb.(*dwarf.StructType)
		// C++'s struct and class differ only in default access.
		if !ok || x.Kind != y.Kind && (x.Kind == "union" || y.Kind == "union") {
			c.add(path, Incompatible, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
			return
		}
		c.record(path+" → "+x.Kind+" "+or(x.StructName, "(anonymous)"), x, y)
	case *dwarf.EnumType:
		y, ok := sb.(*dwarf.EnumType)
		if !ok {
			c.add(path, Incompatible, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
			return
		}
		c.enum(path+" → enum "+or(x.EnumName, "(anonymous)"), x, y)
	case *dwarf.ArrayType:
		y, ok := sb.(*dwarf.ArrayType)
		if !ok {
			c.add(path, Incompatible, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
			return
		}
		if x.Count != y.Count {
			c.add(path, Incompatible, fmt.Sprintf("array of %d elements now has %d", x.Count, y.Count))
		}
		c.types(path+" → element", x.Type, y.Type)
	case *dwarf.FuncType:
		y, ok := sb.(*dwarf.FuncType)
		if !ok || len(x.ParamType) != len(y.ParamType) {
			c.add(path, Incompatible, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
			return
		}
		for i := range x.ParamType {
			c.types(fmt.Sprintf("%s → parameter %d", path, i+1), x.ParamType[i], y.ParamType[i])
		}
		c.types(path+" → return", x.ReturnType, y.ReturnType)
	default:
		// Base types (int, double, char, bool …) and what debug/dwarf
		// does not take apart: by name and size.
		if sa.Size() != sb.Size() || typeName(sa) != typeName(sb) {
			class := Incompatible
			if sa.Size() == sb.Size() && sameFamily(sa, sb) {
				class = Compatible
			}
			c.add(path, class, fmt.Sprintf("type changed from %s to %s", typeName(a), typeName(b)))
		}
	}
}

// sameFamily: two base types a caller passes the same way (both
// integers, say int and unsigned int).
func sameFamily(a, b dwarf.Type) bool {
	kind := func(t dwarf.Type) string {
		switch t.(type) {
		case *dwarf.IntType, *dwarf.UintType, *dwarf.CharType, *dwarf.UcharType, *dwarf.BoolType:
			return "int"
		case *dwarf.FloatType:
			return "float"
		}
		return fmt.Sprintf("%T", t)
	}
	return kind(a) == kind(b)
}

// record compares two structs or unions: size, then members by name.
func (c *cmp) record(path string, x, y *dwarf.StructType) {
	if x.Incomplete || y.Incomplete {
		return // declared only: its layout is not part of the interface
	}
	if !c.once(x.Kind, x.StructName, y.StructName, x.ByteSize, y.ByteSize) {
		return
	}
	if x.ByteSize != y.ByteSize {
		c.add(path, Incompatible, fmt.Sprintf("size changed from %d to %d bytes", x.ByteSize, y.ByteSize))
	}
	if x.Kind != "union" && x.StructName != "" && x.StructName == y.StructName {
		c.class(path, c.old.Classes[x.StructName], c.new.Classes[y.StructName])
	}
	// Static members hold no place in the object.
	var xf, yf []*dwarf.StructField
	for _, f := range x.Field {
		if cl := c.old.Classes[x.StructName]; cl == nil || !cl.Static[f.Name] {
			xf = append(xf, f)
		}
	}
	for _, f := range y.Field {
		if cl := c.new.Classes[y.StructName]; cl == nil || !cl.Static[f.Name] {
			yf = append(yf, f)
		}
	}
	fields := map[string]*dwarf.StructField{}
	for _, f := range yf {
		fields[f.Name] = f
	}
	seen := map[string]bool{}
	for _, f := range xf {
		seen[f.Name] = true
		g, ok := fields[f.Name]
		mp := path + " → member " + or(f.Name, "(anonymous)")
		if !ok {
			c.add(mp, Incompatible, "removed")
			continue
		}
		if fb, gb := bitPos(f), bitPos(g); fb != gb || f.BitSize != g.BitSize {
			if f.BitSize == 0 && g.BitSize == 0 {
				c.add(mp, Incompatible, fmt.Sprintf("offset changed from %d to %d", fb/8, gb/8))
			} else {
				c.add(mp, Incompatible, fmt.Sprintf("bit-field moved from bit %d (%d bits) to bit %d (%d bits)", fb, f.BitSize, gb, g.BitSize))
			}
		}
		c.types(mp, f.Type, g.Type)
	}
	for _, g := range yf {
		if !seen[g.Name] {
			class := Incompatible
			if x.ByteSize == y.ByteSize {
				class = Compatible // in what was padding
			}
			c.add(path+" → member "+or(g.Name, "(anonymous)"), class, fmt.Sprintf("added at offset %d", g.ByteOffset))
		}
	}
}

// class compares what a C++ class holds beyond its members: its base
// classes (in order, at their offsets) and its virtual functions'
// vtable slots. Any change there moves what compiled code reaches
// through the object or its vtable, in the library and in programs
// (classes derived in programs included): all are incompatible.
func (c *cmp) class(path string, a, b *Class) {
	if a == nil || b == nil {
		return
	}
	bases := func(cl *Class) string {
		var parts []string
		for _, b := range cl.Bases {
			v := ""
			if b.Virtual {
				v = "virtual "
			}
			parts = append(parts, fmt.Sprintf("%s%s at %d", v, b.Name, b.Offset))
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	if ba, bb := bases(a), bases(b); ba != bb {
		class := Incompatible
		if len(a.Bases) == len(b.Bases) {
			// The same places, other names (a base class renamed):
			// what the derived class's size and members say counts.
			class = Harmless
			for i := range a.Bases {
				if a.Bases[i].Offset != b.Bases[i].Offset || a.Bases[i].Virtual != b.Bases[i].Virtual {
					class = Incompatible
				}
			}
		}
		c.add(path+" → base classes", class, fmt.Sprintf("changed from %s to %s", ba, bb))
	}
	names := make([]string, 0, len(a.Virtuals))
	for n := range a.Virtuals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		va := a.Virtuals[n]
		vb, ok := b.Virtuals[n]
		vp := path + " → virtual " + or(va.Name, n) + "()"
		switch {
		case !ok:
			c.add(vp, Incompatible, "removed from the vtable")
		case va.Slot != vb.Slot:
			c.add(vp, Incompatible, fmt.Sprintf("moved from vtable slot %d to %d", va.Slot, vb.Slot))
		}
	}
	names = names[:0]
	for n := range b.Virtuals {
		if _, ok := a.Virtuals[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		vb := b.Virtuals[n]
		c.add(path+" → virtual "+or(vb.Name, n)+"()", Incompatible, fmt.Sprintf("added at vtable slot %d: the vtable grows, and classes derived from it in programs put their own virtuals where it now is", vb.Slot))
	}
}

// bitPos is a member's position in bits from the start of its struct,
// however the producer wrote it: DWARF 5's DW_AT_data_bit_offset, or
// DWARF 2-4's byte offset with DW_AT_bit_offset counted from the most
// significant bit of the storage unit (little-endian layout).
func bitPos(f *dwarf.StructField) int64 {
	if f.BitSize == 0 {
		return f.ByteOffset * 8
	}
	if f.DataBitOffset != 0 || f.BitOffset == 0 && f.ByteSize == 0 {
		return f.DataBitOffset
	}
	return f.ByteOffset*8 + f.ByteSize*8 - f.BitOffset - f.BitSize
}

// enum compares enumerators: a value changed or removed breaks callers;
// one added does not.
func (c *cmp) enum(path string, x, y *dwarf.EnumType) {
	if !c.once("enum", x.EnumName, y.EnumName, x.ByteSize, y.ByteSize) {
		return
	}
	if x.ByteSize != y.ByteSize {
		c.add(path, Incompatible, fmt.Sprintf("size changed from %d to %d bytes", x.ByteSize, y.ByteSize))
	}
	vals := map[string]int64{}
	for _, v := range y.Val {
		vals[v.Name] = v.Val
	}
	seen := map[string]bool{}
	for _, v := range x.Val {
		seen[v.Name] = true
		w, ok := vals[v.Name]
		switch {
		case !ok:
			c.add(path+" → "+v.Name, Incompatible, "removed")
		case w != v.Val:
			c.add(path+" → "+v.Name, Incompatible, fmt.Sprintf("value changed from %d to %d", v.Val, w))
		}
	}
	for _, v := range y.Val {
		if !seen[v.Name] {
			c.add(path+" → "+v.Name, Compatible, fmt.Sprintf("added with value %d", v.Val))
		}
	}
}

func or(s, alt string) string {
	if strings.TrimSpace(s) == "" {
		return alt
	}
	return s
}
