package link_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// realBind runs the root's loader on file as "ldd -r" does (trace mode,
// LD_WARN, LD_BIND_NOW: every relocation processed, every failure
// reported) and returns its version and symbol messages, rewritten to
// the form link uses ("OBJECT: undefined symbol: …", version messages
// without the program prefix), sorted and without duplicates.
func realBind(t testing.TB, root, file string, env ...string) []string {
	t.Helper()
	interp := "/lib64/ld-linux-x86-64.so.2"
	cmd := &exec.Cmd{Path: interp, Args: []string{interp, file}, Dir: "/"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Env = append([]string{"LD_TRACE_LOADED_OBJECTS=1", "LD_WARN=yes", "LD_BIND_NOW=yes"}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && out.Len() == 0 && errb.Len() == 0 {
		t.Fatalf("running %s in %s: %v", interp, root, err)
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(errb.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "undefined symbol: "):
			sym, obj, ok := strings.Cut(l, "\t(")
			if !ok {
				t.Fatalf("unexpected line %q", l)
			}
			l = strings.TrimSuffix(obj, ")") + ": " + sym
		case strings.Contains(l, "version `") || strings.Contains(l, "no version information"):
			l = strings.TrimPrefix(l, file+": ")
		default:
			continue
		}
		seen[l] = true
	}
	msgs := make([]string, 0, len(seen))
	for m := range seen {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	return msgs
}

// messages are hitch's messages of the kinds realBind collects.
func messages(ps []link.Problem) []string {
	seen := map[string]bool{}
	for _, p := range ps {
		if p.Kind != link.KindCopySize {
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

func dynamicObjects(t testing.TB, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if ok, _ := elffacts.HasMagic(f); !ok {
			return nil
		}
		fi, _ := f.Stat()
		facts, err := elffacts.Read(f, fi.Size(), elffacts.WithoutHash())
		if err != nil || !facts.Dynamic || facts.Class != "ELF64" || facts.Machine != "x86_64" {
			return nil
		}
		files = append(files, strings.TrimPrefix(p, root))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
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
			files := dynamicObjects(t, root)
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
				if cmp.Equal(r.want, r.got) {
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
