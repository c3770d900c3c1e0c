package loader_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// ruleRoot copies the loader fixture tree into a temporary root with a
// glibc (loader, libc and the static ldconfig) in a merged-/usr Debian
// layout, and builds its ld.so.cache with that ldconfig. The glibc comes
// from the Debian root filesystem of suite, or from the machine for
// "host".
func ruleRoot(t *testing.T, suite string) string {
	t.Helper()
	tree := fixture.LoaderTree(t)
	from := "/"
	if suite != "host" {
		from = fixture.Rootfs(t, suite)
	}
	root := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(tree, "root")+"/.", root).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture tree: %v\n%s", err, out)
	}
	L := "usr/lib/x86_64-linux-gnu"
	install := func(src, dst string) {
		t.Helper()
		v, err := rootfs.Dir(from)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		real, err := v.Resolve(src)
		if err != nil {
			t.Skipf("%s has no %s: %v", from, src, err)
		}
		b, err := os.ReadFile(v.HostPath(real))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	install("/lib64/ld-linux-x86-64.so.2", L+"/ld-linux-x86-64.so.2")
	install("/lib/x86_64-linux-gnu/libc.so.6", L+"/libc.so.6")
	install("/sbin/ldconfig", "usr/sbin/ldconfig")
	// musl comes from the machine whatever the glibc: its programs name
	// their own loader.
	if b, err := os.ReadFile("/lib/x86_64-linux-musl/libc.so"); err == nil {
		if err := os.MkdirAll(filepath.Join(root, "usr/lib/x86_64-linux-musl"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "usr/lib/x86_64-linux-musl/libc.so"), b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("x86_64-linux-musl/libc.so", filepath.Join(root, "usr/lib/ld-musl-x86_64.so.1")); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"lib": "usr/lib", "lib64": "usr/lib64", "sbin": "usr/sbin"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/lib64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", filepath.Join(root, "usr/lib64/ld-linux-x86-64.so.2")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chroot", root, "/sbin/ldconfig", "-X").CombinedOutput(); err != nil {
		t.Fatalf("ldconfig: %v\n%s", err, out)
	}
	return root
}

// TestRules runs each fixture program under the real loader in a chroot
// and compares the listing with hitch's; it also checks, by hand, the
// rule hitch says found one object, so that each case shows what it is
// named after.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var muslBindErrors = regexp.MustCompile("(?m)^Error relocating .*: symbol not found\n")

var versionErrors = regexp.MustCompile("(?m)^.*: (version `[^']*' not found|no version information available) \\(required by .*\\)\n")

func TestRules(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot (root)")
	}
	for _, suite := range []string{"host", "bullseye", "bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) { testRules(t, ruleRoot(t, suite)) })
	}
}

