package cudf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// field is one property line (with its continuations) of a stanza.
type field struct {
	key   string
	value string
	line  int
	col   int // column of the value's first character
}

type stanza struct {
	fields []field
	line   int
}

// maxLine bounds one logical line (a property with its continuations):
// real universes have long depends lines, not gigabyte ones.
const maxLine = 64 << 20

// Parse reads a CUDF document (preamble, universe, request), a universe,
// or a solution from r. name names the input in errors.
func Parse(r io.Reader, name string) (*Document, error) {
	return ParseWith(r, name, ParseOptions{})
}

// ParseOptions change how a document is read.
type ParseOptions struct {
	// Keep, when set, says which extra package properties (those the
	// preamble declares) to read: the others are skipped, their values
	// neither checked nor kept, nor their defaults given. A solver reads
	// the properties its criteria use and no more.
	Keep func(property string) bool
}

// ParseWith is Parse with options. It reads one stanza at a time.
func ParseWith(r io.Reader, name string, opts ParseOptions) (*Document, error) {
	p := &parser{name: name, keep: opts.Keep}
	doc := &Document{}
	n := 0
	err := split(r, name, func(st stanza) error {
		n++
		var err error
		switch post := st.fields[0].key; post {
		case "preamble":
			if n != 1 {
				return p.errAt(st.fields[0], 1, "the preamble must be the first stanza")
			}
			doc.Preamble, err = p.preamble(st)
			return err
		case "package":
			if doc.Request != nil {
				return p.errAt(st.fields[0], 1, "package stanza after the request")
			}
			pkg, err := p.pkg(st, doc.Preamble)
			if err != nil {
				return err
			}
			doc.Packages = append(doc.Packages, pkg)
			return nil
		case "request":
			if doc.Request != nil {
				return p.errAt(st.fields[0], 1, "a second request stanza")
			}
			doc.Request, err = p.request(st)
			return err
		default:
			return p.errAt(st.fields[0], 1, fmt.Sprintf("unknown stanza %q (want preamble, package or request)", post))
		}
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// split reads the stanzas, handing each to fn as it ends: RFC 822-like
// lines, "#" comments in the first column, continuation lines starting
// with a space, empty lines between stanzas.
func split(r io.Reader, name string, fn func(stanza) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var cur *stanza
	lineNo := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		st := *cur
		cur = nil
		return fn(st)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", or(name, "cudf"), err)
		}
		if line == "" && err != nil {
			break
		}
		lineNo++
		if len(line) > maxLine {
			return &Error{File: name, Line: lineNo, Col: 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimLeft(line, " \t") == "":
			if ferr := flush(); ferr != nil {
				return ferr
			}
		case line[0] == ' ':
			if cur == nil {
				return &Error{File: name, Line: lineNo, Col: 1, Msg: "continuation line outside a property"}
			}
			f := &cur.fields[len(cur.fields)-1]
			if len(f.value)+len(line) > maxLine {
				return &Error{File: name, Line: lineNo, Col: 1, Msg: fmt.Sprintf("property longer than %d bytes", maxLine)}
			}
			f.value += " " + line[1:]
		default:
			i := strings.IndexByte(line, ':')
			if i <= 0 || !isIdent(line[:i]) {
				return &Error{File: name, Line: lineNo, Col: 1, Msg: fmt.Sprintf("not a property line (want KEY: VALUE with a key like %q): %q", "depends", clip(line))}
			}
			if i+1 < len(line) && line[i+1] != ' ' {
				return &Error{File: name, Line: lineNo, Col: i + 2, Msg: "want a space after the colon"}
			}
			value, col := "", i+3
			if i+2 <= len(line) {
				value = line[min(i+2, len(line)):]
			}
			if cur == nil {
				cur = &stanza{line: lineNo}
			}
			cur.fields = append(cur.fields, field{key: line[:i], value: value, line: lineNo, col: col})
		}
		if err != nil {
			break
		}
	}
	return flush()
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func or(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// isIdent: [a-z][a-z0-9-]*.
func isIdent(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isPkgChar: what libCUDF's lexer takes in a package name.
func isPkgChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '+' || c == '.' || c == '/' || c == '@' || c == '(' || c == ')' || c == '%'
}

// IsPkgname reports whether s is a valid CUDF package name.
func IsPkgname(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isPkgChar(s[i]) {
			return false
		}
	}
	return true
}

type parser struct {
	name string
	keep func(string) bool // nil: every property
}

func (p *parser) errAt(f field, col int, msg string) error {
	return &Error{File: p.name, Line: f.line, Col: col, Msg: msg}
}

// valueErr places an error at offset off of the field's value.
func (p *parser) valueErr(f field, off int, msg string) error {
	return &Error{File: p.name, Line: f.line, Col: f.col + off, Msg: fmt.Sprintf("%s: %s", f.key, msg)}
}

// seen guards against a key set twice in a stanza.
func (p *parser) unique(st stanza) error {
	seen := map[string]bool{}
	for _, f := range st.fields {
		if seen[f.key] {
			return p.errAt(f, 1, fmt.Sprintf("property %s set twice in one stanza", f.key))
		}
		seen[f.key] = true
	}
	return nil
}

func (p *parser) preamble(st stanza) (*Preamble, error) {
	if err := p.unique(st); err != nil {
		return nil, err
	}
	pre := &Preamble{}
	for _, f := range st.fields {
		switch f.key {
		case "preamble":
			pre.ID = strings.TrimSpace(f.value)
		case "property":
			decls, err := p.typedecls(f)
			if err != nil {
				return nil, err
			}
			for _, d := range decls {
				if corePackage[d.Name] != nil || pre.Decl(d.Name) != nil {
					return nil, p.valueErr(f, 0, fmt.Sprintf("property %s declared twice (or a core property)", d.Name))
				}
				pre.Props = append(pre.Props, d)
			}
		case "univ-checksum":
			pre.UnivChecksum = strings.TrimSpace(f.value)
		case "status-checksum":
			pre.StatusChecksum = strings.TrimSpace(f.value)
		case "req-checksum":
			pre.ReqChecksum = strings.TrimSpace(f.value)
		default:
			return nil, p.errAt(f, 1, fmt.Sprintf("unknown preamble property %s", f.key))
		}
	}
	return pre, nil
}

// corePackage are the package properties of CUDF's schema.
var corePackage = map[string]*Type{
	"package": {Kind: Pkgname}, "version": {Kind: Posint}, "depends": {Kind: Vpkgformula},
	"conflicts": {Kind: Vpkglist}, "provides": {Kind: Veqpkglist}, "installed": {Kind: Bool},
	"was-installed": {Kind: Bool}, "keep": {Kind: Enum, Enum: []string{"version", "package", "feature", "none"}},
}

func (p *parser) pkg(st stanza, pre *Preamble) (*Package, error) {
	if err := p.unique(st); err != nil {
		return nil, err
	}
	pkg := &Package{Line: st.line}
	set := map[string]bool{}
	for _, f := range st.fields {
		set[f.key] = true
		var t Type
		if ct := corePackage[f.key]; ct != nil {
			t = *ct
		} else if d := pre.Decl(f.key); d != nil {
			if p.keep != nil && !p.keep(f.key) {
				continue
			}
			t = d.Type
		} else {
			return nil, p.errAt(f, 1, fmt.Sprintf("property %s is not declared in the preamble", f.key))
		}
		v, err := p.value(f, t)
		if err != nil {
			return nil, err
		}
		switch f.key {
		case "package":
			pkg.Name = v.Str
		case "version":
			pkg.Version = v.Int
		case "depends":
			pkg.Depends = v.Formula
		case "conflicts":
			pkg.Conflicts = v.Pkgs
		case "provides":
			pkg.Provides = v.Pkgs
		case "installed":
			pkg.Installed = v.Bool
		case "was-installed":
			pkg.WasInstalled = v.Bool
		case "keep":
			if v.Str != "none" {
				pkg.Keep = v.Str
			}
		default:
			pkg.Extra = append(pkg.Extra, Prop{Name: f.key, Value: v})
		}
	}
	if !set["version"] {
		return nil, p.errAt(st.fields[0], 1, fmt.Sprintf("package %s has no version", pkg.Name))
	}
	if pre != nil {
		for _, d := range pre.Props {
			if set[d.Name] || p.keep != nil && !p.keep(d.Name) {
				continue
			}
			if d.Default == nil {
				return nil, p.errAt(st.fields[0], 1, fmt.Sprintf("package %s lacks property %s, which has no default", pkg, d.Name))
			}
			pkg.Extra = append(pkg.Extra, Prop{Name: d.Name, Value: *d.Default})
		}
	}
	return pkg, nil
}

func (p *parser) request(st stanza) (*Request, error) {
	if err := p.unique(st); err != nil {
		return nil, err
	}
	req := &Request{Line: st.line}
	for _, f := range st.fields {
		switch f.key {
		case "request":
			req.ID = strings.TrimSpace(f.value)
		case "install", "remove", "upgrade":
			v, err := p.value(f, Type{Kind: Vpkglist})
			if err != nil {
				return nil, err
			}
			switch f.key {
			case "install":
				req.Install = v.Pkgs
			case "remove":
				req.Remove = v.Pkgs
			default:
				req.Upgrade = v.Pkgs
			}
		default:
			// Other request properties (solvers' extensions) are kept as
			// strings.
			req.Extra = append(req.Extra, Prop{Name: f.key, Value: Value{Type: Type{Kind: String}, Str: strings.TrimSpace(f.value)}})
		}
	}
	return req, nil
}

// value parses f's value as type t.
func (p *parser) value(f field, t Type) (Value, error) {
	s := &scanner{src: f.value}
	v, err := s.value(t)
	if err != nil {
		return Value{}, p.valueErr(f, s.errOff, err.Error())
	}
	return v, nil
}

// scanner reads typed values from a string.
type scanner struct {
	src    string
	pos    int
	errOff int // where the error is, for its column
}

func (s *scanner) fail(off int, format string, args ...any) error {
	s.errOff = off
	return fmt.Errorf(format, args...)
}

func (s *scanner) space() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

func (s *scanner) eof() bool { s.space(); return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	s.space()
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

// value reads a whole value of type t: nothing may follow.
func (s *scanner) value(t Type) (Value, error) {
	v, err := s.typed(t, false)
	if err != nil {
		return v, err
	}
	if !s.eof() {
		return v, s.fail(s.pos, "unexpected %q after the %s value", clip(s.src[s.pos:]), t)
	}
	return v, nil
}

// typed reads a value of type t; inList stops strings at "," and "]"
// (defaults in a property declaration).
func (s *scanner) typed(t Type, inDefault bool) (Value, error) {
	v := Value{Type: t}
	switch t.Kind {
	case Int, Posint, Nat:
		s.space()
		start := s.pos
		if s.pos < len(s.src) && (s.src[s.pos] == '-' || s.src[s.pos] == '+') {
			s.pos++
		}
		for s.pos < len(s.src) && s.src[s.pos] >= '0' && s.src[s.pos] <= '9' {
			s.pos++
		}
		n, err := strconv.ParseInt(s.src[start:s.pos], 10, 64)
		if err != nil {
			return v, s.fail(start, "want an integer (%s), have %q", t, clip(s.src[start:]))
		}
		switch {
		case t.Kind == Posint && n < 1:
			return v, s.fail(start, "want a positive integer, have %d", n)
		case t.Kind == Nat && n < 0:
			return v, s.fail(start, "want a natural number, have %d", n)
		}
		v.Int = n
	case Bool:
		w := s.word()
		switch w {
		case "true":
			v.Bool = true
		case "false":
		default:
			return v, s.fail(s.pos-len(w), "want true or false, have %q", w)
		}
	case String:
		if inDefault {
			str, err := s.quoted()
			if err != nil {
				return v, err
			}
			v.Str = str
			return v, nil
		}
		v.Str = strings.TrimSpace(s.src[s.pos:])
		s.pos = len(s.src)
	case Pkgname:
		n, err := s.pkgname()
		if err != nil {
			return v, err
		}
		v.Str = n
	case Ident, Enum:
		s.space()
		start := s.pos
		w := s.word()
		if !isIdent(w) {
			return v, s.fail(start, "want an identifier ([a-z][a-z0-9-]*), have %q", w)
		}
		if t.Kind == Enum && !contains(t.Enum, w) {
			return v, s.fail(start, "%q is not one of %s", w, t)
		}
		v.Str = w
	case Vpkg, Veqpkg:
		vp, err := s.vpkg(t.Kind == Veqpkg)
		if err != nil {
			return v, err
		}
		v.Pkgs = []VPkg{vp}
	case Vpkglist, Veqpkglist:
		list, err := s.vpkglist(t.Kind == Veqpkglist)
		if err != nil {
			return v, err
		}
		v.Pkgs = list
	case Vpkgformula:
		f, err := s.formula()
		if err != nil {
			return v, err
		}
		v.Formula = f
	default:
		return v, s.fail(s.pos, "unknown type")
	}
	return v, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// word reads letters, digits, '-' and '!'.
func (s *scanner) word() string {
	s.space()
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '!' || c == '_') {
			break
		}
		s.pos++
	}
	return s.src[start:s.pos]
}

func (s *scanner) pkgname() (string, error) {
	s.space()
	start := s.pos
	for s.pos < len(s.src) && isPkgChar(s.src[s.pos]) {
		s.pos++
	}
	if s.pos == start {
		if s.pos < len(s.src) {
			return "", s.fail(start, "want a package name, have %q", clip(s.src[start:]))
		}
		return "", s.fail(start, "want a package name")
	}
	return s.src[start:s.pos], nil
}

// vpkg reads "name [relop version]"; eqOnly allows "=" alone (veqpkg).
func (s *scanner) vpkg(eqOnly bool) (VPkg, error) {
	name, err := s.pkgname()
	if err != nil {
		return VPkg{}, err
	}
	vp := VPkg{Name: name}
	s.space()
	start := s.pos
	for _, op := range []Relop{Ge, Le, Neq, Gt, Lt, Eq} {
		if strings.HasPrefix(s.src[s.pos:], string(op)) {
			if eqOnly && op != Eq {
				return vp, s.fail(start, "only \"=\" may constrain a provided version, have %q", op)
			}
			s.pos += len(op)
			vp.Op = op
			break
		}
	}
	if vp.Op == "" {
		return vp, nil
	}
	s.space()
	vstart := s.pos
	for s.pos < len(s.src) && s.src[s.pos] >= '0' && s.src[s.pos] <= '9' {
		s.pos++
	}
	n, err := strconv.ParseInt(s.src[vstart:s.pos], 10, 64)
	if err != nil || n < 1 {
		return vp, s.fail(vstart, "want a version (a positive integer) after %q", vp.Op)
	}
	vp.Version = n
	return vp, nil
}

func (s *scanner) vpkglist(eqOnly bool) ([]VPkg, error) {
	var out []VPkg
	if s.eof() || s.peek() == ']' {
		return nil, nil
	}
	for {
		vp, err := s.vpkg(eqOnly)
		if err != nil {
			return nil, err
		}
		out = append(out, vp)
		if s.peek() != ',' {
			return out, nil
		}
		s.pos++
	}
}

// formula reads "true!", "false!", or clauses: "a | b, c".
func (s *scanner) formula() (Formula, error) {
	s.space()
	rest := s.src[s.pos:]
	switch {
	case strings.HasPrefix(rest, "true!"):
		s.pos += len("true!")
		return nil, nil
	case strings.HasPrefix(rest, "false!"):
		s.pos += len("false!")
		return False, nil
	case s.eof() || s.peek() == ']':
		return nil, nil
	}
	var f Formula
	for {
		var or []VPkg
		for {
			vp, err := s.vpkg(false)
			if err != nil {
				return nil, err
			}
			or = append(or, vp)
			if s.peek() != '|' {
				break
			}
			s.pos++
		}
		f = append(f, or)
		if s.peek() != ',' {
			return f, nil
		}
		s.pos++
	}
}

// quoted reads a double-quoted string with \" and \\ escapes.
func (s *scanner) quoted() (string, error) {
	s.space()
	start := s.pos
	if s.pos >= len(s.src) || s.src[s.pos] != '"' {
		return "", s.fail(start, "want a double-quoted string")
	}
	s.pos++
	var b strings.Builder
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\\' && s.pos+1 < len(s.src):
			b.WriteByte(s.src[s.pos+1])
			s.pos += 2
		case c == '"':
			s.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			s.pos++
		}
	}
	return "", s.fail(start, "unterminated string")
}

// typedecls reads a property declaration: "name: type [= [default]], …".
func (p *parser) typedecls(f field) ([]PropDecl, error) {
	s := &scanner{src: f.value}
	var out []PropDecl
	fail := func(err error) ([]PropDecl, error) { return nil, p.valueErr(f, s.errOff, err.Error()) }
	for !s.eof() {
		start := s.pos
		name := s.word()
		if !isIdent(name) {
			return fail(s.fail(start, "want a property name, have %q", name))
		}
		if s.peek() != ':' {
			return fail(s.fail(s.pos, "want \":\" after property name %s", name))
		}
		s.pos++
		s.space()
		tstart := s.pos
		tname := s.word()
		t := Type{}
		for k, n := range kindNames {
			if n == tname {
				t.Kind = k
			}
		}
		if t.Kind == 0 {
			return fail(s.fail(tstart, "unknown type %q", tname))
		}
		if t.Kind == Enum {
			if s.peek() != '[' {
				return fail(s.fail(s.pos, "want enum[value, …]"))
			}
			s.pos++
			for {
				s.space()
				vs := s.pos
				w := s.word()
				if !isIdent(w) {
					return fail(s.fail(vs, "want an enum value, have %q", w))
				}
				t.Enum = append(t.Enum, w)
				c := s.peek()
				s.pos++
				if c == ']' {
					break
				}
				if c != ',' {
					return fail(s.fail(s.pos-1, "want \",\" or \"]\" in the enum"))
				}
			}
		}
		d := PropDecl{Name: name, Type: t}
		if s.peek() == '=' {
			s.pos++
			if s.peek() != '[' {
				return fail(s.fail(s.pos, "want [default] after \"=\""))
			}
			s.pos++
			v, err := s.typed(t, true)
			if err != nil {
				return fail(err)
			}
			if s.peek() != ']' {
				return fail(s.fail(s.pos, "want \"]\" after the default of %s", name))
			}
			s.pos++
			d.Default = &v
		}
		out = append(out, d)
		if s.eof() {
			break
		}
		if s.peek() != ',' {
			return fail(s.fail(s.pos, "want \",\" between property declarations"))
		}
		s.pos++
	}
	return out, nil
}
