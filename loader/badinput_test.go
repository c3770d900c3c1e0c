package loader_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// TestBadInput spoils the fixture root in the ways strangers' images do
// and checks that hitch still lists what the real loader lists, and says
// what it skipped.
func TestBadInput(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot (root)")
	}
	tests := []struct {
		name    string
		spoil   func(t *testing.T, root string)
		prog    string
		env     []string
		warning string // a warning hitch must give
		musl    bool
	}{
		{
			// The cache names a file that is gone: the loader goes on to
			// the trusted directories.
			name: "cache points to a missing file",
			spoil: func(t *testing.T, root string) {
				for _, d := range []string{"opt/x86_64", "usr/lib/x86_64-linux-gnu"} {
					if err := os.Remove(filepath.Join(root, d, "libA.so.1")); err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(root, "lib/libA.so.1"), mustRead(t, filepath.Join(root, "opt/rpath/libA.so.1")), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			prog: "/usr/bin/plain",
		},
		{
			name: "corrupt cache",
			spoil: func(t *testing.T, root string) {
				b := []byte("glibc-ld.so.cache1.1" + strings.Repeat("\xff", 200))
				if err := os.WriteFile(filepath.Join(root, "etc/ld.so.cache"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			prog:    "/usr/bin/plain",
			warning: "ignoring /etc/ld.so.cache",
		},
		{
			name: "truncated cache",
			spoil: func(t *testing.T, root string) {
				if err := os.Truncate(filepath.Join(root, "etc/ld.so.cache"), 30); err != nil {
					t.Fatal(err)
				}
			},
			prog:    "/usr/bin/plain",
			warning: "ignoring /etc/ld.so.cache",
		},
		{
			// A symlink loop where a library should be.
			name: "symlink loop in a library directory",
			spoil: func(t *testing.T, root string) {
				dir := filepath.Join(root, "opt/loop")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, lib := range []string{"libA.so.1", "libmw.so.1"} {
					if err := os.Symlink(lib, filepath.Join(dir, lib)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Symlink("b", filepath.Join(dir, "a")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("a", filepath.Join(dir, "b")); err != nil {
					t.Fatal(err)
				}
			},
			prog: "/usr/bin/runpath",
			env:  []string{"LD_LIBRARY_PATH=/opt/loop:/opt/loop/a:/opt/llp"},
		},
		{
			// musl ends the whole search at such an error.
			name: "symlink loop, musl",
			spoil: func(t *testing.T, root string) {
				dir := filepath.Join(root, "opt/loop")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("libmw.so.1", filepath.Join(dir, "libmw.so.1")); err != nil {
					t.Fatal(err)
				}
			},
			prog: "/usr/bin/musl_runpath",
			env:  []string{"LD_LIBRARY_PATH=/opt/loop"},
			musl: true,
		},
		{
			name:  "empty LD_LIBRARY_PATH entries are the working directory",
			spoil: func(t *testing.T, root string) {},
			prog:  "/usr/bin/runpath",
			env:   []string{"LD_LIBRARY_PATH=::/opt/llp:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := ruleRoot(t, "host")
			tt.spoil(t, root)
			run := oracle.Run{Root: root, File: tt.prog, Env: tt.env, Musl: tt.musl}
			if tt.musl {
				if _, err := os.Stat(filepath.Join(root, tt.prog)); err != nil {
					t.Skip("musl fixtures not built")
				}
				run.Interp = "/lib/ld-musl-x86_64.so.1"
			}
			real, err := run.Do()
			if err != nil {
				t.Fatal(err)
			}
			v, err := rootfs.Dir(root)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			g, err := loader.New(v, loader.WithEnv(tt.env), loader.WithHWCaps(hostHWCaps(t))).Load(context.Background(), tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(real.List, g.Ldd()); diff != "" {
				t.Errorf("load list (-loader +hitch):\n%s\nloader stderr: %s", diff, real.Stderr)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(g.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q, want one containing %q", g.Warnings, tt.warning)
			}
		})
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLdconfigOption: a library added after ldconfig last ran, in a
// directory newly named in ld.so.conf. The image's cache does not know
// it; WithLdconfig predicts what the loader does once ldconfig has run.
func TestLdconfigOption(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot (root)")
	}
	root := ruleRoot(t, "host")
	if err := os.MkdirAll(filepath.Join(root, "opt/late"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /usr/bin/soname needs libQ.so.1, which nothing in the image's
	// cache or search path provides.
	if err := os.WriteFile(filepath.Join(root, "opt/late/libQ.so.1"), mustRead(t, filepath.Join(root, "opt/soname/libP.so.1")), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(root, "etc/ld.so.conf")
	if err := os.WriteFile(conf, append([]byte("/opt/late\n"), mustRead(t, conf)...), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	hw := hostHWCaps(t)
	load := func(opts ...loader.Option) []string {
		g, err := loader.New(v, append(opts, loader.WithHWCaps(hw))...).Load(context.Background(), "/usr/bin/soname")
		if err != nil {
			t.Fatal(err)
		}
		return g.Ldd()
	}
	stale, err := oracle.Run{Root: root, File: "/usr/bin/soname"}.Do()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stale.List, load()); diff != "" {
		t.Errorf("with the stale cache (-loader +hitch):\n%s", diff)
	}
	predicted := load(loader.WithLdconfig())
	if out, err := exec.Command("chroot", root, "/sbin/ldconfig", "-X").CombinedOutput(); err != nil {
		t.Fatalf("ldconfig: %v\n%s", err, out)
	}
	fresh, err := oracle.Run{Root: root, File: "/usr/bin/soname"}.Do()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fresh.List, predicted); diff != "" {
		t.Errorf("WithLdconfig against the loader after ldconfig (-loader +hitch):\n%s", diff)
	}
	if cmp.Equal(stale.List, fresh.List) {
		t.Errorf("the scenario shows nothing: ldconfig changed no choice\n%s", strings.Join(fresh.List, "\n"))
	}
}

// TestBoundLibraryRunpath binds a host library with DT_RUNPATH
// $ORIGIN/../deps into the container: the loader resolves it inside the
// container, next to the mount point. Compared with the real loader
// under a mount namespace with the same bind.
func TestBoundLibraryRunpath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot and mount namespaces (root)")
	}
	root := ruleRoot(t, "host")
	host := t.TempDir()
	for _, f := range []string{"lib/libHX.so.1", "deps/libHY.so.1"} {
		if err := os.MkdirAll(filepath.Join(host, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(host, f), mustRead(t, filepath.Join(root, "opt/hx", f)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The container: a mount point for the library and its own deps
	// directory beside it; the copies under /opt/hx are removed so only
	// the bind can provide them.
	if err := os.RemoveAll(filepath.Join(root, "opt/hx")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"opt/hxbind", "opt/deps"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "opt/hxbind/libHX.so.1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "opt/deps/libHY.so.1"), mustRead(t, filepath.Join(host, "deps/libHY.so.1")), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(host, "lib/libHX.so.1")
	real, err := oracle.Run{Root: root, File: "/usr/bin/hx", ChrootExec: fixture.ChrootExec(t),
		Binds: []oracle.Bind{{Src: src, Dst: "/opt/hxbind/libHX.so.1"}}}.Do()
	if err != nil {
		t.Fatal(err)
	}
	base, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	v, err := base.WithBinds(rootfs.Bind{Src: src, Dst: "/opt/hxbind/libHX.so.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	g, err := loader.New(v, loader.WithHWCaps(hostHWCaps(t))).Load(context.Background(), "/usr/bin/hx")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(real.List, g.Ldd()); diff != "" {
		t.Errorf("load list (-loader +hitch):\n%s\nloader stderr: %s", diff, real.Stderr)
	}
	want := "\tlibHY.so.1 => /opt/hxbind/../deps/libHY.so.1"
	if !strings.Contains(strings.Join(g.Ldd(), "\n"), want) {
		t.Errorf("list lacks %q:\n%s", want, strings.Join(g.Ldd(), "\n"))
	}
}
