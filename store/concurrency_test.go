package store_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/store"
)

// bigSnapshot is a system of n objects, sharing the first shared with
// every other system of the same seed.
func bigSnapshot(name string, n, shared int) *store.Snapshot {
	var objs []*elffacts.Facts
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%s-%d", name, i)
		if i < shared {
			key = fmt.Sprintf("shared-%d", i)
		}
		f := facts("0", "lib"+key+".so")
		f.SHA256 = fmt.Sprintf("%064x", hashString(key))
		for j := 0; j < 20; j++ {
			f.Defined = append(f.Defined, elffacts.DefinedSymbol{Name: fmt.Sprintf("sym%d", j), Version: "V1", Binding: "global", Type: "func"})
		}
		objs = append(objs, f)
	}
	return snapshot(name, "/r/"+name, objs...)
}

func hashString(s string) uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// dump is a catalog's content in a comparable form.
func dump(t *testing.T, target string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	systems, err := st.Systems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range systems {
		out = append(out, fmt.Sprintf("system %s %s %d objects %d files", s.Name, s.Tree, s.Objects, s.Files))
		files, err := st.Files(ctx, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			out = append(out, fmt.Sprintf("  %s %s %s %s", f.Path, f.Kind, f.SHA256, f.Target))
		}
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, fmt.Sprintf("%+v", stats))
}

// TestConcurrentWriters: four writers at once, each with its own
// connection pool, store overlapping systems (every object of the first
// 50 shared); the catalog is the one a serial run makes.
func TestConcurrentWriters(t *testing.T) {
	for name, fresh := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var snaps []*store.Snapshot
			for i := 0; i < 8; i++ {
				snaps = append(snaps, bigSnapshot(fmt.Sprintf("sys%d", i), 120, 50))
			}
			serial := fresh(t)
			st, err := store.Open(ctx, serial)
			if err != nil {
				t.Fatal(err)
			}
			for _, sn := range snaps {
				if _, err := st.Put(ctx, sn); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()

			parallel := fresh(t)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					st, err := store.Open(ctx, parallel)
					if err != nil {
						errs <- err
						return
					}
					defer st.Close()
					// Each writer stores half the systems, overlapping
					// the others'.
					for i := w; i < w+4; i++ {
						if _, err := st.Put(ctx, snaps[i%len(snaps)]); err != nil {
							errs <- fmt.Errorf("writer %d, %s: %w", w, snaps[i%len(snaps)].System.Name, err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// Writers 0..3 covered systems 0..6; add the last for the
			// comparison.
			st, err = store.Open(ctx, parallel)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Put(ctx, snaps[7]); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if diff := cmp.Diff(dump(t, serial), dump(t, parallel)); diff != "" {
				t.Errorf("parallel catalog differs from the serial one (-serial +parallel):\n%s", diff)
			}
		})
	}
}

// TestKilledWriter: a writer killed (SIGKILL) in the middle of storing a
// large system leaves no trace of it; the catalog stays readable and a
// second run completes it.
func TestKilledWriter(t *testing.T) {
	if target := os.Getenv("HITCH_STORE_CRASH_CHILD"); target != "" {
		st, err := store.Open(context.Background(), target)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("writing")
		st.Put(context.Background(), bigSnapshot("victim", 4000, 0))
		os.Exit(0)
	}
	for name, fresh := range engines(t) {
		t.Run(name, func(t *testing.T) {
			target := fresh(t)
			ctx := context.Background()
			st, err := store.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Put(ctx, bigSnapshot("before", 10, 0)); err != nil {
				t.Fatal(err)
			}
			st.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
			cmd.Env = append(os.Environ(), "HITCH_STORE_CRASH_CHILD="+target)
			var out strings.Builder
			cmd.Stdout = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Let it get into its transaction, then kill it.
			for i := 0; i < 100 && !strings.Contains(out.String(), "writing"); i++ {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			st, err = store.Open(ctx, target)
			if err != nil {
				t.Fatalf("reopening after the kill: %v", err)
			}
			defer st.Close()
			systems, err := st.Systems(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(systems) != 1 || systems[0].Name != "before" {
				t.Fatalf("after the kill: %+v", systems)
			}
			if res, err := st.Put(ctx, bigSnapshot("victim", 4000, 0)); err != nil || res.NewObjects != 4000 {
				t.Fatalf("the rerun: %+v, %v", res, err)
			}
		})
	}
}
