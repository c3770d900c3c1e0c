package image_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// TestDeb opens real Debian packages: the tree holds what dpkg-deb -c
// lists, entry for entry (path and kind); the digest is the file's
// SHA-256; a second open comes from the cache.
func TestDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	debs := fixture.Debs(t)
	cache := t.TempDir()
	for _, deb := range []string{"bullseye/libxml2.deb", "bookworm/libxml2.deb", "bookworm/zlib1g.deb", "bullseye/libffi7.deb"} {
		file := filepath.Join(debs, deb)
		for i := 0; i < 2; i++ {
			im, err := image.Open(context.Background(), file, image.WithCacheDir(cache))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(file)
			sum := sha256.Sum256(b)
			if im.Kind != image.KindDeb || im.Digest != "sha256:"+hex.EncodeToString(sum[:]) || im.Cached != (i == 1) {
				t.Errorf("%s: kind %s digest %s cached %v", deb, im.Kind, im.Digest, im.Cached)
			}
			var got []string
			fs.WalkDir(im.View, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || p == "." {
					return err
				}
				kind := "-"
				switch {
				case d.IsDir():
					kind = "d"
				case d.Type()&fs.ModeSymlink != 0:
					kind = "l"
				}
				got = append(got, kind+" /"+p)
				return nil
			})
			im.Close()
			out, err := exec.Command("dpkg-deb", "-c", file).Output()
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Fields(line)
				name := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
				if name == "" {
					continue
				}
				want = append(want, f[0][:1]+" "+name)
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: tree differs from dpkg-deb -c:\n%s\n---\n%s", deb, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestBadDeb: files that are not Debian packages, or broken ones, get a
// clear error naming the file, and nothing is left in the cache.
func TestBadDeb(t *testing.T) {
	dir := t.TempDir()
	cache := t.TempDir()
	ar := func(members ...[2]string) []byte {
		var b bytes.Buffer
		b.WriteString("!<arch>\n")
		for _, m := range members {
			hdr := []byte(strings.Repeat(" ", 60))
			copy(hdr, m[0])
			copy(hdr[48:], strconv.Itoa(len(m[1])))
			copy(hdr[58:], "`\n")
			b.Write(hdr)
			b.WriteString(m[1])
			if len(m[1])%2 == 1 {
				b.WriteByte('\n')
			}
		}
		return b.Bytes()
	}
	cases := map[string][]byte{
		"empty.deb":       {},
		"text.deb":        []byte("hello\n"),
		"nodata.deb":      ar([2]string{"debian-binary", "2.0\n"}),
		"badsize.deb":     append(ar([2]string{"debian-binary", "2.0\n"}), []byte("data.tar.gz/    0           0     0     100644  999999    `\n")...),
		"badgzip.deb":     ar([2]string{"debian-binary", "2.0\n"}, [2]string{"data.tar.gz", "not gzip"}),
		"badcompress.deb": ar([2]string{"data.tar.bz3", "x"}),
		"badtar.deb":      ar([2]string{"data.tar", strings.Repeat("x", 600)}),
	}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		_, err := image.Open(context.Background(), p, image.WithCacheDir(cache))
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
		if name == "text.deb" && !errors.Is(err, image.ErrNotDeb) {
			t.Errorf("%s: %v, want ErrNotDeb", name, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "rootfs"))
	for _, e := range entries {
		t.Errorf("left in the cache: %s", e.Name())
	}
}
