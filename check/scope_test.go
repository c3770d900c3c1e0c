package check_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// The default scope of 'hitch check' on the Debian roots: the library
// directories are the ones the real ldconfig scans (asked in a chroot,
// -N -X: it writes nothing), each file is judged once though merged /usr
// gives it two names, and what lies outside PATH and the library
// directories (their subdirectories too: plugins) is left out — but for
// the entrypoint.
func TestDefaultScope(t *testing.T) {
	for _, suite := range []string{"bullseye", "bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			root := fixture.Rootfs(t, suite)
			v, err := rootfs.Dir(root)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			l := loader.New(v)
			dirs := l.SearchDirs("ELF64", "x86_64")
			have := map[string]bool{}
			for _, d := range dirs {
				rp, err := v.Resolve(d)
				if err != nil {
					t.Fatalf("SearchDirs gave %s, which does not resolve: %v", d, err)
				}
				if have[rp] {
					t.Errorf("SearchDirs names %s twice (as %s)", rp, d)
				}
				have[rp] = true
			}
			t.Logf("search dirs: %v", dirs)
			if os.Geteuid() == 0 {
				out, err := exec.Command("chroot", root, "/sbin/ldconfig", "-v", "-N", "-X").Output()
				if err != nil {
					t.Fatalf("ldconfig in the chroot: %v", err)
				}
				n := 0
				for _, line := range strings.Split(string(out), "\n") {
					d, _, ok := strings.Cut(line, ":")
					if !ok || !strings.HasPrefix(d, "/") {
						continue
					}
					n++
					if rp, err := v.Resolve(d); err != nil || !have[rp] {
						t.Errorf("ldconfig scans %s; SearchDirs lacks it", d)
					}
				}
				if n == 0 {
					t.Fatalf("ldconfig -v listed no directory:\n%s", out)
				}
			} else if os.Getenv("CI") != "" {
				t.Fatal("CI: ldconfig needs a chroot (root)")
			}

			const entry = "/opt/hitch/hello_openmpi"
			scope := check.DefaultScope(l, nil, entry)
			var judged []string
			_, err = check.Run(context.Background(), v, nil, check.Options{Scope: scope}, func(vd check.Verdict) error {
				judged = append(judged, vd.Path)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var all int
			if _, err := check.Run(context.Background(), v, nil, check.Options{}, func(check.Verdict) error { all++; return nil }); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			var hasEntry, hasShell, hasLibc bool
			for _, p := range judged {
				if seen[p] {
					t.Errorf("%s judged twice", p)
				}
				seen[p] = true
				switch {
				case p == entry:
					hasEntry = true
				case strings.HasPrefix(p, "/opt/"), strings.HasPrefix(p, "/usr/libexec/"):
					t.Errorf("%s is outside PATH and the library directories", p)
				case strings.HasSuffix(p, "/bin/bash"):
					hasShell = true
				case strings.Contains(p, "/x86_64-linux-gnu/libc.so.6"), strings.Contains(p, "/x86_64-linux-gnu/libc-2."):
					hasLibc = true
				case strings.Contains(p, "/openmpi/lib/openmpi3/"):
					t.Errorf("%s: a plugin in a subdirectory of a library directory", p)
				}
			}
			if !hasEntry || !hasShell || !hasLibc {
				t.Errorf("scope misses the entrypoint (%v), bash (%v) or libc (%v)", hasEntry, hasShell, hasLibc)
			}
			if len(judged) >= all {
				t.Errorf("scope judged %d objects, the whole tree %d: nothing left out", len(judged), all)
			}
			t.Logf("%d of %d objects in the default scope", len(judged), all)
		})
	}
}
