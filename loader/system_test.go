package loader

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/rootfs"
)

// TestSystemFromDebianLoaders reads version, trusted directories and $LIB
// from the loaders of the Debian roots. The rule tests confirm the same
// values by running those loaders; this pins them.
func TestSystemFromDebianLoaders(t *testing.T) {
	debian := []string{"/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/lib/", "/usr/lib/"}
	for suite, version := range map[string]int{"bullseye": 2031, "bookworm": 2036, "trixie": 2041} {
		t.Run(suite, func(t *testing.T) {
			v, err := rootfs.Dir(fixture.Rootfs(t, suite))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			s := newSystem(v, nil, "/lib64/ld-linux-x86-64.so.2", "ELF64", "x86_64")
			if s.version != version {
				t.Errorf("version %d, want %d", s.version, version)
			}
			if diff := cmp.Diff(debian, s.systemDirs); diff != "" {
				t.Errorf("system dirs (-want +got):\n%s", diff)
			}
			if s.lib != "lib/x86_64-linux-gnu" || s.platform != "x86_64" {
				t.Errorf("$LIB %q, $PLATFORM %q", s.lib, s.platform)
			}
			if s.cache == nil || len(s.warnings) > 0 {
				t.Errorf("cache %v, warnings %q", s.cache != nil, s.warnings)
			}
		})
	}
}

// TestSystemFallback: a loader file that names no directories (here, a
// stand-in) gets the layout of where it lives; a missing one the
// machine's multiarch default.
func TestSystemFallback(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"usr/lib64/ld-linux-x86-64.so.2", "etc/ld.so.cache"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("not much"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/lib64", filepath.Join(root, "lib64")); err != nil {
		t.Fatal(err)
	}
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	s := newSystem(v, nil, "/lib64/ld-linux-x86-64.so.2", "ELF64", "x86_64")
	if diff := cmp.Diff([]string{"/lib64/", "/usr/lib64/"}, s.systemDirs); diff != "" {
		t.Errorf("lib64 layout (-want +got):\n%s", diff)
	}
	if s.lib != "lib64" || s.version != 0 || s.cache != nil || len(s.warnings) != 1 {
		t.Errorf("lib %q version %d cache %v warnings %q", s.lib, s.version, s.cache != nil, s.warnings)
	}
	s = newSystem(v, nil, "/lib/ld-musl-nothere.so.1", "ELF64", "x86_64")
	if s.file != "" || s.systemDirs[0] != "/lib/x86_64-linux-gnu/" {
		t.Errorf("missing loader: file %q dirs %q", s.file, s.systemDirs)
	}
}
