package link_test

import (
	"context"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// realBind runs the root's loader on file as "ldd -r" does.
func realBind(t testing.TB, root, file string, env ...string) []string {
	t.Helper()
	r, err := oracle.Run{Root: root, File: file, Env: env, Bind: true}.Do()
	if err != nil {
		t.Fatal(err)
	}
	return r.Messages
}

// messages are hitch's messages of the kinds realBind collects.
func messages(ps []link.Problem) []string {
	seen := map[string]bool{}
	for _, p := range ps {
		{
			seen[p.Message] = true
		}
	}
	msgs := make([]string, 0, len(seen))
	for m := range seen {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	return msgs
}

// TestAgreesWithLoaderOnDebian binds every dynamic x86-64 file of each
// Debian root filesystem as ldd -r does and compares the loader's
// complaints with hitch's.
func TestAgreesWithLoaderOnDebian(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot (root)")
	}
	for _, suite := range fixture.Suites {
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
			l := loader.New(v)
			c := link.NewChecker()
			type result struct{ want, got []string }
			results := make([]result, len(files))
			var wg sync.WaitGroup
			sem := make(chan struct{}, runtime.NumCPU()*2)
			for i, f := range files {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					r := result{want: realBind(t, root, f)}
					g, err := l.Load(context.Background(), f)
					if err != nil {
						r.got = []string{err.Error()}
					} else {
						r.got = messages(c.Check(g))
					}
					results[i] = r
				}()
			}
			wg.Wait()
			bad, problems := 0, 0
			for i, r := range results {
				problems += len(r.want)
				if cmp.Equal(r.want, r.got, cmpopts.EquateEmpty()) {
					continue
				}
				bad++
				if bad <= 10 {
					t.Errorf("%s (-loader +hitch):\n%s", files[i], cmp.Diff(r.want, r.got))
				}
			}
			t.Logf("%s: %d files, %d loader messages, %d files disagree", suite, len(files), problems, bad)
		})
	}
}
