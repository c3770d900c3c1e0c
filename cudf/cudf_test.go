package cudf_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/cudf"
)

func parseFile(t testing.TB, path string) *cudf.Document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := cudf.Parse(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSpecDocument: testdata/spec.cudf uses every type, defaults,
// continuation lines, comments and odd package names; the values are
// the ones written there.
func TestSpecDocument(t *testing.T) {
	doc := parseFile(t, "testdata/spec.cudf")
	pre := doc.Preamble
	if pre == nil || pre.ID != "spec-test" || len(pre.Props) != 13 || pre.UnivChecksum != "8c6d8b4d0cf7027cd523ad095d6408b4901ac31c" {
		t.Fatalf("preamble %+v", pre)
	}
	if d := pre.Decl("suite"); d == nil || d.Type.String() != "enum[stable,testing,unstable]" || d.Default.Str != "stable" {
		t.Errorf("suite: %+v", d)
	}
	if d := pre.Decl("description"); d == nil || d.Default.Str != `none, "really"` {
		t.Errorf("description default: %+v", d)
	}
	if d := pre.Decl("sourcepkg"); d == nil || d.Default != nil || d.Type.Kind != cudf.Pkgname {
		t.Errorf("sourcepkg (required): %+v", d)
	}
	if d := pre.Decl("recommends"); d == nil || d.Default == nil || len(d.Default.Formula) != 0 {
		t.Errorf("recommends default true!: %+v", d)
	}
	if d := pre.Decl("alt"); d == nil || d.Default.Pkgs[0] != (cudf.VPkg{Name: "foo", Op: cudf.Ge, Version: 2}) {
		t.Errorf("alt: %+v", d)
	}
	if len(doc.Packages) != 4 {
		t.Fatalf("%d packages", len(doc.Packages))
	}
	car := doc.Packages[0]
	wantDeps := cudf.Formula{{{Name: "engine"}}, {{Name: "wheel", Op: cudf.Gt, Version: 2}}, {{Name: "door"}, {Name: "window"}}}
	if car.Name != "car" || car.Version != 1 || !car.Installed || !reflect.DeepEqual(car.Depends, wantDeps) ||
		!reflect.DeepEqual(car.Conflicts, []cudf.VPkg{{Name: "car"}}) {
		t.Errorf("car: %+v", car)
	}
	if v, _ := car.Get("bugs"); v.Int != -3 {
		t.Errorf("car bugs %+v", v)
	}
	if v, _ := car.Get("suite"); v.Str != "stable" {
		t.Errorf("car suite (default) %+v", v)
	}
	chess := doc.Packages[1]
	if chess.Name != "3dchess" || chess.Keep != cudf.KeepFeature ||
		!reflect.DeepEqual(chess.Provides, []cudf.VPkg{{Name: "game", Op: cudf.Eq, Version: 1}, {Name: "board"}}) {
		t.Errorf("3dchess: %+v", chess)
	}
	weird := doc.Packages[2]
	if weird.Name != "libc++%1.0/amd64@x(y)" || !weird.Depends.IsFalse() || !weird.WasInstalled {
		t.Errorf("weird: %+v", weird)
	}
	if v, _ := weird.Get("description"); v.Str != "a string with: colons, commas, | bars" {
		t.Errorf("weird description %q", v.Str)
	}
	engine := doc.Packages[3]
	want := cudf.Formula{{{Name: "turbo", Op: cudf.Neq, Version: 1}, {Name: "battery", Op: cudf.Lt, Version: 3}}, {{Name: "gasoline-engine", Op: cudf.Ge, Version: 1}}}
	if !reflect.DeepEqual(engine.Depends, want) {
		t.Errorf("engine depends (continued line) %v", engine.Depends)
	}
	if v, _ := engine.Get("recommends"); len(v.Formula) != 2 {
		t.Errorf("engine recommends %+v", v)
	}
	r := doc.Request
	if r == nil || r.ID != "spec-test" || len(r.Install) != 2 || r.Install[1] != (cudf.VPkg{Name: "3dchess", Op: cudf.Ge, Version: 2}) ||
		r.Remove[0].Name != "libc++%1.0/amd64@x(y)" || r.Upgrade[0].Name != "engine" {
		t.Errorf("request %+v", r)
	}
}

// strip clears what a round trip does not keep: where stanzas were.
func strip(doc *cudf.Document) *cudf.Document {
	for _, p := range doc.Packages {
		p.Line = 0
	}
	if doc.Request != nil {
		doc.Request.Line = 0
	}
	return doc
}

// TestRoundTrip: what Write writes parses back to the same document, and
// libCUDF's own parser (cudf-check, from cudf-tools) reads it.
func TestRoundTrip(t *testing.T) {
	for _, file := range []string{"testdata/spec.cudf", "testdata/corner.cudf"} {
		doc := parseFile(t, file)
		var buf bytes.Buffer
		if err := cudf.Write(&buf, doc); err != nil {
			t.Fatal(err)
		}
		again, err := cudf.Parse(bytes.NewReader(buf.Bytes()), "written")
		if err != nil {
			t.Fatalf("%s: re-reading what was written: %v\n%s", file, err, buf.String())
		}
		if !reflect.DeepEqual(strip(doc), strip(again)) {
			t.Errorf("%s: round trip differs:\n%s", file, buf.String())
		}
		if _, err := exec.LookPath("cudf-check"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("cudf-check not installed (.ci/run installs cudf-tools)")
			}
			continue
		}
		out := filepath.Join(t.TempDir(), "w.cudf")
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		res, _ := exec.Command("cudf-check", "-cudf", out).CombinedOutput()
		if strings.Contains(string(res), "Error while parsing") {
			t.Errorf("%s: cudf-check cannot read what hitch wrote:\n%s\n%s", file, res, buf.String())
		}
	}
}

