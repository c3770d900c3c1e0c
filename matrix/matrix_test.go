package matrix_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/matrix"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/scan"
	"github.com/hitch-hpc/hitch/store"
	"github.com/hitch-hpc/hitch/storeview"
)

var suites = []string{"bullseye", "bookworm", "trixie"}

var shared struct {
	once  sync.Once
	dir   string
	st    *store.Store
	roots map[string]string
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.st != nil {
		shared.st.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// catalog holds the three Debian roots as images and, under "host-"
// names, as hosts; the tests share it.
func catalog(t testing.TB) (*storeview.Catalog, map[string]string) {
	t.Helper()
	ctx := context.Background()
	roots := map[string]string{}
	for _, s := range suites {
		roots[s] = fixture.Rootfs(t, s)
	}
	shared.once.Do(func() {
		shared.roots = roots
		if shared.dir, shared.err = os.MkdirTemp("", "hitch-matrix-"); shared.err != nil {
			return
		}
		if shared.st, shared.err = store.Open(ctx, filepath.Join(shared.dir, "hitch.db")); shared.err != nil {
			return
		}
		for _, s := range suites {
			for _, role := range []string{"image", "host"} {
				name := s
				if role == "host" {
					name = "host-" + s
				}
				sn, err := scan.Image(ctx, roots[s], scan.Options{Name: name, Role: role})
				if err != nil {
					shared.err = err
					return
				}
				if _, err := shared.st.Put(ctx, sn); err != nil {
					shared.err = err
					return
				}
			}
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return storeview.New(ctx, shared.st, filepath.Join(shared.dir, "cache")), shared.roots
}

// fromFiles is `hitch check IMAGE --interface NAME --host HOST` on the
// files: the objects the binds touch, with their statuses.
func fromFiles(t *testing.T, set *iface.Set, image, host, name string) (check.Summary, []string, error) {
	ctx := context.Background()
	iv, err := rootfs.Dir(image)
	if err != nil {
		t.Fatal(err)
	}
	defer iv.Close()
	hv, err := rootfs.Dir(host)
	if err != nil {
		t.Fatal(err)
	}
	defer hv.Close()
	var sum check.Summary
	p, err := plan.Make(ctx, iv, hv, set, name, plan.Options{})
	if err != nil {
		return sum, nil, err
	}
	merged, opts, err := check.WithPlan(iv, p, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	var bad []string
	_, err = check.Run(ctx, merged, nil, opts, func(v check.Verdict) error {
		if v.Err == nil && v.Affected() {
			sum.Add(v)
			if v.Status != check.OK {
				bad = append(bad, fmt.Sprintf("%s %s", v.Status, v.Path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	return sum, bad, nil
}

// TestSameAsCheck: every cell of the 3×3 Debian matrix for MPI says what
// `hitch check --interface mpi` says on the files: the same objects
// judged, the same ones failing.
func TestSameAsCheck(t *testing.T) {
	c, roots := catalog(t)
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, s := range suites {
		hosts = append(hosts, "host-"+s)
	}
	m, err := matrix.Run(context.Background(), c, suites, hosts, matrix.Options{Interfaces: []string{"mpi"}, MaxObjects: 100000})
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for i, img := range suites {
		for j, h := range suites {
			cell := m.Cell(i, j)
			statuses[cell.Status]++
			if len(cell.Parts) != 1 {
				t.Fatalf("%s on %s: parts %+v", img, h, cell.Parts)
			}
			part := cell.Parts[0]
			sum, bad, err := fromFiles(t, set, roots[img], roots[h], "mpi")
			if err != nil {
				if part.Problem != err.Error() {
					t.Errorf("%s on %s: problem %q, files say %v", img, h, part.Problem, err)
				}
				continue
			}
			var got []string
			for _, o := range part.Objects {
				got = append(got, fmt.Sprintf("%s %s", o.Status, o.Path))
			}
			sort.Strings(got)
			if part.Summary != sum || strings.Join(got, "\n") != strings.Join(bad, "\n") {
				t.Errorf("%s on %s: matrix %+v\n%s\nfiles %+v\n%s", img, h, part.Summary, strings.Join(got, "\n"), sum, strings.Join(bad, "\n"))
			}
			if (cell.Status == matrix.OK) != (cell.Reason == "") {
				t.Errorf("%s on %s: status %s, reason %q", img, h, cell.Status, cell.Reason)
			}
			t.Logf("%s on %s: %s %+v %s", img, h, cell.Status, part.Summary, cell.Reason)
		}
	}
	// Newer images on older hosts fail, an image on its own host is ok:
	// the matrix must show both.
	if statuses[matrix.OK] == 0 || statuses[matrix.Fails] == 0 {
		t.Errorf("statuses %v", statuses)
	}
}

// TestInterfacesUsed: with no --interface, each image is judged for
// what it uses: the Debian roots carry Open MPI and MPICH (mpi), and Open
// MPI brings libfabric, UCX and PMIx.
func TestInterfacesUsed(t *testing.T) {
	c, _ := catalog(t)
	m, err := matrix.Run(context.Background(), c, []string{"bookworm"}, []string{"host-bookworm"}, matrix.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range m.Cell(0, 0).Parts {
		got = append(got, p.Interface)
	}
	if strings.Join(got, " ") != "libfabric mpi pmix ucx" {
		t.Errorf("interfaces %v", got)
	}
	if _, err := matrix.Run(context.Background(), c, []string{"bookworm"}, []string{"nope"}, matrix.Options{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown host: %v", err)
	}
	if _, err := matrix.Run(context.Background(), c, []string{"bookworm"}, []string{"host-bookworm"}, matrix.Options{Interfaces: []string{"nosuch"}}); err == nil {
		t.Error("unknown interface accepted")
	}
}

// BenchmarkMatrix: the 3×3 Debian matrix from the catalog (trees
// already recreated, each run with a fresh catalog and facts cache),
// for MPI alone and for every interface each image uses (mpi,
// libfabric, ucx, pmix); reports cells/s.
func BenchmarkMatrix(b *testing.B) {
	hosts := []string{"host-bullseye", "host-bookworm", "host-trixie"}
	for _, bc := range []struct {
		name string
		ifs  []string
	}{{"mpi", []string{"mpi"}}, {"used", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			c, _ := catalog(b)
			if _, err := matrix.Run(context.Background(), c, suites, hosts, matrix.Options{Interfaces: bc.ifs}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				c, _ := catalog(b)
				if _, err := matrix.Run(context.Background(), c, suites, hosts, matrix.Options{Interfaces: bc.ifs}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*9)/b.Elapsed().Seconds(), "cells/s")
		})
	}
}

// TestPreloadedImage: an image whose /etc/ld.so.preload names MPICH has
// every program load it, those that need only glibc too, so the matrix
// cannot skip their load graphs (the floor shortcut is off): its cell
// says what check says on the files, object for object.
func TestPreloadedImage(t *testing.T) {
	ctx := context.Background()
	// bookworm, hard-linked into a temp dir (nothing written through the
	// links) with a preload file of its own.
	root := filepath.Join(t.TempDir(), "preloaded")
	if out, err := exec.Command("cp", "-al", fixture.Rootfs(t, "bookworm"), root).CombinedOutput(); err != nil {
		t.Skipf("cp -al: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ld.so.preload"), []byte("libmpich.so.12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := fixture.Rootfs(t, "bullseye")
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range []struct{ ref, name, role string }{{root, "preloaded", "image"}, {host, "host", "host"}} {
		sn, err := scan.Image(ctx, s.ref, scan.Options{Name: s.name, Role: s.role, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	c := storeview.New(ctx, st, filepath.Join(t.TempDir(), "cache"))
	m, err := matrix.Run(ctx, c, []string{"preloaded"}, []string{"host"}, matrix.Options{Interfaces: []string{"mpi"}, MaxObjects: 100000})
	if err != nil {
		t.Fatal(err)
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	sum, bad, err := fromFiles(t, set, root, host, "mpi")
	if err != nil {
		t.Fatal(err)
	}
	part := m.Cell(0, 0).Parts[0]
	var got []string
	for _, o := range part.Objects {
		got = append(got, fmt.Sprintf("%s %s", o.Status, o.Path))
	}
	sort.Strings(got)
	if part.Summary != sum || strings.Join(got, "\n") != strings.Join(bad, "\n") {
		t.Errorf("matrix %+v\n%s\nfiles %+v\n%s", part.Summary, strings.Join(got, "\n"), sum, strings.Join(bad, "\n"))
	}
	// Every program loads the bound MPICH now, not only MPI's.
	if sum.Objects < 400 {
		t.Errorf("%d objects affected: the preload should reach nearly all", sum.Objects)
	}
	t.Logf("%s: %+v", m.Cell(0, 0).Status, part.Summary)
}
