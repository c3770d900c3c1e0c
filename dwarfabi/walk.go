package dwarfabi

import (
	"debug/dwarf"
	"fmt"
	"strings"
)

// walker reads the debug info entries that make an object's interface:
// external functions and variables (in compile units and namespaces,
// definitions matched to their declarations) and classes.
type walker struct {
	d    *dwarf.Data
	info *Info
	rd   *dwarf.Reader
	// ref reads single entries by offset (declarations, origins).
	ref *dwarf.Reader
	// dwo names the split DWARF files (.dwo) of skeleton units.
	dwo []string
}

// dwoName is the .dwo file a skeleton unit's debug info is in, "" for a
// unit that holds its own.
func dwoName(e *dwarf.Entry) string {
	for _, a := range []dwarf.Attr{dwarf.AttrDwoName, 0x2130 /* DW_AT_GNU_dwo_name */} {
		if n, ok := e.Val(a).(string); ok && n != "" {
			return n
		}
	}
	return ""
}

// maxFollow bounds a chain of DW_AT_specification / abstract_origin.
const maxFollow = 4

// maxNulls bounds the null entries read in a row: debug/dwarf's reader,
// on some corrupt units, returns null entries without advancing, for
// ever (found by mutating a C++ library; Go 1.26).
const maxNulls = 1 << 12

func (w *walker) walk() error {
	nulls := 0
	for {
		e, err := w.rd.Next()
		if err != nil {
			return fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			return nil
		}
		if e.Tag == 0 {
			if nulls++; nulls > maxNulls {
				return fmt.Errorf("reading DWARF: corrupt: %d null entries in a row", nulls)
			}
			continue
		}
		nulls = 0
		switch e.Tag {
		case dwarf.TagSkeletonUnit:
			w.dwo = append(w.dwo, dwoName(e))
			if e.Children {
				w.rd.SkipChildren()
			}
			continue
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit, dwarf.TagNamespace:
			// A DWARF 4 split unit is a compile unit naming its .dwo.
			if n := dwoName(e); n != "" {
				w.dwo = append(w.dwo, n)
			}
			// Descend: C++ puts functions and classes in namespaces.
			continue
		case dwarf.TagSubprogram:
			if err := w.function(e); err != nil {
				return err
			}
			continue
		case dwarf.TagVariable:
			if err := w.variable(e); err != nil {
				return err
			}
			continue
		case dwarf.TagStructType, dwarf.TagClassType:
			if err := w.class(e); err != nil {
				return err
			}
			continue
		}
		if e.Children {
			w.rd.SkipChildren()
		}
	}
}

// entry reads the entry at off.
func (w *walker) entry(off dwarf.Offset) (*dwarf.Entry, error) {
	if w.ref == nil {
		w.ref = w.d.Reader()
	}
	w.ref.Seek(off)
	e, err := w.ref.Next()
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("no entry at offset %#x", off)
	}
	return e, nil
}

// attr is e's attribute, or else its declaration's or abstract
// origin's, a few links deep.
func (w *walker) attr(e *dwarf.Entry, a dwarf.Attr) any {
	for i := 0; e != nil && i < maxFollow; i++ {
		if v := e.Val(a); v != nil {
			return v
		}
		off, ok := e.Val(dwarf.AttrSpecification).(dwarf.Offset)
		if !ok {
			if off, ok = e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); !ok {
				return nil
			}
		}
		next, err := w.entry(off)
		if err != nil {
			return nil
		}
		e = next
	}
	return nil
}

// symbolName is the name the dynamic symbol table gives e: its linkage
// name (C++), else its name (C).
func (w *walker) symbolName(e *dwarf.Entry) string {
	for _, a := range []dwarf.Attr{dwarf.AttrLinkageName, 0x2007 /* DW_AT_MIPS_linkage_name */, dwarf.AttrName} {
		if n, ok := w.attr(e, a).(string); ok && n != "" {
			return n
		}
	}
	return ""
}

