package elffacts_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

func readFacts(t *testing.T, path string) *elffacts.Facts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	facts, err := elffacts.Read(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := elffacts.Validate(facts); err != nil {
		t.Errorf("%s: facts invalid: %v", path, err)
	}
	return facts
}

func findDefined(f *elffacts.Facts, name, version string) *elffacts.DefinedSymbol {
	for i, s := range f.Defined {
		if s.Name == name && s.Version == version {
			return &f.Defined[i]
		}
	}
	return nil
}

func findRequired(f *elffacts.Facts, name string) *elffacts.RequiredSymbol {
	for i, s := range f.Required {
		if s.Name == name {
			return &f.Required[i]
		}
	}
	return nil
}

// The expectations below are written from what each fixture was built to
// show (testdata/elf/build.sh), not from the code's output.

func TestVersionedLibrary(t *testing.T) {
	f := readFacts(t, filepath.Join(fixture.ELF(t), "lib", "libver.so.1"))
	head := elffacts.Facts{
		Class: f.Class, ByteOrder: f.ByteOrder, Machine: f.Machine, Type: f.Type,
		Soname: f.Soname, Needed: f.Needed, Flags: f.Flags, Flags1: f.Flags1,
		Interp: f.Interp, Dynamic: f.Dynamic,
	}
	want := elffacts.Facts{
		Class: "ELF64", ByteOrder: "little", Machine: "x86_64", Type: "dyn",
		// It calls nothing in libc, and Debian links --as-needed: no NEEDED.
		Soname: "libver.so.1",
		Flags:  []string{"BIND_NOW"}, Flags1: []string{"NOW"}, Dynamic: true,
	}
	if diff := cmp.Diff(want, head); diff != "" {
		t.Errorf("header facts (-want +got):\n%s", diff)
	}
	wantDefs := []elffacts.VersionDef{
		{Index: 1, Name: "libver.so.1", Base: true},
		{Index: 2, Name: "VER_1"},
		{Index: 3, Name: "VER_2", Parents: []string{"VER_1"}},
	}
	if diff := cmp.Diff(wantDefs, f.VersionDefs); diff != "" {
		t.Errorf("version definitions (-want +got):\n%s", diff)
	}
	symbols := []elffacts.DefinedSymbol{
		{Name: "foo", Version: "VER_1", Hidden: true, Binding: "global", Type: "func"},
		{Name: "foo", Version: "VER_2", Binding: "global", Type: "func"},
		{Name: "ver_a", Version: "VER_1", Binding: "global", Type: "func"},
		{Name: "ver_weak", Version: "VER_2", Binding: "weak", Type: "func"},
		{Name: "ver_tls", Version: "VER_2", Binding: "global", Type: "tls", Size: 4},
		{Name: "ver_ifunc", Version: "VER_2", Binding: "global", Type: "ifunc"},
		{Name: "ver_table", Version: "VER_2", Binding: "global", Type: "object", Size: 64},
	}
	for _, want := range symbols {
		got := findDefined(f, want.Name, want.Version)
		if got == nil {
			t.Errorf("defined %s@%s missing", want.Name, want.Version)
			continue
		}
		ignoreSize := cmpopts.IgnoreFields(elffacts.DefinedSymbol{}, "Size")
		if want.Type == "object" || want.Type == "tls" {
			ignoreSize = nil
		}
		if diff := cmp.Diff(want, *got, ignoreSize); diff != "" {
			t.Errorf("defined %s@%s (-want +got):\n%s", want.Name, want.Version, diff)
		}
	}
	if s := findDefined(f, "foo_v1", ""); s != nil {
		t.Errorf("foo_v1 is local by the version script but was reported: %+v", s)
	}
	if got := findRequired(f, "maybe_missing"); got == nil || !got.Weak || got.Version != "" {
		t.Errorf("maybe_missing: got %+v, want a weak unversioned reference", got)
	}
	if got := findRequired(f, "__cxa_finalize"); got == nil || !got.Weak {
		t.Errorf("__cxa_finalize: got %+v, want a weak reference", got)
	}
	if len(f.SHA256) != 64 || f.Size == 0 || len(f.BuildID) != 40 {
		t.Errorf("identity: sha256 %q size %d build-id %q", f.SHA256, f.Size, f.BuildID)
	}
}

