package loader_test

import (
	"context"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// realList runs the root's own loader in ldd's trace mode on file.
func realList(t testing.TB, root, interp, file string, env ...string) (lines []string, stderr string) {
	t.Helper()
	r, err := oracle.Run{Root: root, Interp: interp, File: file, Env: env}.Do()
	if err != nil {
		t.Fatal(err)
	}
	return r.List, r.Stderr
}

// hostHWCaps asks the machine's loader which glibc-hwcaps subdirectories this
// CPU uses; the test is skipped where it cannot say.
func hostHWCaps(t testing.TB) []string {
	t.Helper()
	levels, err := oracle.HostHWCaps()
	if err != nil {
		t.Skip(err)
	}
	return levels
}

func TestHostLevel(t *testing.T) {
	level, err := loader.HostLevel()
	if err != nil {
		t.Skip(err)
	}
	got, err := loader.HWCapsFor(level)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hostHWCaps(t), got); diff != "" {
		t.Errorf("HostLevel %s disagrees with ld.so --help (-loader +hitch):\n%s", level, diff)
	}
}

// TestAgreesWithLoaderOnDebian is the acceptance test: for every dynamic
// x86-64 ELF file of each Debian root filesystem, hitch's load list is
// the real loader's, line for line.
func TestAgreesWithLoaderOnDebian(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot (root)")
	}
	hw := hostHWCaps(t)
	for _, suite := range []string{"bullseye", "bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			root := fixture.Rootfs(t, suite)
			files, err := oracle.DynamicObjects(root)
			if err != nil {
				t.Fatal(err)
			}
			v, err := rootfs.Dir(root)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			l := loader.New(v, loader.WithHWCaps(hw))
			type result struct {
				file       string
				want, got  []string
				stderr     string
				hitchError string
			}
			results := make([]result, len(files))
			var wg sync.WaitGroup
			sem := make(chan struct{}, runtime.NumCPU()*2)
			for i, f := range files {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					r := result{file: f}
					r.want, r.stderr = realList(t, root, "/lib64/ld-linux-x86-64.so.2", f)
					g, err := l.Load(context.Background(), f)
					if err != nil {
						r.hitchError = err.Error()
					} else {
						r.got = g.Ldd()
						if g.Error != "" {
							r.hitchError = g.Error
						}
					}
					results[i] = r
				}()
			}
			wg.Wait()
			bad := 0
			for _, r := range results {
				if cmp.Equal(r.want, r.got) && (r.stderr == "") == (r.hitchError == "") {
					continue
				}
				bad++
				if bad <= 15 {
					t.Errorf("%s: (-loader +hitch):\n%s\nloader stderr: %s\nhitch error: %s", r.file, cmp.Diff(r.want, r.got), r.stderr, r.hitchError)
				}
			}
			t.Logf("%s: %d files, %d disagree", suite, len(files), bad)
			if len(files) < 500 {
				t.Errorf("only %d dynamic files; is the root filesystem complete?", len(files))
			}
		})
	}
}
