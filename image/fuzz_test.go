package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hitch-hpc/hitch/internal/fixture"
)

// FuzzUnpackLayer feeds arbitrary bytes to the layer unpacker as an
// uncompressed tar. Whatever the bytes, it must return, and never write
// outside the directory it unpacks into.
func FuzzUnpackLayer(f *testing.F) {
	for _, ents := range [][][3]string{
		{{"usr/lib/a.so", "0", "A"}, {"lib", "2", "usr/lib"}, {"lib/b.so", "0", "B"}},
		{{"../x", "0", "x"}, {"a", "1", "../../etc/passwd"}},
		{{"d/", "5", ""}, {"d/.wh..wh..opq", "0", ""}, {"d/.wh.x", "0", ""}},
		{{"a", "2", "/"}, {"a/etc/x", "0", "x"}, {"l", "2", "l"}, {"l/x", "0", "x"}},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range ents {
			h := &tar.Header{Name: e[0], Typeflag: e[1][0], Mode: 0o644}
			switch h.Typeflag {
			case tar.TypeReg:
				h.Size = int64(len(e[2]))
			default:
				h.Linkname = e[2]
			}
			tw.WriteHeader(h)
			if h.Typeflag == tar.TypeReg {
				tw.Write([]byte(e[2]))
			}
		}
		tw.Close()
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		dir := filepath.Join(base, "root")
		os.Mkdir(dir, 0o755)
		u, err := newUnpacker(dir, 1<<20, 1000)
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			return
		}
		d, err := l.DiffID()
		if err != nil {
			return
		}
		u.layer(l, d)
		entries, err := os.ReadDir(base)
		if err != nil || len(entries) != 1 {
			t.Fatalf("unpack wrote beside its root: %v %v", entries, err)
		}
	})
}

// FuzzOpenSIF feeds arbitrary bytes to the SIF opener as a file, seeded
// with a real small SIF when mksquashfs is installed.
func FuzzOpenSIF(f *testing.F) {
	f.Add([]byte("#!/usr/bin/env run-singularity\n"))
	f.Add(append([]byte("hsqs"), make([]byte, 200)...))
	if _, err := exec.LookPath("mksquashfs"); err == nil {
		src := f.TempDir()
		os.MkdirAll(filepath.Join(src, "usr/lib"), 0o755)
		os.WriteFile(filepath.Join(src, "usr/lib/libx.so.1"), []byte("\x7fELF not really"), 0o644)
		os.Symlink("usr/lib", filepath.Join(src, "lib"))
		out := filepath.Join(f.TempDir(), "seed.sif")
		if err := fixture.MakeSIF(src, out, "-comp", "gzip"); err != nil {
			f.Fatal(err)
		}
		if b, err := os.ReadFile(out); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		file := filepath.Join(base, "x.sif")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		o := &options{cacheDir: filepath.Join(base, "cache"), maxBytes: 1 << 20, maxEntries: 1000}
		if im, err := openSIF(t.Context(), file, o); err == nil {
			im.Close()
		}
		entries, _ := os.ReadDir(base)
		for _, e := range entries {
			if e.Name() != "x.sif" && e.Name() != "cache" {
				t.Fatalf("SIF open wrote %s beside its cache", e.Name())
			}
		}
	})
}

// FuzzDebData feeds arbitrary bytes to the .deb reader: it must return
// an error or a data stream, never panic, and never read past the file.
func FuzzDebData(f *testing.F) {
	f.Add([]byte("!<arch>\n"))
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\ndata.tar        0           0     0     100644  0         `\n"))
	f.Add([]byte("!<arch>\ndata.tar.xz/    0           0     0     100644  6         `\n\xfd7zXZ\x00"))
	f.Add([]byte("!<arch>\ndata.tar.zst    0           0     0     100644  4         `\n(\xb5/\xfd"))
	f.Add([]byte("!<arch>\ndata.tar.gz     0           0     0     100644  -1        `\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, closeData, err := debData(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		defer closeData()
		io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	})
}