func testRules(t *testing.T, root string) {
	hw := hostHWCaps(t)
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tests := []struct {
		prog     string
		env      []string
		object   string // a name in the list
		rule     loader.Rule
		path     string // where it was found
		hwcaps   []string
		wantFail bool
		absent   string // a name that must not be in the list
	}{
		{prog: "rpath", object: "libA.so.1", rule: loader.RuleRPath, path: "/opt/rpath/libA.so.1"},
		{prog: "rpath", env: []string{"LD_LIBRARY_PATH=/opt/llp"}, object: "libA.so.1", rule: loader.RuleRPath},
		{prog: "runpath", object: "libA.so.1", rule: loader.RuleRunPath, path: "/opt/runpath/libA.so.1"},
		{prog: "runpath", env: []string{"LD_LIBRARY_PATH=/opt/llp"}, object: "libA.so.1", rule: loader.RuleLibraryPath, path: "/opt/llp/libA.so.1"},
		{prog: "runpath", env: []string{"LD_LIBRARY_PATH=/nowhere;/opt/llp"}, object: "libA.so.1", rule: loader.RuleLibraryPath},
		{prog: "runpath", env: []string{"LD_LIBRARY_PATH=:/opt/llp"}, object: "libA.so.1", rule: loader.RuleLibraryPath},
		{prog: "runpath", env: []string{"LD_LIBRARY_PATH="}, object: "libA.so.1", rule: loader.RuleRunPath},
		{prog: "runpath", env: []string{"LD_PRELOAD=/opt/llp/libA.so.1"}, object: "/opt/llp/libA.so.1", rule: loader.RulePreload},
		{prog: "runpath", env: []string{"LD_PRELOAD=libA.so.1 /nowhere/libX.so"}, object: "libA.so.1", rule: loader.RuleRunPath},
		{prog: "plain", object: "libA.so.1", rule: loader.RuleCache},
		{prog: "rpath_chain", object: "libC.so.1", rule: loader.RuleRPath, path: "/opt/chain/libC.so.1"},
		{prog: "runpath_chain", object: "libC.so.1", rule: loader.RuleNotFound},
		{prog: "rpath_stop", object: "libC.so.1", rule: loader.RuleNotFound},
		{prog: "origin", object: "libO.so.1", rule: loader.RuleRunPath, path: "/opt/app/bin/../lib/libO.so.1"},
		{prog: "origin_braced", object: "libO.so.1", rule: loader.RuleRunPath},
		{prog: "lib_token", object: "libA.so.1", rule: loader.RuleRunPath, path: "/opt/lib/x86_64-linux-gnu/libA.so.1"},
		{prog: "platform_token", object: "libA.so.1", rule: loader.RuleRunPath, path: "/opt/x86_64/libA.so.1"},
		{prog: "unknown_token", object: "libA.so.1", rule: loader.RuleRunPath, path: "/opt/runpath/libA.so.1"},
		{prog: "nodeflib", object: "libc.so.6", rule: loader.RuleNotFound},

		{prog: "nodeflib_runpath", object: "libA.so.1", rule: loader.RuleRunPath},
		{prog: "hwcaps", object: "libH.so.1", rule: loader.RuleRunPath, hwcaps: hw},
		{prog: "hwcaps", object: "libH.so.1", rule: loader.RuleRunPath, path: "/opt/hw/libH.so.1", hwcaps: []string{}},
		{prog: "soname", object: "libQ.so.1", rule: loader.RuleNotFound},
		{prog: "soname", env: []string{"LD_PRELOAD=/opt/soname/libP.so.1"}, object: "/opt/soname/libP.so.1", rule: loader.RulePreload, absent: "libQ.so.1"},
		{prog: "same_file", object: "libAlias.so.1", rule: loader.RuleRunPath},
		{prog: "wrong_class", object: "libA.so.1", rule: loader.RuleRunPath, path: "/opt/wc2/libA.so.1"},
		{prog: "bad_elf", wantFail: true},
		{prog: "missing", object: "libnope.so.1", rule: loader.RuleNotFound},
		{prog: "cycle", object: "libCy2.so.1", rule: loader.RuleRPath},
		{prog: "slash", object: "/opt/slash/libS.so", rule: loader.RulePath},
		{prog: "relative", object: "opt/rel/libT.so", rule: loader.RulePath},
		{prog: "empty_entry", object: "libA.so.1", rule: loader.RuleRunPath, path: "/opt/runpath/libA.so.1"},
		{prog: "copyreloc", object: "libcopy.so.1", rule: loader.RuleRunPath},
		{prog: "copyreloc", env: []string{"LD_LIBRARY_PATH=/opt/copy2"}, object: "libcopy.so.1", rule: loader.RuleLibraryPath, path: "/opt/copy2/libcopy.so.1"},
		{prog: "versioned", object: "libv.so.1", rule: loader.RuleRunPath},
		{prog: "versioned", env: []string{"LD_LIBRARY_PATH=/opt/vold"}, object: "libv.so.1", rule: loader.RuleLibraryPath, path: "/opt/vold/libv.so.1"},
		{prog: "versioned", env: []string{"LD_LIBRARY_PATH=/opt/vnone"}, object: "libv.so.1", rule: loader.RuleLibraryPath, path: "/opt/vnone/libv.so.1"},
		{prog: "many", object: "libmany999.so", rule: loader.RuleRunPath, path: "/opt/many/libmany999.so"},
		{prog: "musl_runpath", object: "libmz.so.1", rule: loader.RuleRunPath, path: "/usr/bin/../../opt/musl/lib/libmz.so.1"},
		{prog: "musl_runpath", env: []string{"LD_LIBRARY_PATH=/opt/musl/llp"}, object: "libmz.so.1", rule: loader.RuleLibraryPath, path: "/opt/musl/llp/libmz.so.1"},
		{prog: "musl_sys", object: "libms.so.1", rule: loader.RuleDefault, path: "/opt/musl/sys/libms.so.1"},
		{prog: "musl_missing", object: "libmnope.so.1", rule: loader.RuleNotFound},
		{prog: "musl_undefined", object: "libmu.so.1", rule: loader.RuleRunPath},
	}
	for _, tt := range tests {
		name := tt.prog
		if len(tt.env) > 0 {
			name += "/" + strings.Join(tt.env, ",")
		}
		if tt.hwcaps != nil && len(tt.hwcaps) == 0 {
			name += "/baseline"
		}
		t.Run(name, func(t *testing.T) {
			prog := "/usr/bin/" + tt.prog
			if _, err := os.Stat(filepath.Join(root, prog)); err != nil {
				prog = "/opt/app/bin/" + tt.prog
			}
			hwcaps := hw
			if tt.hwcaps != nil {
				hwcaps = tt.hwcaps
			}
			g, err := loader.New(v, loader.WithEnv(tt.env), loader.WithHWCaps(hwcaps)).Load(context.Background(), prog)
			if err != nil {
				t.Fatal(err)
			}
			musl := strings.HasPrefix(tt.prog, "musl_")
			if musl {
				if _, err := os.Stat(filepath.Join(root, "usr/lib/ld-musl-x86_64.so.1")); err != nil {
					t.Skip("musl not installed on this machine")
				}
				if _, err := os.Stat(filepath.Join(root, prog)); err != nil {
					t.Skip("musl fixtures not built (musl-gcc missing when they were)")
				}
			}
			if tt.hwcaps == nil || len(tt.hwcaps) > 0 {
				run := oracle.Run{Root: root, File: prog, Env: tt.env, Musl: musl}
				if musl {
					run.Interp = "/lib/ld-musl-x86_64.so.1"
				}
				real, err := run.Do()
				if err != nil {
					t.Fatal(err)
				}
				want := real.List
				if g.Error != "" {
					want = nil // the loader prints no list when it fails
				}
				if diff := cmp.Diff(want, g.Ldd()); diff != "" {
					t.Errorf("load list (-loader +hitch):\n%s\nloader stderr: %s", diff, real.Stderr)
				}
				// What the loader says after loading: versions and
				// symbols, as "ldd -r" binds them.
				run.Bind = true
				bound, err := run.Do()
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, p := range link.NewChecker().Check(g) {
					if !contains(got, p.Message) {
						got = append(got, p.Message)
					}
				}
				sort.Strings(got)
				if bound.Crashed {
					t.Logf("the loader crashed binding %s; binding not compared", prog)
				} else if diff := cmp.Diff(bound.Messages, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("binding messages (-loader +hitch):\n%s", diff)
				}
				stderr := versionErrors.ReplaceAllString(real.Stderr, "")
				stderr = muslBindErrors.ReplaceAllString(stderr, "")
				if (stderr != "") != (g.Error != "" || len(g.Warnings) > 0) {
					t.Errorf("loader stderr %q, hitch error %q, warnings %q", stderr, g.Error, g.Warnings)
				}
			}
			if tt.wantFail != (g.Error != "") {
				t.Errorf("Error = %q, want a failure: %v", g.Error, tt.wantFail)
			}
			for _, o := range g.Objects {
				if tt.absent != "" && o.Name == tt.absent {
					t.Errorf("%s is in the list; it should have matched a loaded soname", tt.absent)
				}
			}
			if tt.object == "" {
				return
			}
			var found *loader.Object
			for _, o := range g.Objects {
				if o.Name == tt.object {
					found = o
					break
				}
			}
			if found == nil {
				t.Fatalf("%s not in the list:\n%s", tt.object, strings.Join(g.Ldd(), "\n"))
			}
			if found.Rule != tt.rule {
				t.Errorf("%s found by %q, want %q", tt.object, found.Rule, tt.rule)
			}
			if tt.path != "" && found.Path != tt.path {
				t.Errorf("%s at %q, want %q", tt.object, found.Path, tt.path)
			}
		})
	}
}