// defined reports whether e defines an external entity: not a
// declaration, external itself or by its declaration.
func (w *walker) defined(e *dwarf.Entry) bool {
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		return false
	}
	ext, _ := w.attr(e, dwarf.AttrExternal).(bool)
	return ext
}

func (w *walker) typeOf(e *dwarf.Entry) (dwarf.Type, bool, error) {
	off, ok := w.attr(e, dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return nil, false, nil
	}
	t, err := w.d.Type(off)
	return t, true, err
}

func (w *walker) function(e *dwarf.Entry) error {
	name := w.symbolName(e)
	if name == "" || !w.defined(e) {
		if e.Children {
			w.rd.SkipChildren()
		}
		return nil
	}
	fn := &Func{}
	if short, _ := w.attr(e, dwarf.AttrName).(string); short != name && strings.HasPrefix(name, "_Z") {
		fn.Name = short
	}
	var err error
	if fn.Return, _, err = w.typeOf(e); err != nil {
		return fmt.Errorf("reading the type of %s: %w", name, err)
	}
	untyped := 0
	for e.Children {
		c, err := w.rd.Next()
		if err != nil {
			return fmt.Errorf("reading DWARF: %w", err)
		}
		if c == nil || c.Tag == 0 {
			break
		}
		if c.Tag == dwarf.TagFormalParameter {
			t, ok, err := w.typeOf(c)
			if err != nil {
				return fmt.Errorf("reading a parameter of %s: %w", name, err)
			}
			if !ok {
				untyped++
			}
			if art, _ := w.attr(c, dwarf.AttrArtificial).(bool); art && len(fn.Params) == 0 {
				fn.This = true
			}
			fn.Params = append(fn.Params, t)
		}
		if c.Children {
			w.rd.SkipChildren()
		}
	}
	if untyped > 0 {
		// gcc's C++ constructor and destructor variants (C1/C2, D1/D2)
		// describe their parameters as bare entries: the types are the
		// declaration's, in the class.
		params, ok, err := w.declParams(e)
		if err != nil {
			return fmt.Errorf("reading the parameters of %s: %w", name, err)
		}
		if !ok || len(params) != len(fn.Params) {
			return nil // no complete signature: not compared
		}
		fn.Params = params
	}
	// A concrete instance (DW_AT_abstract_origin: an inlined function's
	// out-of-line copy, or a clone such as .isra or .constprop, whose
	// parameters may differ) only when nothing else names the function.
	_, fromOrigin := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	for _, n := range w.names(e, name) {
		if _, have := w.info.Funcs[n]; have && fromOrigin {
			continue // the function's own entry, or a first copy, is kept
		}
		// Of two entries of its own (two units defining one name, as
		// glibc's nss parsers are), the last is kept.
		w.info.Funcs[n] = fn
	}
	return nil
}

// declParams reads the parameter types of the first function along e's
// declaration and origin links whose parameters all have a type; false
// when none does.
func (w *walker) declParams(e *dwarf.Entry) ([]dwarf.Type, bool, error) {
	for i := 0; e != nil && i < maxFollow; i++ {
		off, ok := e.Val(dwarf.AttrSpecification).(dwarf.Offset)
		if !ok {
			if off, ok = e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); !ok {
				return nil, false, nil
			}
		}
		r := w.d.Reader()
		r.Seek(off)
		next, err := r.Next()
		if err != nil || next == nil {
			return nil, false, nil
		}
		e = next
		if !e.Children {
			continue
		}
		var params []dwarf.Type
		complete := true
		for {
			c, err := r.Next()
			if err != nil {
				return nil, false, nil
			}
			if c == nil || c.Tag == 0 {
				break
			}
			if c.Tag == dwarf.TagFormalParameter {
				toff, ok := c.Val(dwarf.AttrType).(dwarf.Offset)
				if !ok {
					complete = false
				} else {
					t, err := w.d.Type(toff)
					if err != nil {
						return nil, false, err
					}
					params = append(params, t)
				}
			}
			if c.Children {
				r.SkipChildren()
			}
		}
		if complete && len(params) > 0 {
			return params, true, nil
		}
	}
	return nil, false, nil
}

