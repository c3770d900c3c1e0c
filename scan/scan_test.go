package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/elffacts"
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

// TestRescanCache: a rescan takes files unchanged since the last scan of
// the tree from the catalog, unread; a file rewritten in place — even
// with the same size and its old modification time put back — is read
// again; a catalog that lacks an object gets it read, whatever the cache
// says.
func TestRescanCache(t *testing.T) {
	ctx := context.Background()
	elf := fixture.ELF(t)
	root := t.TempDir()
	for _, name := range []string{"lib/libver.so.1", "lib/libcxx.so", "bin/app_runpath"} {
		b, err := os.ReadFile(filepath.Join(elf, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, filepath.Base(name)), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "README"), []byte("not ELF\n"), 0o644)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var reads int
	opts := scan.Options{Name: "tree", CacheDir: t.TempDir(),
		Known: func(sha string) (*elffacts.Facts, bool) {
			f, err := st.ObjectHead(ctx, sha)
			return f, err == nil
		},
		Progress: func(p scan.Progress) { reads = p.Objects - p.Known },
	}
	scanPut := func() (*store.Snapshot, store.PutResult) {
		t.Helper()
		reads = 0
		sn, err := scan.Image(ctx, root, opts)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Put(ctx, sn)
		if err != nil {
			t.Fatal(err)
		}
		return sn, res
	}
	first, _ := scanPut()
	if reads != 3 || len(first.Known) != 0 {
		t.Fatalf("first scan: %d read, %d known", reads, len(first.Known))
	}
	again, res := scanPut()
	if reads != 0 || len(again.Known) != 3 || !res.Unchanged || again.System.Tree != first.System.Tree {
		t.Errorf("rescan: %d read, %d known, %+v", reads, len(again.Known), res)
	}
	// Rewrite one library in place: same size, other bytes, old mtime.
	lib := filepath.Join(root, "libcxx.so")
	fi, _ := os.Stat(lib)
	b, _ := os.ReadFile(lib)
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(lib, b, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(lib, fi.ModTime(), fi.ModTime())
	changed, res := scanPut()
	if reads != 1 || len(changed.Known) != 2 || res.Unchanged || res.NewObjects != 1 {
		t.Errorf("after a rewrite: %d read, %d known, %+v", reads, len(changed.Known), res)
	}
	// Another catalog knows nothing: everything is read.
	other, err := store.Open(ctx, filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	opts.Known = func(sha string) (*elffacts.Facts, bool) {
		f, err := other.ObjectHead(ctx, sha)
		return f, err == nil
	}
	reads = 0
	sn, err := scan.Image(ctx, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	if reads != 3 || len(sn.Known) != 0 {
		t.Errorf("into another catalog: %d read, %d known", reads, len(sn.Known))
	}
	if _, err := other.Put(ctx, sn); err != nil {
		t.Fatal(err)
	}
	// A snapshot claiming an object the catalog lacks is refused.
	bad, err := scan.Image(ctx, root, scan.Options{Name: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	bad.Known = map[string]bool{}
	for sha := range bad.Objects {
		bad.Known[sha] = true
	}
	empty, err := store.Open(ctx, filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if _, err := empty.Put(ctx, bad); err == nil || !strings.Contains(err.Error(), "is not in the catalog") {
		t.Errorf("Put of unknown known objects: %v", err)
	}
}

// TestProgressNewVersusKnown: with InCatalog, the progress counts the
// objects the catalog already holds as they are read: none in an empty
// catalog, all of them once the same tree is stored (a fresh scan cache,
// so each is read again, not taken unread).
func TestProgressNewVersusKnown(t *testing.T) {
	ctx := context.Background()
	root := fixture.Rootfs(t, "bookworm")
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "hitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var last scan.Progress
	opts := scan.Options{
		Name: "b", CacheDir: t.TempDir(),
		InCatalog: func(sha string) bool { ok, err := st.Has(ctx, sha); return err == nil && ok },
		Progress:  func(p scan.Progress) { last = p },
	}
	sn, err := scan.Image(ctx, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	if last.Objects == 0 || last.InCatalog != 0 {
		t.Fatalf("empty catalog: %+v", last)
	}
	if _, err := st.Put(ctx, sn); err != nil {
		t.Fatal(err)
	}
	opts.CacheDir = t.TempDir()
	if _, err := scan.Image(ctx, root, opts); err != nil {
		t.Fatal(err)
	}
	if last.Objects == 0 || last.InCatalog != last.Objects || last.Known != 0 {
		t.Fatalf("after storing the tree: %+v; want every object known, none taken unread", last)
	}
}
