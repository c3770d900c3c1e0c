package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hitch-hpc/hitch/rootfs"
)

// Limits that keep a hostile image from filling the disk or running for
// ever. They apply to one image, all layers together.
const (
	DefaultMaxBytes   = 64 << 30 // unpacked file content
	DefaultMaxEntries = 5_000_000
)

// ErrLimit is wrapped by the error of an unpack that went past a limit.
var ErrLimit = errors.New("image exceeds the unpack limit")

// unpacker flattens layers into a directory: later layers over earlier
// ones, OCI whiteouts honoured. Every write goes through an os.Root, and
// every parent directory is first resolved inside the tree being built,
// so an entry below a symlinked directory lands where the link points
// inside the tree, and nothing can be written outside it.
type unpacker struct {
	root       *os.Root
	view       *rootfs.View
	maxBytes   int64
	maxEntries int
	bytes      int64
	entries    int
	skipped    int // device nodes, pipes: not created
}

func newUnpacker(dir string, maxBytes int64, maxEntries int) (*unpacker, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	v, err := rootfs.Dir(dir, rootfs.Live())
	if err != nil {
		r.Close()
		return nil, err
	}
	return &unpacker{root: r, view: v, maxBytes: maxBytes, maxEntries: maxEntries}, nil
}

func (u *unpacker) Close() error {
	return errors.Join(u.root.Close(), u.view.Close())
}

// layer applies one layer and checks its content against diffID.
func (u *unpacker) layer(l v1.Layer, diffID v1.Hash) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if err := u.tar(io.TeeReader(rc, h)); err != nil {
		return err
	}
	// The tar end marker may be followed by padding, which the diff ID
	// covers too.
	if _, err := io.Copy(io.Discard, io.TeeReader(rc, h)); err != nil {
		return fmt.Errorf("reading tar: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); diffID.Algorithm == "sha256" && got != diffID.Hex {
		return fmt.Errorf("content does not match its diff ID: got sha256:%s, want %s", got, diffID)
	}
	return nil
}

// tar applies the entries of one tar stream.
func (u *unpacker) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	created := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		u.entries++
		if u.entries > u.maxEntries {
			return fmt.Errorf("more than %d entries: %w", u.maxEntries, ErrLimit)
		}
		if err := u.entry(tr, hdr, created); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
}

// cleanName turns a tar entry name into a path relative to the root.
// Leading "/" and "./" are dropped, as tar does; a name that climbs out of
// the root with ".." is refused.
func cleanName(name string) (string, error) {
	p := path.Clean("/" + name)
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			// Cleaning from "/" would clamp it; a layer that tries is
			// hostile or broken either way.
			return "", fmt.Errorf("path climbs out of the root with ..")
		}
	}
	return strings.TrimPrefix(p, "/"), nil
}

func (u *unpacker) entry(r io.Reader, hdr *tar.Header, created map[string]bool) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		return nil // the root itself
	}
	dir, base := path.Split(name)
	parent, err := u.view.ResolvePrefix("/" + dir)
	if err != nil {
		return fmt.Errorf("resolving parent directory: %w", err)
	}
	rel := func(p string) string { return strings.TrimPrefix(path.Join(parent, p), "/") }

	// OCI image spec, layer.md: whiteouts remove what lower layers hold.
	if base == ".wh..wh..opq" {
		return u.opaque(strings.TrimPrefix(parent, "/"), created)
	}
	if hidden, ok := strings.CutPrefix(base, ".wh."); ok {
		target := rel(hidden)
		if created[target] {
			return nil
		}
		if err := u.root.RemoveAll(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}

	if parent != "/" {
		if err := u.root.MkdirAll(strings.TrimPrefix(parent, "/"), 0o755); err != nil {
			return fmt.Errorf("creating parent directory: %w", err)
		}
	}
	target := rel(base)
	existing, err := u.root.Lstat(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if existing != nil && !(existing.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := u.root.RemoveAll(target); err != nil {
			return err
		}
	}
	perm := fs.FileMode(hdr.Mode) & 0o777
	switch hdr.Typeflag {
	case tar.TypeDir:
		// Owner bits so that hitch, which may not be root, can read it.
		if existing != nil && existing.IsDir() {
			err = u.root.Chmod(target, perm|0o700)
		} else {
			err = u.root.Mkdir(target, perm|0o700)
		}
	case tar.TypeReg, tar.TypeRegA:
		err = u.file(target, r, hdr.Size, perm|0o600)
	case tar.TypeSymlink:
		// Written as it is: a View resolves it inside the root.
		err = u.root.Symlink(hdr.Linkname, target)
	case tar.TypeLink:
		err = u.hardlink(hdr.Linkname, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		// Device nodes and pipes are never created; they hold no ABI.
		u.skipped++
		return nil
	default:
		return nil
	}
	if err != nil {
		return err
	}
	// An opaque whiteout later in this layer must keep this entry and
	// the directories on its way.
	for p := target; p != "." && p != "/"; p = path.Dir(p) {
		created[p] = true
	}
	return nil
}

func (u *unpacker) file(target string, r io.Reader, size int64, perm fs.FileMode) error {
	if size < 0 || u.bytes+size > u.maxBytes {
		return fmt.Errorf("unpacked content over %d bytes: %w", u.maxBytes, ErrLimit)
	}
	f, err := u.root.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	n, err := io.CopyN(f, r, size)
	u.bytes += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// hardlink links target to an earlier entry of the image. The link name
// is a path inside the image: cleaned like an entry name, its parent
// resolved inside the tree, and never followed if it is itself a symlink.
func (u *unpacker) hardlink(linkname, target string) error {
	name, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", linkname, err)
	}
	dir, base := path.Split(name)
	parent, err := u.view.Resolve("/" + dir)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", linkname, err)
	}
	old := strings.TrimPrefix(path.Join(parent, base), "/")
	fi, err := u.root.Lstat(old)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", linkname, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("hard link target %q is a directory", linkname)
	}
	return u.root.Link(old, target)
}

// opaque empties dir of everything that lower layers put there.
func (u *unpacker) opaque(dir string, created map[string]bool) error {
	if dir == "" {
		dir = "."
	}
	f, err := u.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		if created[p] {
			continue
		}
		if err := u.root.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