// TestErrors: bad documents give an Error at the right line and column,
// and libCUDF's parser (cudf-check) rejects each too.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		line, col int
		msg       string
	}{
		{"no colon", "package: a\nversion 1\n", 2, 1, "not a property line"},
		{"no space", "package: a\nversion:1\n", 2, 9, "want a space after the colon"},
		{"bad version", "package: a\nversion: x\n", 2, 10, "want an integer"},
		{"version zero", "package: a\nversion: 0\n", 2, 10, "want a positive integer"},
		{"undeclared", "package: a\nversion: 1\nfoo: 2\n", 3, 1, "not declared"},
		{"no version", "package: a\ndepends: b\n", 1, 1, "has no version"},
		{"twice", "package: a\nversion: 1\nversion: 2\n", 3, 1, "set twice"},
		{"bad relop", "package: a\nversion: 1\ndepends: b >= x\n", 3, 15, "want a version"},
		{"bad name", "package: a\nversion: 1\ndepends: b, ~c\n", 3, 13, "want a package name"},
		{"trailing", "package: a\nversion: 1\ninstalled: true false\n", 3, 17, "unexpected"},
		{"bool", "package: a\nversion: 1\ninstalled: yes\n", 3, 12, "want true or false"},
		{"enum", "preamble: \nproperty: s: enum[a,b]\n\npackage: a\nversion: 1\ns: c\n", 6, 4, "not one of enum[a,b]"},
		{"required", "preamble: \nproperty: s: string\n\npackage: a\nversion: 1\n", 4, 1, "no default"},
		{"unterminated", "preamble: \nproperty: s: string = [\"abc]\n", 2, 24, "unterminated string"},
		{"unknown type", "preamble: \nproperty: s: float\n", 2, 14, "unknown type"},
		{"keep", "package: a\nversion: 1\nkeep: always\n", 3, 7, "not one of"},
		{"stanza", "pkg: a\nversion: 1\n", 1, 1, "unknown stanza"},
		{"continuation", " depends: a\n", 1, 1, "continuation"},
		{"provides op", "package: a\nversion: 1\nprovides: b >= 2\n", 3, 13, "only \"=\""},
		{"after request", "request: r\n\npackage: a\nversion: 1\n", 3, 1, "after the request"},
	}
	_, noCheck := exec.LookPath("cudf-check")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := cudf.Parse(strings.NewReader(c.doc), "bad.cudf")
			var e *cudf.Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v, want a *cudf.Error", err)
			}
			if e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, c.msg) || e.File != "bad.cudf" {
				t.Errorf("%v: want bad.cudf:%d:%d and %q", err, c.line, c.col, c.msg)
			}
			if noCheck != nil {
				return
			}
			f := filepath.Join(t.TempDir(), "bad.cudf")
			if err := os.WriteFile(f, []byte(c.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command("cudf-check", "-cudf", f).CombinedOutput()
			if !strings.Contains(string(out), "Error while parsing") && !strings.Contains(string(out), "rror") {
				t.Errorf("cudf-check accepts it:\n%s", out)
			}
		})
	}
}

// FuzzParse: any input gives a document or an error, never a panic; a
// document written and read again is the same.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"testdata/spec.cudf", "testdata/corner.cudf"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("package: a\nversion: 1\ndepends: b | c >= 2, d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := cudf.Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			var e *cudf.Error
			if errors.As(err, &e) && (e.Line < 1 || e.Col < 1) {
				t.Fatalf("error without a place: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := cudf.Write(&buf, doc); err != nil {
			t.Fatal(err)
		}
		again, err := cudf.Parse(bytes.NewReader(buf.Bytes()), "written")
		if err != nil {
			t.Fatalf("re-reading what was written: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(strip(doc), strip(again)) {
			t.Fatalf("round trip differs:\n%s", buf.String())
		}
	})
}

// TestParseKeep: with Keep, only the extra properties it names are read
// (a solver's criteria need a few of a dozen); the others are neither
// kept nor given their defaults, and the document is the same otherwise.
func TestParseKeep(t *testing.T) {
	text := "preamble: \nproperty: size: int = [0], recommends: vpkgformula = [true!], note: string = [\"\"]\n\n" +
		"package: a\nversion: 1\nsize: 7\nnote: skipped\nrecommends: b | c\n\npackage: b\nversion: 2\n\nrequest: r\ninstall: a\n"
	full, err := cudf.Parse(strings.NewReader(text), "full")
	if err != nil {
		t.Fatal(err)
	}
	some, err := cudf.ParseWith(strings.NewReader(text), "some", cudf.ParseOptions{Keep: func(p string) bool { return p == "size" }})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Packages[0].Extra) != 3 || len(full.Packages[1].Extra) != 3 {
		t.Errorf("full: %+v %+v", full.Packages[0].Extra, full.Packages[1].Extra)
	}
	if v, ok := some.Packages[0].Get("size"); !ok || v.Int != 7 {
		t.Errorf("size kept: %+v %v", v, ok)
	}
	if v, ok := some.Packages[1].Get("size"); !ok || v.Int != 0 {
		t.Errorf("size's default: %+v %v", v, ok)
	}
	for _, p := range some.Packages {
		if _, ok := p.Get("note"); ok {
			t.Errorf("%s keeps note", p)
		}
		if _, ok := p.Get("recommends"); ok {
			t.Errorf("%s keeps recommends", p)
		}
	}
	if len(some.Packages) != 2 || some.Request == nil || some.Request.Install[0].Name != "a" {
		t.Errorf("document: %+v", some)
	}
}
