package scan_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/scan"
	"github.com/hitch-hpc/hitch/store"
)

// TestScanDebian scans the bookworm root into a fresh catalog, again
// (nothing changes), and its OCI form (a second system sharing every
// object: none is new).
func TestScanDebian(t *testing.T) {
	root := fixture.Rootfs(t, "bookworm")
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sn, err := scan.Image(ctx, root, scan.Options{Name: "bookworm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sn.Objects) < 1000 || sn.System.Arch != "ELF64 x86_64" || sn.System.OSRelease["VERSION_CODENAME"] != "bookworm" {
		t.Fatalf("snapshot: %d objects, arch %q, os-release %v", len(sn.Objects), sn.System.Arch, sn.System.OSRelease)
	}
	res, err := st.Put(ctx, sn)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged || res.NewObjects != len(sn.Objects) {
		t.Errorf("first put: %+v, want %d new objects", res, len(sn.Objects))
	}
	again, err := scan.Image(ctx, root, scan.Options{Name: "bookworm"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := st.Put(ctx, again); err != nil || !res.Unchanged {
		t.Errorf("rescan: %+v, %v; want unchanged", res, err)
	}
	files, err := st.Files(ctx, "bookworm")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var cache bool
	for _, f := range files {
		kinds[f.Kind]++
		if f.Path == "/etc/ld.so.cache" && f.Kind == "config" && len(f.Content) > 1000 {
			cache = true
		}
	}
	if !cache || kinds["elf"] < len(sn.Objects) || kinds["link"] == 0 || kinds["dir"] == 0 {
		t.Errorf("files by kind %v, ld.so.cache stored %v", kinds, cache)
	}
	// The same root as an OCI image: every object is known.
	img := fixture.DebianImages(t, "bookworm")
	sn2, err := scan.Image(ctx, "oci:"+img.OCI, scan.Options{Name: "bookworm-oci", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res, err = st.Put(ctx, sn2)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewObjects != 0 {
		t.Errorf("the OCI form added %d objects; all should be known", res.NewObjects)
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Systems != 2 || stats.Objects != len(sn.Objects) {
		t.Errorf("stats %+v", stats)
	}
	f, err := st.Object(ctx, files[len(files)-1].SHA256)
	if err == nil && f.SHA256 == "" {
		t.Errorf("stored facts lack their hash")
	}
}

// TestQueries scans two Debian roots and asks the catalog the questions
// users ask, checked against what is known of the releases.
func TestQueries(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, suite := range []string{"bullseye", "trixie"} {
		sn, err := scan.Image(ctx, fixture.Rootfs(t, suite), scan.Options{Name: suite})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	// Who provides libmpi.so.40: both.
	hits, err := st.Provides(ctx, "libmpi.so.40")
	if err != nil || len(hits) != 2 || hits[0].System != "bullseye" || hits[1].System != "trixie" {
		t.Errorf("Provides(libmpi.so.40) = %+v, %v", hits, err)
	}
	// A symbol at a version: bullseye's libc lacks GLIBC_2.34's
	// __libc_start_main, trixie's has it.
	hits, err = st.Defines(ctx, "__libc_start_main", "GLIBC_2.34")
	if err != nil || len(hits) != 1 || hits[0].System != "trixie" {
		t.Errorf("Defines(__libc_start_main@GLIBC_2.34) = %+v, %v", hits, err)
	}
	// What needs glibc ≥ 2.34: nothing of bullseye (glibc 2.31).
	hits, err = st.Needs(ctx, "GLIBC_", "2.34")
	if err != nil || len(hits) < 100 {
		t.Fatalf("Needs(GLIBC_ 2.34): %d hits, %v", len(hits), err)
	}
	for _, h := range hits {
		if h.System == "bullseye" {
			t.Errorf("bullseye's %s needs %s", h.Path, h.Match)
		}
	}
	changes, err := st.Diff(ctx, "bullseye", "trixie")
	if err != nil || len(changes) < 500 {
		t.Errorf("Diff: %d changes, %v", len(changes), err)
	}
}
