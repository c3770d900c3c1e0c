// Package rootfs gives read-only Views of root filesystems: a directory
// (an unpacked image, a Debian chroot, the host's own /) with host paths
// bind-mounted over it, as `apptainer --bind` or `podman -v` would show
// them to a process inside the container.
//
// A View resolves paths the way the kernel does for a process whose root
// is the View: an absolute symlink is read from the View's root, never the
// host's; ".." stops at the root; a bind mount shows the host tree at its
// container path, and symlinks inside it are again resolved in the View;
// more than 40 links in one lookup fail with ELOOP, as Linux does. Nothing
// outside the View's root and its binds is ever read, and nothing is
// written.
//
// View implements io/fs interfaces (fs.FS, fs.ReadDirFS, fs.StatFS,
// fs.ReadLinkFS) over names relative to the root, so it can be walked
// with fs.WalkDir and read by any code that takes an fs.FS.
package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxSymlinks is Linux's MAXSYMLINKS: the number of links one path
// lookup may follow before it fails with ELOOP.
const maxSymlinks = 40

// A Bind mounts the host path Src at the container path Dst.
type Bind struct {
	Src string // host path: a file or a directory
	Dst string // absolute container path
}

func (b Bind) String() string { return b.Src + ":" + b.Dst }

// ParseBind reads the SRC[:DST] form of --bind; DST defaults to SRC.
// Options after a second colon (apptainer's ":ro") are accepted and
// ignored: a View is read-only anyway.
func ParseBind(s string) (Bind, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 || parts[0] == "" {
		return Bind{}, fmt.Errorf("bind %q: want SRC[:DST[:OPTS]]", s)
	}
	b := Bind{Src: parts[0], Dst: parts[0]}
	if len(parts) > 1 && parts[1] != "" {
		b.Dst = parts[1]
	}
	if !path.IsAbs(b.Dst) {
		return Bind{}, fmt.Errorf("bind %q: container path %q is not absolute", s, b.Dst)
	}
	return b, nil
}

// mount is one tree in the View: the root directory (at "/") or a bind.
type mount struct {
	dst  string   // clean absolute container path
	host string   // host path of the mounted file or directory
	root *os.Root // the directory holding it
	// dirfd is the same directory opened O_PATH, for openat2.
	dirfd *os.File
	name  string // "." for a directory mount, the file's name for a file mount
}

// View is a read-only root filesystem with binds. Its methods are safe for
// concurrent use. Close releases the directories it holds open.
type View struct {
	mounts []*mount // mounts[0] is the root; later mounts shadow earlier ones
	owned  []*mount // the mounts this View opened (Close closes them)
	parent *View
	// stats caches lstat and readlink results by canonical path. A View
	// is a snapshot: the trees it shows are not expected to change while
	// it is open, and the loader emulation asks about the same
	// directories thousands of times.
	stats sync.Map // string → statEntry
	// listings caches directory contents by mount and directory.
	listings sync.Map // string → *dirListing
	resolved sync.Map // name → resolvedEntry, for Resolve
	live     bool     // nothing cached
}

// dirListing holds the entries of one directory of a mount's tree, read
// once: a name missing from it does not exist, without a system call,
// which is most of what the loader's search asks.
type dirListing struct {
	once    sync.Once
	entries map[string]fs.DirEntry
	err     error
}

// errNotListed says lstatListed cannot answer from a listing.
var errNotListed = errors.New("not listed")

// listed looks the canonical path p (rel inside m) up in the listing of
// its directory, when p is not a mount point itself and its directory
// lies in the same mount; answered is false when no listing can say.
func (v *View) listed(m *mount, p string) (e fs.DirEntry, answered bool) {
	if v.live || p == m.dst || m.name != "." {
		return nil, false
	}
	dm, drel := v.locate(path.Dir(p))
	if dm != m {
		return nil, false
	}
	l := v.listing(m, drel)
	if l.err != nil {
		return nil, false
	}
	return l.entries[path.Base(p)], true
}

