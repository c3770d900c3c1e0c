// Package cudf reads and writes CUDF 2.0 documents (the Common
// Upgradeability Description Format of the Mancoosi project): a preamble
// declaring typed package properties, a universe of package stanzas, a
// request; and solutions (the new installed set: package stanzas only).
//
// Every value is typed as the specification says — int, posint, nat,
// bool, string, pkgname, ident, enum[…], vpkg, vpkglist, vpkgformula
// (with true! and false!), veqpkg, veqpkglist — core properties by their
// schema and extra ones by the preamble's declarations, with defaults.
// Errors carry the line and column. Package names are what libCUDF's
// lexer takes: letters, digits and - + . / @ ( ) %, a leading digit
// included.
package cudf

import (
	"fmt"
	"strconv"
)

// Kind is the kind of a CUDF type.
type Kind int

// The CUDF 2.0 types.
const (
	Int Kind = iota + 1
	Posint
	Nat
	Bool
	String
	Pkgname
	Ident
	Enum
	Vpkg
	Vpkglist
	Vpkgformula
	Veqpkg
	Veqpkglist
)

var kindNames = map[Kind]string{Int: "int", Posint: "posint", Nat: "nat", Bool: "bool", String: "string",
	Pkgname: "pkgname", Ident: "ident", Enum: "enum", Vpkg: "vpkg", Vpkglist: "vpkglist",
	Vpkgformula: "vpkgformula", Veqpkg: "veqpkg", Veqpkglist: "veqpkglist"}

func (k Kind) String() string { return kindNames[k] }

// Type is a property type; Enum lists the values of an enum type.
type Type struct {
	Kind Kind
	Enum []string
}

func (t Type) String() string {
	if t.Kind == Enum {
		s := "enum["
		for i, e := range t.Enum {
			if i > 0 {
				s += ","
			}
			s += e
		}
		return s + "]"
	}
	return t.Kind.String()
}

// Relop is a version constraint's operator; "" for none.
type Relop string

// The operators.
const (
	Eq  Relop = "="
	Neq Relop = "!="
	Ge  Relop = ">="
	Gt  Relop = ">"
	Le  Relop = "<="
	Lt  Relop = "<"
)

// Holds reports whether version v satisfies the constraint op w.
func (op Relop) Holds(v, w int64) bool {
	switch op {
	case "":
		return true
	case Eq:
		return v == w
	case Neq:
		return v != w
	case Ge:
		return v >= w
	case Gt:
		return v > w
	case Le:
		return v <= w
	case Lt:
		return v < w
	}
	return false
}

// VPkg is a package name with an optional version constraint.
type VPkg struct {
	Name    string
	Op      Relop // "" for any version
	Version int64
}

func (v VPkg) String() string {
	if v.Op == "" {
		return v.Name
	}
	return v.Name + " " + string(v.Op) + " " + strconv.FormatInt(v.Version, 10)
}

// Formula is a conjunction of disjunctions of VPkgs: nil (or empty) is
// true!, and a formula holding an empty disjunction is false!.
type Formula [][]VPkg

// False is the formula false!.
var False = Formula{{}}

// IsFalse reports whether the formula can never hold.
func (f Formula) IsFalse() bool {
	for _, or := range f {
		if len(or) == 0 {
			return true
		}
	}
	return false
}

// Value is a typed property value; which field holds it follows Type.
type Value struct {
	Type    Type
	Int     int64   // int, posint, nat
	Bool    bool    // bool
	Str     string  // string, pkgname, ident, enum
	Pkgs    []VPkg  // vpkg (one), vpkglist, veqpkg (one), veqpkglist
	Formula Formula // vpkgformula
}

// Prop is a named property value, as written in a stanza.
type Prop struct {
	Name  string
	Value Value
}

// PropDecl declares an extra package property in the preamble.
type PropDecl struct {
	Name    string
	Type    Type
	Default *Value // nil: the property is required
}

// Preamble is the document's first stanza.
type Preamble struct {
	ID string
	// Props are the declared extra package properties, in order.
	Props                                     []PropDecl
	UnivChecksum, StatusChecksum, ReqChecksum string
}

// Decl returns the declaration of property name, or nil.
func (p *Preamble) Decl(name string) *PropDecl {
	if p == nil {
		return nil
	}
	for i := range p.Props {
		if p.Props[i].Name == name {
			return &p.Props[i]
		}
	}
	return nil
}

// Keep values.
const (
	KeepNone    = ""
	KeepVersion = "version"
	KeepPackage = "package"
	KeepFeature = "feature"
)

// Package is a package stanza, defaults applied.
type Package struct {
	Name         string
	Version      int64
	Depends      Formula
	Conflicts    []VPkg
	Provides     []VPkg // Op "" or "="
	Installed    bool
	WasInstalled bool
	Keep         string // KeepNone, KeepVersion, KeepPackage, KeepFeature
	// Extra are the declared properties the stanza sets, in order, then
	// the declared defaults it does not set.
	Extra []Prop
	// Line is where the stanza starts in the document it was read from.
	Line int
}

// Get returns the value of an extra property.
func (p *Package) Get(name string) (Value, bool) {
	for _, e := range p.Extra {
		if e.Name == name {
			return e.Value, true
		}
	}
	return Value{}, false
}

func (p *Package) String() string { return p.Name + " " + strconv.FormatInt(p.Version, 10) }

// Request is the request stanza.
type Request struct {
	ID                       string
	Install, Remove, Upgrade []VPkg
	// Extra are properties the request sets beyond these.
	Extra []Prop
	Line  int
}

// Document is a CUDF document, or a solution (Packages only).
type Document struct {
	Preamble *Preamble // nil when the document has none
	Packages []*Package
	Request  *Request // nil for a universe or a solution
}

// Error is a syntax or type error at a place in a document.
type Error struct {
	File      string // "" when not known
	Line, Col int    // 1-based
	Msg       string
}

func (e *Error) Error() string {
	f := e.File
	if f == "" {
		f = "cudf"
	}
	return fmt.Sprintf("%s:%d:%d: %s", f, e.Line, e.Col, e.Msg)
}
