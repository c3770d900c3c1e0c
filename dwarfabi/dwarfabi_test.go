package dwarfabi_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

func read(t testing.TB, path string) *dwarfabi.Info {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dwarfabi.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return info
}

// TestPaths: each change names the way from the exported symbol to what
// changed, in the words the issue asks for.
func TestPaths(t *testing.T) {
	dir := fixture.ABIPairs(t)
	for pair, want := range map[string]string{
		"param-type":       "pair_f() parameter 1: type changed from int to long int",
		"return-type":      "pair_f() return: type changed from int to double",
		"struct-grown":     "pair_f() parameter 1 → * → struct pair_point: size changed from 8 to 12 bytes",
		"struct-reordered": "pair_f() parameter 1 → * → struct pair_point → member x: offset changed from 0 to 8",
		"enum-value":       "pair_f() parameter 1 → enum pair_mode → PAIR_WRITE: value changed from 2 to 4",
		"enum-added":       "pair_f() parameter 1 → enum pair_mode → PAIR_APPEND: added with value 3",
		"typedef-renamed":  "pair_f() parameter 1: typedef pair_count renamed pair_size",
		"var-resized":      "pair_table: array of 4 elements now has 8",
	} {
		old, new := read(t, filepath.Join(dir, pair, "old.so")), read(t, filepath.Join(dir, pair, "new.so"))
		var msgs []string
		for _, c := range dwarfabi.Diff(old, new, []string{"pair_f", "pair_table"}) {
			msgs = append(msgs, c.Message)
		}
		found := false
		for _, m := range msgs {
			found = found || m == want
		}
		if !found {
			t.Errorf("%s: %q not among\n  %s", pair, want, strings.Join(msgs, "\n  "))
		}
	}
}

// TestNoDWARF: a stripped object says so; a file that is not ELF is an
// error.
func TestNoDWARF(t *testing.T) {
	dir := fixture.ABIPairs(t)
	b, _ := os.ReadFile(filepath.Join(dir, "same", "old.stripped.so"))
	if _, err := dwarfabi.Read(bytes.NewReader(b)); !errors.Is(err, dwarfabi.ErrNoDWARF) {
		t.Errorf("stripped: %v", err)
	}
	if _, err := dwarfabi.Read(bytes.NewReader([]byte("not ELF"))); err == nil {
		t.Error("not ELF: no error")
	}
}

// FuzzRead: whatever the bytes (seeded with the corpus's objects, debug
// info included), Read returns; it never panics or hangs.
func FuzzRead(f *testing.F) {
	dir := fixture.ABIPairs(f)
	for _, p := range []string{"struct-grown/old.so", "enum-value/new.so", "cxx-virtual-added/new.so"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := dwarfabi.Read(bytes.NewReader(data))
		if err == nil {
			dwarfabi.Diff(info, info, info.Names())
		}
	})
}

// Split DWARF (gcc -gsplit-dwarf, DWARF 5 skeleton units and DWARF 4's
// GNU extension): the object holds only skeletons; hitch says so by
// name rather than comparing no types and calling it a type-level diff.
func TestSplitDWARF(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "a.c")
	if err := os.WriteFile(src, []byte("struct p { int x; };\nint pair_f(struct p *q) { return q->x; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"-gdwarf-5", "-gdwarf-4"} {
		lib := filepath.Join(dir, "lib"+v+".so")
		cmd := exec.Command("gcc", "-shared", "-fPIC", "-g", v, "-gsplit-dwarf", "-o", lib, src)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v: %s", v, err, out)
		}
		_, err := dwarfabi.ReadFile(lib)
		if !errors.Is(err, dwarfabi.ErrSplitDWARF) || !strings.Contains(err.Error(), ".dwo") {
			t.Errorf("%s: %v, want ErrSplitDWARF naming the .dwo", v, err)
		}
	}
}

// C++'s char16_t and char32_t are DW_ATE_UTF base types (gcc 10 and
// later), which debug/dwarf cannot type: hitch reads them as unsigned
// characters of their size and name, rather than failing the library
// (libstdc++ did).
func TestUTFCharTypes(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("g++ not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "u.cc")
	if err := os.WriteFile(src, []byte("struct S { char16_t a; char32_t b; };\nint u_f(char32_t c, S *s) { return c + s->a; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// DWARF 5: the encoding in the abbreviation (implicit_const);
	// DWARF 4: in each entry.
	for _, v := range []string{"-gdwarf-5", "-gdwarf-4"} {
		lib := filepath.Join(dir, "libu"+v+".so")
		if out, err := exec.Command("g++", "-shared", "-fPIC", "-g", v, "-o", lib, src).CombinedOutput(); err != nil {
			t.Fatalf("g++: %v: %s", err, out)
		}
		info, err := dwarfabi.ReadFile(lib)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		fn := info.Funcs["_Z3u_fDiP1S"]
		if fn == nil || len(fn.Params) != 2 || fn.Params[0].String() != "char32_t" || fn.Params[0].Size() != 4 {
			t.Fatalf("%s: u_f: %+v (functions %v)", v, fn, info.Names())
		}
		if d := dwarfabi.Diff(info, info, info.Names()); len(d) != 0 {
			t.Errorf("%s: a library against itself: %+v", v, d)
		}
	}
}