// listing returns the listing of directory drel of mount m, read once.
func (v *View) listing(m *mount, drel string) *dirListing {
	// A mount's directory reads the same whatever is bound beside it:
	// the View that opened the mount keeps its listings for every View
	// made from it.
	if v.parent != nil && !slices.Contains(v.owned, m) {
		return v.parent.listing(m, drel)
	}
	key := m.host + "\x00" + drel
	li, _ := v.listings.LoadOrStore(key, &dirListing{})
	l := li.(*dirListing)
	l.once.Do(func() {
		es, err := m.readDir(drel)
		if err == nil {
			l.entries = make(map[string]fs.DirEntry, len(es))
			for _, e := range es {
				l.entries[e.Name()] = e
			}
			return
		}
		if err != errNotListed {
			l.err = err
			return
		}
		// Through os.Root: its entries' Info works relative to it.
		f, err := m.root.Open(drel)
		if err != nil {
			l.err = err
			return
		}
		defer f.Close()
		es, err = f.ReadDir(-1)
		if err != nil {
			l.err = err
			return
		}
		l.entries = make(map[string]fs.DirEntry, len(es))
		for _, e := range es {
			l.entries[e.Name()] = e
		}
	})
	return l
}

// lstatListed answers lstat from a listing, or says errNotListed.
func (v *View) lstatListed(m *mount, p, rel string) (fs.FileInfo, error) {
	e, ok := v.listed(m, p)
	if !ok {
		return nil, errNotListed
	}
	if e == nil {
		return nil, &fs.PathError{Op: "lstat", Path: rel, Err: syscall.ENOENT}
	}
	fi, err := e.Info()
	if err != nil {
		return nil, errNotListed
	}
	return fi, nil
}

// ltype is the type bits of lstat(p), all that path resolution needs: a
// listing gives them without a stat call.
func (v *View) ltype(p string) (fs.FileMode, error) {
	if !v.live {
		if e, ok := v.stats.Load(p); ok {
			se := e.(*statEntry)
			if se.err != nil {
				return 0, se.err
			}
			return se.fi.Mode().Type(), nil
		}
		m, rel := v.locate(p)
		if e, ok := v.listed(m, p); ok && (e != nil || !v.aboveBind(p)) {
			if e == nil {
				return 0, &fs.PathError{Op: "lstat", Path: rel, Err: syscall.ENOENT}
			}
			return e.Type(), nil
		}
	}
	fi, err := v.lstat(p)
	if err != nil {
		return 0, err
	}
	return fi.Mode().Type(), nil
}

