package iface_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
)

func TestBuiltin(t *testing.T) {
	s, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mpi", "openmpi", "mpich-abi", "mpi-abi", "cuda", "libfabric", "ucx", "pmix", "pmi", "nccl"} {
		if len(s.Interface(want)) == 0 {
			t.Errorf("no family for %q", want)
		}
	}
	if got := len(s.Interface("mpi")); got != 3 {
		t.Errorf("%d mpi families, want 3", got)
	}
	floor, versions := s.Floor()
	if !floor["libc.so.6"] || !floor["ld-linux-x86-64.so.2"] || floor["libmpi.so.40"] {
		t.Errorf("floor %v", floor)
	}
	if len(versions) == 0 {
		t.Error("no floor versions")
	}
	if f, l := s.Library("libmpich.so.12"); f == nil || f.Name != "mpich-abi" || !l.Anchor {
		t.Errorf("Library(libmpich.so.12) = %v, %v", f, l)
	}
}

func TestBadFiles(t *testing.T) {
	tests := map[string]struct {
		body string
		line int
	}{
		// The parser notices the missing bracket at the line's end.
		"syntax":        {"name = \"x\"\ninterface = \"mpi\"\n[[library]\nsoname = \"a\"\n", 4},
		"unknown key":   {"name = \"x\"\ninterface = \"mpi\"\n[[library]]\nsoname = \"libx.so.1\"\nanchor = true\nsonmae = \"typo\"\n", 0},
		"no anchor":     {"name = \"x\"\ninterface = \"mpi\"\n[[library]]\nsoname = \"libx.so.1\"\n", 0},
		"bad soname":    {"name = \"x\"\ninterface = \"mpi\"\n[[library]]\nsoname = \"/lib/libx.so.1\"\nanchor = true\n", 0},
		"escaping dir":  {"name = \"x\"\ninterface = \"mpi\"\n[[library]]\nsoname = \"libx.so.1\"\nanchor = true\n[[plugins]]\ndir = \"../../etc\"\nglob = \"*\"\n", 0},
		"no name":       {"interface = \"mpi\"\n", 0},
		"wrong type":    {"name = 3\n", 1},
		"device choice": {"name = \"x\"\ninterface = \"cuda\"\n[[library]]\nsoname = \"libx.so.1\"\nanchor = true\n[[devices]]\n", 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := iface.Parse("bad.toml", []byte(tt.body))
			var pe *iface.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want a ParseError", err)
			}
			if pe.File != "bad.toml" || pe.Line != tt.line {
				t.Errorf("error %q at line %d, want line %d", err, pe.Line, tt.line)
			}
		})
	}
}

// A user file replaces the builtin family of the same name and adds new
// ones; a broken one is an error naming the file.
func TestUserFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("openmpi.toml", "name = \"openmpi\"\ninterface = \"mpi\"\n[[library]]\nsoname = \"libmpi.so.99\"\nanchor = true\n")
	write("site.toml", "name = \"site-mpi\"\ninterface = \"mpi\"\n[[library]]\nsoname = \"libsitempi.so.1\"\nanchor = true\n")
	s, err := iface.Load(dir, filepath.Join(dir, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Library("libmpi.so.99"); f == nil || f.File != filepath.Join(dir, "openmpi.toml") {
		t.Errorf("user openmpi not used: %v", f)
	}
	if f, _ := s.Library("libmpi.so.40"); f != nil {
		t.Errorf("builtin openmpi still there: %v", f.File)
	}
	if len(s.Interface("mpi")) != 4 {
		t.Errorf("mpi families: %d", len(s.Interface("mpi")))
	}
	write("broken.toml", "name = \n")
	if _, err := iface.Load(dir); err == nil || !errors.As(err, new(*iface.ParseError)) {
		t.Errorf("Load with a broken file = %v", err)
	}
}
