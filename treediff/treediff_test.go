package treediff_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/treediff"
)

func view(t *testing.T, suite string) *rootfs.View {
	t.Helper()
	v, err := rootfs.Dir(fixture.Rootfs(t, suite))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestDebian: bullseye's libraries against bookworm's, paired by soname.
// The soname bumps of the release (OpenSSL 1.1 → 3, libffi 7 → 8, ICU
// 67 → 72, Slurm 36 → 38) are paired and reported as bumps — what
// abipkgdiff, pairing by file name, says nothing about; libpcre.so.3 is
// removed; a changed pair's report is the file diff of the two files
// the loader finds.
func TestDebian(t *testing.T) {
	r, err := treediff.Diff(context.Background(), view(t, "bullseye"), view(t, "bookworm"), treediff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string]treediff.Pair{}
	for _, p := range r.Pairs {
		pairs[p.Soname] = p
	}
	for old, new := range map[string]string{"libssl.so.1.1": "libssl.so.3", "libcrypto.so.1.1": "libcrypto.so.3",
		"libffi.so.7": "libffi.so.8", "libicuuc.so.67": "libicuuc.so.72", "libslurm.so.36": "libslurm.so.38"} {
		if p := pairs[old]; p.Status != treediff.Bumped || p.NewSoname != new || p.Exit() != 12 {
			t.Errorf("%s: %+v, want bumped to %s", old, p, new)
		}
	}
	if p := pairs["libpcre.so.3"]; p.Status != treediff.Removed {
		t.Errorf("libpcre.so.3: %+v", p)
	}
	libc := pairs["libc.so.6"]
	if libc.Status != treediff.Changed || libc.Old != "/lib/x86_64-linux-gnu/libc-2.31.so" || libc.New != "/usr/lib/x86_64-linux-gnu/libc.so.6" || libc.Report.Exit() != 12 {
		t.Errorf("libc.so.6: %+v", libc)
	}
	if r.Exit() != abidiff.ExitChange|abidiff.ExitIncompatible || r.Unchanged < 100 {
		t.Errorf("exit %d, %d unchanged", r.Exit(), r.Unchanged)
	}
	t.Logf("%d pairs with changes, %d unchanged", len(r.Pairs), r.Unchanged)
}

// TestSame: a tree against itself: nothing changed.
func TestSame(t *testing.T) {
	v := view(t, "trixie")
	r, err := treediff.Diff(context.Background(), v, v, treediff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pairs) != 0 || r.Exit() != 0 || r.Unchanged < 150 {
		t.Errorf("%d pairs, exit %d, %d unchanged", len(r.Pairs), r.Exit(), r.Unchanged)
	}
}

// TestDebugInfo: two trees holding the ABI corpus's struct-grown pair as
// their libpair.so.1, stripped, each with its debug info where Debian's
// -dbg packages put it (the tree's /usr/lib/debug/.build-id): the pair is
// compared at the type level and the grown struct is found. Without the
// debug files, the symbol level says nothing changed.
func TestDebugInfo(t *testing.T) {
	abi := fixture.ABIPairs(t)
	if _, err := exec.LookPath("objcopy"); err != nil {
		t.Skip("objcopy not installed")
	}
	trees := map[string]string{}
	for _, side := range []string{"old", "new"} {
		root := filepath.Join(t.TempDir(), side)
		lib := filepath.Join(root, "usr/lib/x86_64-linux-gnu/libpair.so.1")
		if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(abi, "struct-grown", side+".so")
		dbg := filepath.Join(t.TempDir(), "libpair.debug")
		for _, args := range [][]string{{"--only-keep-debug", full, dbg}, {"--strip-debug", full, lib}} {
			if out, err := exec.Command("objcopy", args...).CombinedOutput(); err != nil {
				t.Fatalf("objcopy %v: %v: %s", args, err, out)
			}
		}
		id, err := exec.Command("sh", "-c", "readelf -n "+lib+" | awk '/Build ID/ {print $3}'").Output()
		if err != nil || len(strings.TrimSpace(string(id))) < 3 {
			t.Fatalf("build ID of %s: %v %q", lib, err, id)
		}
		bid := strings.TrimSpace(string(id))
		dst := filepath.Join(root, "usr/lib/debug/.build-id", bid[:2], bid[2:]+".debug")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		trees[side] = root
		trees[side+"-debug"] = dbg
		trees[side+"-dst"] = dst
	}
	run := func() *treediff.Result {
		ov, err := rootfs.Dir(trees["old"])
		if err != nil {
			t.Fatal(err)
		}
		defer ov.Close()
		nv, err := rootfs.Dir(trees["new"])
		if err != nil {
			t.Fatal(err)
		}
		defer nv.Close()
		r, err := treediff.Diff(context.Background(), ov, nv, treediff.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(); r.Exit() != 0 || len(r.Pairs) != 0 {
		t.Fatalf("without debug info: exit %d, pairs %+v; want no change", r.Exit(), r.Pairs)
	}
	for _, side := range []string{"old", "new"} {
		b, err := os.ReadFile(trees[side+"-debug"])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(trees[side+"-dst"], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run()
	if r.Exit() != 12 || len(r.Pairs) != 1 || r.Pairs[0].Report.Level == "symbols" {
		t.Fatalf("with debug info: exit %d, pairs %+v; want the type level and an incompatible change", r.Exit(), r.Pairs)
	}
	found := false
	for _, c := range r.Pairs[0].Report.Changes {
		found = found || strings.Contains(c.Message, "struct pair_point: size changed from 8 to 12 bytes")
	}
	if !found {
		t.Errorf("changes %+v lack the grown struct", r.Pairs[0].Report.Changes)
	}
}