func TestPrograms(t *testing.T) {
	dir := fixture.ELF(t)
	type summary struct {
		Class, Type, Interp string
		Dynamic             bool
		Needed              []string
		RPath, RunPath      []string
		Flags1              []string
		ISA, Features       []string
	}
	// Debian's crt1.o carries the x86-64-baseline marker, so every
	// program linked here has it; shared objects without crt1.o do not.
	baseline := []string{"x86-64-baseline"}
	tests := []struct {
		file string
		want summary
	}{
		{"bin/app_copyreloc", summary{
			Class: "ELF64", Type: "exec", Interp: "/lib64/ld-linux-x86-64.so.2", Dynamic: true,
			Needed: []string{"libver.so.1", "libc.so.6"}, RPath: []string{"/opt/hitch/rpath"},
			ISA: baseline,
		}},
		{"bin/app_runpath", summary{
			Class: "ELF64", Type: "pie", Interp: "/lib64/ld-linux-x86-64.so.2", Dynamic: true,
			Needed: []string{"libver.so.1", "libc.so.6"}, RunPath: []string{"$ORIGIN/../lib", ""},
			Flags1: []string{"PIE"}, ISA: baseline,
		}},
		{"lib/libnodeflib.so", summary{
			Class: "ELF64", Type: "dyn", Dynamic: true,
			Needed: []string{"libc.so.6"}, RunPath: []string{"$ORIGIN"}, Flags1: []string{"NODEFLIB"},
		}},
		{"bin/hello_static", summary{Class: "ELF64", Type: "exec", ISA: baseline}},
		{"bin/hello_v3", summary{
			Class: "ELF64", Type: "pie", Interp: "/lib64/ld-linux-x86-64.so.2", Dynamic: true,
			Needed: []string{"libc.so.6"}, Flags1: []string{"PIE"},
			ISA: []string{"x86-64-baseline", "x86-64-v3"}, Features: []string{"IBT", "SHSTK"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f := readFacts(t, filepath.Join(dir, tc.file))
			got := summary{
				Class: f.Class, Type: f.Type, Interp: f.Interp, Dynamic: f.Dynamic,
				Needed: f.Needed, RPath: f.RPath, RunPath: f.RunPath, Flags1: f.Flags1,
				ISA: f.X86ISANeeded, Features: f.X86Features,
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCopyRelocatedObject(t *testing.T) {
	// A non-PIE program that reads ver_table gets its own copy: the
	// symbol is defined in the executable with the size it was linked
	// against, which a later check compares with the library's.
	f := readFacts(t, filepath.Join(fixture.ELF(t), "bin", "app_copyreloc"))
	got := findDefined(f, "ver_table", "VER_2")
	want := elffacts.DefinedSymbol{Name: "ver_table", Version: "VER_2", From: "libver.so.1", Binding: "global", Type: "object", Size: 64, Copy: true}
	if got == nil {
		t.Fatalf("copy-relocated ver_table not among defined symbols: %+v", f.Defined)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	foo := findRequired(f, "foo")
	if foo == nil || foo.Version != "VER_2" || foo.From != "libver.so.1" {
		t.Errorf("foo: got %+v, want foo@VER_2 from libver.so.1", foo)
	}
	// glibc 2.34 moved __libc_start_main to GLIBC_2.34: every program
	// linked on this (bookworm) toolchain needs it.
	if got, want := f.MaxNeededVersion("GLIBC_"), "GLIBC_2.34"; got != want {
		t.Errorf("MaxNeededVersion(GLIBC_) = %q, want %q", got, want)
	}
}

func TestCXXLibrary(t *testing.T) {
	f := readFacts(t, filepath.Join(fixture.ELF(t), "lib", "libcxx.so"))
	var files []string
	for _, vn := range f.VersionNeeds {
		files = append(files, vn.File)
	}
	if !slices.Contains(files, "libstdc++.so.6") {
		t.Errorf("version needs from %v, want libstdc++.so.6 among them", files)
	}
	if f.MaxNeededVersion("GLIBCXX_") == "" || f.MaxNeededVersion("CXXABI_") == "" {
		t.Errorf("want GLIBCXX_ and CXXABI_ needs, got %+v", f.VersionNeeds)
	}
	if findDefined(f, "_ZTV5Shape", "") == nil {
		t.Errorf("vtable _ZTV5Shape not exported")
	}
}

func Test32Bit(t *testing.T) {
	path := filepath.Join(fixture.ELF(t), "bin", "hello_32")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no 32-bit fixture: gcc-multilib is not installed")
	}
	f := readFacts(t, path)
	if f.Class != "ELF32" || f.Machine != "386" || f.Interp != "/lib/ld-linux.so.2" {
		t.Errorf("got class %s machine %s interp %s", f.Class, f.Machine, f.Interp)
	}
	if got := findRequired(f, "puts"); got == nil || got.Version != "GLIBC_2.0" {
		t.Errorf("puts: got %+v, want puts@GLIBC_2.0", got)
	}
}

func TestNotELF(t *testing.T) {
	for _, data := range []string{"", "\x7fEL", "#!/bin/sh\n", "\x7fELF"} {
		r := stringReader(data)
		_, err := elffacts.Read(r, int64(len(data)))
		if err == nil {
			t.Errorf("Read(%q) succeeded", data)
		}
	}
}

type stringReader string

func (s stringReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s)) {
		return 0, io.EOF
	}
	n := copy(p, s[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
