package storeview_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/scan"
	"github.com/hitch-hpc/hitch/store"
	"github.com/hitch-hpc/hitch/storeview"
)

// catalog scans the Debian roots into a fresh catalog.
func catalog(t *testing.T, suites ...string) (*store.Store, map[string]string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	roots := map[string]string{}
	for _, s := range suites {
		roots[s] = fixture.Rootfs(t, s)
		sn, err := scan.Image(ctx, roots[s], scan.Options{Name: s})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	return st, roots
}

// verdicts judges every object of view and renders each verdict as the
// lines a user would compare: status, reasons, and where every library
// was found by which rule.
func verdicts(t *testing.T, view *rootfs.View, opts check.Options) map[string]string {
	t.Helper()
	out := map[string]string{}
	_, err := check.Run(context.Background(), view, nil, opts, func(v check.Verdict) error {
		if v.Err != nil {
			out[v.Path] = "error"
			return nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", v.Type, v.Status)
		for _, r := range v.Reasons {
			fmt.Fprintf(&b, "  %s %v %s\n", r.Kind, r.Fatal, r.Message)
		}
		for _, s := range v.Shadowed {
			fmt.Fprintf(&b, "  shadowed %s %s -> %s\n", s.Soname, s.Before, s.After)
		}
		if v.Graph != nil {
			fmt.Fprintf(&b, "  glibc %s\n", v.Graph.GlibcVersion)
			for _, o := range v.Graph.Objects {
				fmt.Fprintf(&b, "  %s => %s (%s)\n", o.Name, o.Path, o.Rule)
			}
		}
		out[v.Path] = b.String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// same reports where the catalog's verdicts differ from the files'.
// Objects the scan could not read are not in the catalog: on the files
// they are errors.
func same(t *testing.T, what string, files, cat map[string]string) {
	t.Helper()
	n := 0
	for p, want := range files {
		got, ok := cat[p]
		if want == "error" && !ok {
			continue
		}
		if got != want {
			if n++; n <= 5 {
				t.Errorf("%s: %s:\nfiles:\n%s\ncatalog:\n%s", what, p, want, got)
			}
		}
	}
	if n > 5 {
		t.Errorf("%s: %d objects differ in all", what, n)
	}
	for p := range cat {
		if _, ok := files[p]; !ok {
			t.Errorf("%s: %s judged only in the catalog: %s", what, p, cat[p])
		}
	}
	if len(files) < 500 {
		t.Errorf("%s: only %d objects judged", what, len(files))
	}
}

// TestSameVerdicts: the whole tree of each Debian root judged from the
// catalog gives, object by object, the verdicts of its files — the same
// libraries found by the same rules, the same errors. bullseye's loader
// (glibc 2.31) still uses the legacy hwcaps subdirectories, which only
// its release, kept in the catalog, tells.
func TestSameVerdicts(t *testing.T) {
	suites := []string{"bullseye", "bookworm", "trixie"}
	st, roots := catalog(t, suites...)
	ctx := context.Background()
	c := storeview.New(ctx, st, t.TempDir())
	for _, s := range suites {
		t.Run(s, func(t *testing.T) {
			fv, err := rootfs.Dir(roots[s])
			if err != nil {
				t.Fatal(err)
			}
			defer fv.Close()
			im, err := c.Open(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			hw, _ := loader.HWCapsFor("x86-64-v3")
			files := verdicts(t, fv, check.Options{Loader: []loader.Option{loader.WithHWCaps(hw)}})
			cat := verdicts(t, im.View, check.Options{Loader: []loader.Option{loader.WithHWCaps(hw), loader.WithSource(c.Source())}})
			same(t, s, files, cat)
		})
	}
}

// TestSameVerdictsWithHost: bullseye with trixie's Open MPI bound in,
// both from the catalog, gives the plan and the verdicts the files give.
func TestSameVerdictsWithHost(t *testing.T) {
	st, roots := catalog(t, "bullseye", "trixie")
	ctx := context.Background()
	set, err := iface.Load()
	if err != nil {
		t.Fatal(err)
	}
	run := func(image, host *rootfs.View, lopts []loader.Option) (string, map[string]string) {
		p, err := plan.Make(ctx, image, host, set, "openmpi", plan.Options{Loader: lopts})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		var binds []rootfs.Bind
		for _, bd := range p.Binds {
			fmt.Fprintf(&b, "bind %s -> %s\n", bd.HostFile, bd.Dst)
			binds = append(binds, rootfs.Bind{Src: bd.Src, Dst: bd.Dst})
		}
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "note %s\n", n)
		}
		merged, err := image.WithBinds(binds...)
		if err != nil {
			t.Fatal(err)
		}
		defer merged.Close()
		lo := append(append([]loader.Option(nil), lopts...), loader.WithEnv(p.Env))
		return b.String(), verdicts(t, merged, check.Options{Loader: lo, Before: image, BeforeLoader: lopts})
	}
	fi, err := rootfs.Dir(roots["bullseye"])
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	fh, err := rootfs.Dir(roots["trixie"])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	wantPlan, files := run(fi, fh, nil)

	c := storeview.New(ctx, st, t.TempDir())
	ci, err := c.Open(ctx, "bullseye")
	if err != nil {
		t.Fatal(err)
	}
	defer ci.Close()
	ch, err := c.Open(ctx, "trixie")
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	gotPlan, cat := run(ci.View, ch.View, []loader.Option{loader.WithSource(c.Source())})
	if gotPlan != wantPlan {
		t.Errorf("plan from the catalog:\n%s\nfrom the files:\n%s", gotPlan, wantPlan)
	}
	if !strings.Contains(wantPlan, "libmpi.so.40") {
		t.Errorf("the plan binds no libmpi:\n%s", wantPlan)
	}
	same(t, "bullseye+trixie", files, cat)
	fails := 0
	for _, v := range files {
		if strings.Contains(v, " fails\n") {
			fails++
		}
	}
	t.Logf("%d objects, %d fail with trixie's Open MPI", len(files), fails)
}

// TestMissing: a name the catalog lacks is a clear error.
func TestMissing(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = storeview.New(context.Background(), st, t.TempDir()).Open(context.Background(), "nope")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("got %v", err)
	}
}
