package image_test

import (
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/pkgdb"
)

// TestDebianFormatsAgree opens the real bookworm root filesystem as a
// directory, an OCI layout, a docker archive, a SIF and from a registry on
// loopback, each into an empty cache: every format must give the same
// tree (names, types, sizes, link targets) and the same ELF objects,
// attributed to the same packages.
func TestDebianFormatsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a Debian rootfs five times")
	}
	imgs := fixture.DebianImages(t, "bookworm")
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/hitch/debian:bookworm"
	tag, _ := name.NewTag(ref)
	if err := remote.Write(tag, imgs.Image); err != nil {
		t.Fatal(err)
	}

	dir := openImage(t, "dir:"+imgs.Rootfs, t.TempDir())
	wantTree, wantELF := summary(t, dir.View)
	t.Logf("dir: %d entries, %d ELF objects", len(wantTree), len(wantELF))
	for _, r := range []string{"oci:" + imgs.OCI, "docker-archive:" + imgs.Archive, "sif:" + imgs.SIF, ref} {
		cache := t.TempDir()
		start := time.Now()
		im := openImage(t, r, cache)
		first := time.Since(start)
		start = time.Now()
		again := openImage(t, r, cache)
		second := time.Since(start)
		if !again.Cached {
			t.Errorf("%s: second open not from the cache", r)
		}
		t.Logf("%s: first open %v, cached open %v", r, first.Round(time.Millisecond), second.Round(time.Millisecond))
		tree, elfs := summary(t, im.View)
		if diff := cmp.Diff(wantTree, tree); diff != "" {
			t.Errorf("%s: tree differs from the directory (-dir +image):\n%s", r, diff)
		}
		if diff := cmp.Diff(wantELF, elfs); diff != "" {
			t.Errorf("%s: ELF objects differ from the directory (-dir +image):\n%s", r, diff)
		}
	}
}

// summary lists every entry of a View (path, kind, size or link target)
// and the SHA-256 and owning package of each ELF object. Device nodes and the test data
// stamp are left out: images never carry them.
func summary(t *testing.T, v fs.FS) (tree []string, elfs map[string]string) {
	t.Helper()
	err := fs.WalkDir(v, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." || p == ".hitch-testdata" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch m := info.Mode(); {
		case m.IsDir():
			tree = append(tree, p+"/")
		case m&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(v, p)
			if err != nil {
				return err
			}
			tree = append(tree, p+" -> "+target)
		case m.IsRegular():
			tree = append(tree, p+" "+filepath.Base(p)+" "+itoa(info.Size()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := pkgdb.Read(v)
	if err != nil {
		t.Fatal(err)
	}
	elfs = map[string]string{}
	_, err = elfwalk.Walk(t.Context(), v, ".", func(o elfwalk.Object) error {
		if o.Err != nil {
			t.Errorf("%s: %v", o.Path, o.Err)
			return nil
		}
		owner := "-"
		if p := db.OwnerOf("/" + o.Path); p != nil {
			owner = p.String()
		}
		elfs[o.Path] = o.Facts.SHA256 + " " + owner
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree, elfs
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