// aboveBind reports whether p is a directory above some bind's
// destination, which exists in the View even when the tree below lacks it.
func (v *View) aboveBind(p string) bool {
	for _, o := range v.mounts[1:] {
		if strings.HasPrefix(o.dst, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

type statEntry struct {
	fi   fs.FileInfo
	err  error
	link string // the target, for a symlink
	lerr error
}

// Option changes a View made by Dir.
type Option func(*View)

// Live says the tree changes while the View is open (an unpacker writing
// into it): nothing is cached, every question goes to the file system.
func Live() Option { return func(v *View) { v.live = true } }

// Dir returns a View whose root is the host directory dir. A View caches
// what it learns about the tree (it is a snapshot) unless made Live.
func Dir(dir string, opts ...Option) (*View, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r, fd, err := openRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("opening root filesystem: %w", err)
	}
	m := &mount{dst: "/", host: abs, root: r, dirfd: fd, name: "."}
	v := &View{mounts: []*mount{m}, owned: []*mount{m}}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Root is the host directory at the View's root.
func (v *View) Root() string { return v.mounts[0].host }

// Binds lists the binds of the View, in the order they were made.
func (v *View) Binds() []Bind {
	var out []Bind
	for _, m := range v.mounts[1:] {
		out = append(out, Bind{Src: m.host, Dst: m.dst})
	}
	return out
}

// Close closes the directories that this View opened. A View made by
// WithBinds closes only its own binds; close the View it came from too.
func (v *View) Close() error {
	var errs []error
	for _, m := range v.owned {
		errs = append(errs, m.root.Close(), m.dirfd.Close())
	}
	v.owned = nil
	return errors.Join(errs...)
}

// WithBinds returns a new View with binds mounted over v, in order, as a
// container runtime mounts them: each source is resolved on the host
// (symlinks followed), each destination inside the View as mounted so far
// (so binding over /lib/x.so on a usrmerged root mounts at
// /usr/lib/x.so); a missing destination is created, virtually, as
// apptainer does. v itself is unchanged.
func (v *View) WithBinds(binds ...Bind) (*View, error) {
	nv := &View{mounts: slices.Clone(v.mounts), parent: v, live: v.live}
	for _, b := range binds {
		m, err := nv.bind(b)
		if err != nil {
			nv.Close()
			return nil, fmt.Errorf("bind %s: %w", b, err)
		}
		// A later bind at the same place replaces the earlier one.
		nv.mounts = slices.DeleteFunc(nv.mounts, func(o *mount) bool { return o.dst == m.dst && o.dst != "/" })
		nv.mounts = append(nv.mounts, m)
		nv.owned = append(nv.owned, m)
		// What was looked up while mounting may be under the new mount.
		nv.stats.Clear()
		nv.resolved.Clear()
	}
	return nv, nil
}

func (v *View) bind(b Bind) (*mount, error) {
	src, err := filepath.EvalSymlinks(b.Src)
	if err != nil {
		return nil, err
	}
	src, err = filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	dst, err := v.resolve(b.Dst, true, true)
	if err != nil {
		return nil, err
	}
	if dst == "/" {
		return nil, errors.New("cannot bind over the root")
	}
	m := &mount{dst: dst, host: src, name: "."}
	dir := src
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is neither a regular file nor a directory", src)
		}
		dir, m.name = filepath.Dir(src), filepath.Base(src)
	}
	if m.root, m.dirfd, err = openRoot(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// touches reports whether the mounts this View added to its parent's can
// change what lstat says of the canonical path p: p is one of them, lies
// below one, or lies above one (a directory the bind may have made).
// Other paths read as in the parent, whose caches answer them.
func (v *View) touches(p string) bool {
	for _, o := range v.owned {
		if p == o.dst || p == "/" || strings.HasPrefix(p, o.dst+"/") || strings.HasPrefix(o.dst, p+"/") {
			return true
		}
	}
	return false
}

// split turns a name (absolute, or relative to the root) into components.
func split(name string) []string {
	var out []string
	for _, c := range strings.Split(name, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func join(comps []string) string { return "/" + strings.Join(comps, "/") }

// locate finds the mount that holds the canonical container path p and
// the path inside that mount's root directory.
func (v *View) locate(p string) (*mount, string) {
	for i := len(v.mounts) - 1; i >= 0; i-- {
		m := v.mounts[i]
		if m.dst == "/" {
			if p == "/" {
				return m, "."
			}
			return m, p[1:]
		}
		if p == m.dst {
			return m, m.name
		}
		if strings.HasPrefix(p, m.dst+"/") {
			if m.name != "." {
				// Below a file mount: nothing can exist there.
				return m, path.Join(m.name, p[len(m.dst)+1:])
			}
			return m, p[len(m.dst)+1:]
		}
	}
	panic("rootfs: View without a root mount")
}

// lstat stats the canonical path p without following a final symlink. A
// path above a bind's destination that the underlying tree lacks exists
// as a directory, as the runtime creates it.
func (v *View) lstat(p string) (fs.FileInfo, error) {
	if v.live {
		return v.lstatUncached(p)
	}
	if v.parent != nil && !v.touches(p) {
		return v.parent.lstat(p)
	}
	if e, ok := v.stats.Load(p); ok {
		return e.(*statEntry).fi, e.(*statEntry).err
	}
	fi, err := v.lstatUncached(p)
	e := &statEntry{fi: fi, err: err}
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		e.link, e.lerr = v.readlinkUncached(p)
	}
	v.stats.Store(p, e)
	return fi, err
}

func (v *View) lstatUncached(p string) (fs.FileInfo, error) {
	m, rel := v.locate(p)
	fi, err := v.lstatListed(m, p, rel)
	if err == errNotListed {
		fi, err = m.root.Lstat(rel)
	}
	if err == nil {
		if p == m.dst && m.dst != "/" {
			return renamed{fi, path.Base(p)}, nil
		}
		return fi, nil
	}
	if (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && v.aboveBind(p) {
		return syntheticDir(path.Base(p)), nil
	}
	return nil, err
}

// Resolve returns the canonical container path of name, every symlink
// followed inside the View. It is what the kernel's path lookup gives a
// process chrooted into the View.
func (v *View) Resolve(name string) (string, error) {
	if v.live {
		return v.resolve(name, true, false)
	}
	// The loader emulation resolves the same few hundred paths for
	// every program it loads.
	if r, ok := v.resolved.Load(name); ok {
		e := r.(resolvedEntry)
		return e.path, e.err
	}
	p, err := v.resolve(name, true, false)
	v.resolved.Store(name, resolvedEntry{p, err})
	return p, err
}

type resolvedEntry struct {
	path string
	err  error
}

// ResolvePrefix resolves name like Resolve, except that from the first
// component that does not exist on, the rest is kept as written (with "."
// and ".." applied): the path a tool creating name inside the View would
// create. Unpacking an image layer uses it so that an entry below a
// symlinked directory lands where the link points, inside the View.
func (v *View) ResolvePrefix(name string) (string, error) {
	return v.resolve(name, true, true)
}

// resolve walks name one component at a time. With followLast false a
// final symlink is not followed (lstat semantics); with allowMissing the
// components from the first missing one on are appended as they are.
func (v *View) resolve(name string, followLast, allowMissing bool) (string, error) {
	todo := split(name)
	var done []string
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := append(done[:len(done):len(done)], c)
		if len(todo) == 0 && !followLast {
			done = cand
			break
		}
		p := join(cand)
		typ, err := v.ltype(p)
		if err != nil {
			if allowMissing && errors.Is(err, fs.ErrNotExist) {
				done = append(cand, cleanRest(todo)...)
				todo = nil
				break
			}
			return "", &fs.PathError{Op: "resolve", Path: name, Err: unwrapPathError(err)}
		}
		if typ&fs.ModeSymlink != 0 {
			hops++
			if hops > maxSymlinks {
				return "", &fs.PathError{Op: "resolve", Path: name, Err: syscall.ELOOP}
			}
			target, err := v.readlink(p)
			if err != nil {
				return "", &fs.PathError{Op: "resolve", Path: name, Err: unwrapPathError(err)}
			}
			if strings.HasPrefix(target, "/") {
				done = nil
			}
			todo = append(split(target), todo...)
			continue
		}
		if len(todo) > 0 && !typ.IsDir() {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: syscall.ENOTDIR}
		}
		done = cand
	}
	return join(done), nil
}

// cleanRest applies "." and ".." to components that do not exist yet.
func cleanRest(comps []string) []string {
	var out []string
	for _, c := range comps {
		switch c {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (v *View) readlink(p string) (string, error) {
	if v.live {
		return v.readlinkUncached(p)
	}
	if v.parent != nil && !v.touches(p) {
		return v.parent.readlink(p)
	}
	if _, err := v.lstat(p); err == nil {
		if e, ok := v.stats.Load(p); ok && e.(*statEntry).fi.Mode()&fs.ModeSymlink != 0 {
			return e.(*statEntry).link, e.(*statEntry).lerr
		}
	}
	return v.readlinkUncached(p)
}

func (v *View) readlinkUncached(p string) (string, error) {
	m, rel := v.locate(p)
	return m.root.Readlink(rel)
}

// HostPath returns the host path at which the canonical container path p
// lives: under the View's root or under a bind's source.
func (v *View) HostPath(p string) string {
	m, rel := v.locate(path.Clean("/" + p))
	base := m.host
	if m.name != "." {
		base = filepath.Dir(m.host)
	}
	return filepath.Join(base, filepath.FromSlash(rel))
}

// fsRel turns a canonical container path into an io/fs name.
func fsRel(p string) string {
	if p == "/" {
		return "."
	}
	return p[1:]
}

// fsName checks an io/fs name and turns it into a container path.
func fsName(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return "/" + name, nil
}

// Open opens the named file, following symlinks inside the View.
func (v *View) Open(name string) (fs.File, error) {
	p, err := fsName("open", name)
	if err != nil {
		return nil, err
	}
	return v.OpenPath(p)
}

// OpenPath opens the container path p (absolute, or relative to the
// root), following symlinks inside the View.
func (v *View) OpenPath(p string) (fs.File, error) {
	rp, err := v.Resolve(p)
	if err != nil {
		return nil, err
	}
	m, rel := v.locate(rp)
	f, err := m.open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if fi, serr := v.lstat(rp); serr == nil && fi.IsDir() {
				return &dirFile{view: v, path: rp, info: fi}, nil
			}
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: unwrapPathError(err)}
	}
	typ, err := v.ltype(rp)
	if err != nil {
		f.Close()
		return nil, err
	}
	if typ.IsDir() {
		// Its listing must show the binds below it: list through the View.
		f.Close()
		fi, err := v.lstat(rp)
		if err != nil {
			return nil, err
		}
		return &dirFile{view: v, path: rp, info: renamed{fi, path.Base(p)}}, nil
	}
	// Opened through a symlink or a file bind, it is named as asked, as
	// os.Open names it.
	return namedFile{f, path.Base(p)}, nil
}

// namedFile is an open file whose Stat carries the name it was opened by.
type namedFile struct {
	fileReaderAt
	name string
}

func (f namedFile) Stat() (fs.FileInfo, error) {
	fi, err := f.fileReaderAt.Stat()
	if err != nil {
		return nil, err
	}
	return renamed{fi, f.name}, nil
}

// Stat returns the FileInfo of the named file, following symlinks.
func (v *View) Stat(name string) (fs.FileInfo, error) {
	p, err := fsName("stat", name)
	if err != nil {
		return nil, err
	}
	rp, err := v.resolve(p, true, false)
	if err != nil {
		return nil, err
	}
	fi, err := v.lstat(rp)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: unwrapPathError(err)}
	}
	return renamed{fi, path.Base(p)}, nil
}

// Lstat returns the FileInfo of the named file without following a final
// symlink.
func (v *View) Lstat(name string) (fs.FileInfo, error) {
	p, err := fsName("lstat", name)
	if err != nil {
		return nil, err
	}
	rp, err := v.resolve(p, false, false)
	if err != nil {
		return nil, err
	}
	fi, err := v.lstat(rp)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: unwrapPathError(err)}
	}
	return renamed{fi, path.Base(p)}, nil
}