// names are the names an entity is recorded under: its symbol name, and
// for C also its name as written when an asm label renamed the symbol
// (glibc's __GI_ aliases for internal calls: the exported symbol is the
// name as written). A C++ mangled name stands alone: the short name of
// a method is no symbol.
func (w *walker) names(e *dwarf.Entry, symbol string) []string {
	short, _ := w.attr(e, dwarf.AttrName).(string)
	if short == "" || short == symbol || strings.HasPrefix(symbol, "_Z") {
		return []string{symbol}
	}
	return []string{symbol, short}
}

func (w *walker) variable(e *dwarf.Entry) error {
	if e.Children {
		defer w.rd.SkipChildren()
	}
	name := w.symbolName(e)
	if name == "" || !w.defined(e) {
		return nil
	}
	t, ok, err := w.typeOf(e)
	if err != nil {
		return fmt.Errorf("reading the type of %s: %w", name, err)
	}
	if ok {
		for _, n := range w.names(e, name) {
			w.info.Vars[n] = t
		}
	}
	return nil
}

// class records a defined class's base classes and virtual functions;
// its members are debug/dwarf's StructType's.
func (w *walker) class(e *dwarf.Entry) error {
	name, _ := e.Val(dwarf.AttrName).(string)
	decl, _ := e.Val(dwarf.AttrDeclaration).(bool)
	if !e.Children {
		return nil
	}
	if name == "" || decl || w.info.Classes[name] != nil {
		w.rd.SkipChildren()
		return nil
	}
	cl := &Class{Virtuals: map[string]Virtual{}, Static: map[string]bool{}}
	for {
		c, err := w.rd.Next()
		if err != nil {
			return fmt.Errorf("reading DWARF: %w", err)
		}
		if c == nil || c.Tag == 0 {
			break
		}
		switch c.Tag {
		case dwarf.TagInheritance:
			b := Base{}
			if off, ok := c.Val(dwarf.AttrType).(dwarf.Offset); ok {
				if t, err := w.d.Type(off); err == nil {
					b.Name = typeName(t)
				}
			}
			b.Offset, _ = c.Val(dwarf.AttrDataMemberLoc).(int64)
			v, _ := c.Val(dwarf.AttrVirtuality).(int64)
			b.Virtual = v != 0
			cl.Bases = append(cl.Bases, b)
		case dwarf.TagMember, dwarf.TagVariable:
			// A static data member: DWARF 4 declares it as a member, 5
			// as a variable.
			decl, _ := c.Val(dwarf.AttrDeclaration).(bool)
			ext, _ := c.Val(dwarf.AttrExternal).(bool)
			if n, _ := c.Val(dwarf.AttrName).(string); n != "" && (c.Tag == dwarf.TagVariable || decl || ext) {
				cl.Static[n] = true
			}
		case dwarf.TagSubprogram:
			if v, _ := c.Val(dwarf.AttrVirtuality).(int64); v != 0 {
				slot := int64(-1)
				if loc, ok := c.Val(dwarf.AttrVtableElemLoc).([]byte); ok {
					slot = constu(loc)
				}
				short, _ := c.Val(dwarf.AttrName).(string)
				cl.Virtuals[w.symbolName(c)] = Virtual{Name: short, Slot: slot}
			}
		}
		if c.Children {
			w.rd.SkipChildren()
		}
	}
	w.info.Classes[name] = cl
	return nil
}

// constu reads a DW_OP_constu location (a vtable slot); -1 otherwise.
func constu(b []byte) int64 {
	if len(b) < 2 || b[0] != 0x10 {
		return -1
	}
	var v int64
	var shift uint
	for _, c := range b[1:] {
		if shift > 56 {
			return -1
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
		shift += 7
	}
	return -1
}
