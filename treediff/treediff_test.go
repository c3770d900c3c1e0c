package treediff_test

import (
	"context"
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
	r, err := treediff.Diff(context.Background(), view(t, "bullseye"), view(t, "bookworm"), nil, nil, nil)
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
	r, err := treediff.Diff(context.Background(), v, v, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pairs) != 0 || r.Exit() != 0 || r.Unchanged < 150 {
		t.Errorf("%d pairs, exit %d, %d unchanged", len(r.Pairs), r.Exit(), r.Unchanged)
	}
}