// ReadLink returns the target of the named symlink, as written.
func (v *View) ReadLink(name string) (string, error) {
	p, err := fsName("readlink", name)
	if err != nil {
		return "", err
	}
	rp, err := v.resolve(p, false, false)
	if err != nil {
		return "", err
	}
	t, err := v.readlink(rp)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: unwrapPathError(err)}
	}
	return t, nil
}

// ReadDir lists the named directory, with the binds mounted in it, sorted
// by name.
func (v *View) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := fsName("readdir", name)
	if err != nil {
		return nil, err
	}
	rp, err := v.resolve(p, true, false)
	if err != nil {
		return nil, err
	}
	entries := map[string]fs.DirEntry{}
	m, rel := v.locate(rp)
	var list []fs.DirEntry
	var lerr error
	if v.live {
		// Through os.Root: its entries' Info works relative to it.
		var f *os.File
		if f, lerr = m.root.Open(rel); lerr == nil {
			list, lerr = f.ReadDir(-1)
			f.Close()
		}
	} else {
		l := v.listing(m, rel)
		lerr = l.err
		for _, e := range l.entries {
			list = append(list, e)
		}
	}
	switch {
	case lerr == nil:
		for _, e := range list {
			entries[e.Name()] = e
		}
	case errors.Is(lerr, fs.ErrNotExist):
		if fi, serr := v.lstat(rp); serr != nil || !fi.IsDir() {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: unwrapPathError(lerr)}
		}
	default:
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: unwrapPathError(lerr)}
	}
	// Binds directly below this directory, and directories on the way to
	// deeper ones, replace what the tree has under their names.
	prefix := strings.TrimSuffix(rp, "/") + "/"
	for _, o := range v.mounts[1:] {
		rest, ok := strings.CutPrefix(o.dst, prefix)
		if !ok {
			continue
		}
		child, _, _ := strings.Cut(rest, "/")
		fi, err := v.lstat(prefix + child)
		if err != nil {
			continue
		}
		entries[child] = fs.FileInfoToDirEntry(renamed{fi, child})
	}
	out := make([]fs.DirEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// renamed gives a FileInfo the name it has in the View.
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

// syntheticDir is a directory that exists only because a bind lies below.
type syntheticDir string

func (d syntheticDir) Name() string       { return string(d) }
func (d syntheticDir) Size() int64        { return 0 }
func (d syntheticDir) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d syntheticDir) ModTime() time.Time { return time.Time{} }
func (d syntheticDir) IsDir() bool        { return true }
func (d syntheticDir) Sys() any           { return nil }

// dirFile is an open directory of the View, listed through View.ReadDir
// so that binds below it show.
type dirFile struct {
	view    *View
	path    string
	info    fs.FileInfo
	entries []fs.DirEntry
	read    bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: syscall.EISDIR}
}
func (d *dirFile) Close() error { return nil }

// ReadDir follows fs.ReadDirFile: n > 0 reads at most n entries and
// returns io.EOF at the end; n <= 0 reads the rest.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		list, err := d.view.ReadDir(fsRel(d.path))
		if err != nil {
			return nil, err
		}
		d.entries, d.read = list, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(d.entries))
	out := d.entries[:k:k]
	d.entries = d.entries[k:]
	return out, nil
}

var (
	_ fs.ReadDirFS  = (*View)(nil)
	_ fs.StatFS     = (*View)(nil)
	_ fs.ReadLinkFS = (*View)(nil)
)
