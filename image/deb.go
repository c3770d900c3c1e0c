package image

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/hitch-hpc/hitch/rootfs"
)

// A Debian package is an ar archive (deb(5)): "debian-binary", then
// control.tar.*, then data.tar.* — the files it installs, compressed
// with gzip, xz or zstd, or not at all. Its data is unpacked into the
// cache like an image's layer, keyed by the package's SHA-256.

const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// ErrNotDeb is returned for a file that is no Debian package.
var ErrNotDeb = errors.New("not a Debian package (deb(5))")

// debData finds the data member of a .deb and returns a reader of its
// uncompressed tar stream.
func debData(r io.ReaderAt, size int64) (io.Reader, func() error, error) {
	magic := make([]byte, len(arMagic))
	if _, err := r.ReadAt(magic, 0); err != nil || string(magic) != arMagic {
		return nil, nil, ErrNotDeb
	}
	off := int64(len(arMagic))
	for off+arHeaderLen <= size {
		hdr := make([]byte, arHeaderLen)
		if _, err := r.ReadAt(hdr, off); err != nil {
			return nil, nil, fmt.Errorf("reading ar header at %d: %w", off, err)
		}
		if string(hdr[58:60]) != "`\n" {
			return nil, nil, fmt.Errorf("ar header at %d: bad terminator: %w", off, ErrNotDeb)
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		n, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || n < 0 || off+arHeaderLen+n > size {
			return nil, nil, fmt.Errorf("ar member %q at %d: bad size %q: %w", name, off, strings.TrimSpace(string(hdr[48:58])), ErrNotDeb)
		}
		body := io.NewSectionReader(r, off+arHeaderLen, n)
		if strings.HasPrefix(name, "data.tar") {
			return decompress(name, body)
		}
		off += arHeaderLen + n + n%2 // members are 2-byte aligned
	}
	return nil, nil, fmt.Errorf("no data.tar member: %w", ErrNotDeb)
}

func decompress(name string, r io.Reader) (io.Reader, func() error, error) {
	nop := func() error { return nil }
	switch strings.TrimPrefix(name, "data.tar") {
	case "":
		return r, nop, nil
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return zr, zr.Close, nil
	case ".xz":
		zr, err := xz.NewReader(bufio.NewReader(r))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return zr, nop, nil
	case ".zst":
		zr, err := zstd.NewReader(r, zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return zr, func() error { zr.Close(); return nil }, nil
	}
	return nil, nil, fmt.Errorf("data member %q: unknown compression", name)
}

// openDeb unpacks a Debian package's files into the cache and opens them.
func openDeb(ctx context.Context, file string, o *options) (*Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	dir, cached, err := unpackCached(ctx, o, "deb:"+strings.TrimPrefix(digest, "sha256:"), func(tmp string) error {
		data, closeData, err := debData(f, st.Size())
		if err != nil {
			return err
		}
		defer closeData()
		u, err := newUnpacker(tmp, o.maxBytes, o.maxEntries)
		if err != nil {
			return err
		}
		defer u.Close()
		if err := u.tar(data); err != nil {
			return err
		}
		// Trailing bytes after the tar end are allowed; read them so a
		// truncated stream is noticed.
		_, err = io.Copy(io.Discard, data)
		return err
	})
	if err != nil {
		return nil, err
	}
	v, err := rootfs.Dir(dir)
	if err != nil {
		return nil, err
	}
	return &Image{View: v, Cached: cached, Digest: digest}, nil
}
