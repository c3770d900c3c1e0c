package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once openat2 proved unavailable (an old kernel, or a
// seccomp filter that refuses it); os.Root is used from then on.
var noOpenat2 atomic.Bool

// openRoot opens dir both as an os.Root and as an O_PATH descriptor for
// openat2.
func openRoot(dir string) (*os.Root, *os.File, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		r.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return r, os.NewFile(uintptr(fd), dir), nil
}

// open opens rel, a path inside the mount that the View has already
// resolved, so it holds no symlink. openat2 does it in one call and lets
// the kernel refuse any symlink or escape (RESOLVE_BENEATH,
// RESOLVE_NO_SYMLINKS), where os.Root walks the components one openat at
// a time; the guarantee is the same.
func (m *mount) open(rel string) (fileReaderAt, error) {
	if !noOpenat2.Load() {
		fd, err := unix.Openat2(int(m.dirfd.Fd()), rel, &unix.OpenHow{
			// O_NONBLOCK: a FIFO where a file should be must not
			// block the open; on regular files it changes nothing.
			Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == nil {
			return &rawFile{fd: fd, name: rel}, nil
		}
		if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
			return nil, &fs.PathError{Op: "open", Path: rel, Err: err}
		}
		noOpenat2.Store(true)
	}
	return m.root.OpenFile(rel, os.O_RDONLY|unix.O_NONBLOCK, 0)
}

// fileReaderAt is what the View's open files are: an *os.File from
// os.Root, or a rawFile.
type fileReaderAt interface {
	fs.File
	io.ReaderAt
}

// rawFile is a file opened by openat2: reads and stats go straight to
// the system calls. An *os.File would register the descriptor with the
// runtime's poller (it was opened O_NONBLOCK) at two wasted calls a file.
type rawFile struct {
	fd   int
	name string
	off  int64
}

func (f *rawFile) Stat() (fs.FileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: f.name, Err: err}
	}
	return &rawInfo{name: path.Base(f.name), st: st}, nil
}

func (f *rawFile) Read(b []byte) (int, error) {
	n, err := f.ReadAt(b, f.off)
	f.off += int64(n)
	return n, err
}

// ReadAt reads as io.ReaderAt requires: all of b, or an error.
func (f *rawFile) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.New("negative offset")}
	}
	n := 0
	for n < len(b) {
		m, err := unix.Pread(f.fd, b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

func (f *rawFile) Close() error {
	if f.fd < 0 {
		return fs.ErrClosed
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

// rawInfo is the fs.FileInfo of a stat buffer.
type rawInfo struct {
	name string
	st   unix.Stat_t
}

func (i *rawInfo) Name() string       { return i.name }
func (i *rawInfo) Size() int64        { return i.st.Size }
func (i *rawInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i *rawInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i *rawInfo) Sys() any           { return &i.st }

func (i *rawInfo) Mode() fs.FileMode {
	m := fs.FileMode(i.st.Mode & 0o777)
	switch i.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	if i.st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if i.st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if i.st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// readDir lists directory rel of the mount with getdents, taking each
// entry's type from the directory itself. (A directory opened through
// os.Root stats every entry as it lists it; the loader emulation needs
// only names and types, for thousands of entries.) It returns
// errNotListed when openat2 is unavailable.
func (m *mount) readDir(rel string) ([]fs.DirEntry, error) {
	if noOpenat2.Load() {
		return nil, errNotListed
	}
	fd, err := unix.Openat2(int(m.dirfd.Fd()), rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			noOpenat2.Store(true)
			return nil, errNotListed
		}
		return nil, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	defer unix.Close(fd)
	var out []fs.DirEntry
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: rel, Err: err}
		}
		if n <= 0 {
			return out, nil
		}
		for b := buf[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino u64, off s64, reclen u16,
			// type u8, name NUL-terminated.
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 19 || reclen > len(b) {
				return nil, &fs.PathError{Op: "readdirent", Path: rel, Err: errors.New("malformed directory entry")}
			}
			typ := b[18]
			name := b[19:reclen]
			if i := bytesIndexZero(name); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if s := string(name); s != "." && s != ".." {
				out = append(out, &rawDirEntry{m: m, dir: rel, name: s, typ: direntType(typ)})
			}
		}
	}
}

func bytesIndexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// direntType maps a d_type to type bits; ^0 for DT_UNKNOWN.
func direntType(t byte) fs.FileMode {
	switch t {
	case unix.DT_REG:
		return 0
	case unix.DT_DIR:
		return fs.ModeDir
	case unix.DT_LNK:
		return fs.ModeSymlink
	case unix.DT_FIFO:
		return fs.ModeNamedPipe
	case unix.DT_SOCK:
		return fs.ModeSocket
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.DT_BLK:
		return fs.ModeDevice
	}
	return ^fs.FileMode(0)
}

// rawDirEntry is an entry read by readDir; Info stats it on demand.
type rawDirEntry struct {
	m    *mount
	dir  string
	name string
	typ  fs.FileMode
}

func (e *rawDirEntry) Name() string { return e.name }
func (e *rawDirEntry) IsDir() bool  { return e.Type().IsDir() }

func (e *rawDirEntry) Type() fs.FileMode {
	if e.typ == ^fs.FileMode(0) {
		// The file system did not say: ask.
		if fi, err := e.Info(); err == nil {
			e.typ = fi.Mode().Type()
		} else {
			e.typ = 0
		}
	}
	return e.typ
}

func (e *rawDirEntry) Info() (fs.FileInfo, error) {
	return e.m.root.Lstat(path.Join(e.dir, e.name))
}
