package scan

import (
	"crypto/sha256"
	"encoding/gob"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/hitch-hpc/hitch/elffacts"
)

// statCache remembers, per scanned tree, each file's identity (device,
// inode, size, modification and change times) with the SHA-256 of its
// content and whether it is ELF. A rescan takes an unchanged file's facts
// from the catalog (Options.Known) instead of reading it. The change time
// cannot be set by users, so a rewritten file never matches. It lives in
// hitch's cache, one file per tree.
type statCache struct {
	file  string
	known func(sha string) (*elffacts.Facts, bool)

	mu      sync.Mutex
	old     map[string]statEntry
	entries map[string]statEntry
	hits    map[string]bool // SHA-256s whose facts came from known
}

type statEntry struct {
	Dev, Ino, Size, Mtime, Ctime int64
	SHA256                       string // "" when not ELF
}

// statCacheVersion names the format in the file name.
const statCacheVersion = 1

func openStatCache(cacheDir, root string, known func(string) (*elffacts.Facts, bool)) *statCache {
	key := sha256.Sum256([]byte(root))
	c := &statCache{
		file:    filepath.Join(cacheDir, "scan", fmt.Sprintf("%x.v%d", key[:12], statCacheVersion)),
		known:   known,
		old:     map[string]statEntry{},
		entries: map[string]statEntry{},
		hits:    map[string]bool{},
	}
	if f, err := os.Open(c.file); err == nil {
		// A damaged cache is an empty one.
		if gob.NewDecoder(f).Decode(&c.old) != nil {
			c.old = map[string]statEntry{}
		}
		f.Close()
	}
	return c
}

func identity(fi fs.FileInfo) (statEntry, bool) {
	switch st := fi.Sys().(type) {
	case *unix.Stat_t:
		return statEntry{Dev: int64(st.Dev), Ino: int64(st.Ino), Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}, true
	case *syscall.Stat_t:
		return statEntry{Dev: int64(st.Dev), Ino: int64(st.Ino), Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}, true
	}
	return statEntry{}, false
}

func (c *statCache) Lookup(path string, fi fs.FileInfo) (*elffacts.Facts, bool) {
	id, ok := identity(fi)
	if !ok {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.old[path]
	c.mu.Unlock()
	id.SHA256 = e.SHA256
	if !ok || e != id {
		return nil, false
	}
	if e.SHA256 == "" {
		c.keep(path, e, "")
		return nil, true
	}
	f, ok := c.known(e.SHA256)
	if !ok {
		return nil, false
	}
	c.keep(path, e, e.SHA256)
	return f, true
}

func (c *statCache) keep(path string, e statEntry, hit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[path] = e
	if hit != "" {
		c.hits[hit] = true
	}
}

func (c *statCache) Store(path string, fi fs.FileInfo, facts *elffacts.Facts) {
	e, ok := identity(fi)
	if !ok {
		return
	}
	if facts != nil {
		e.SHA256 = facts.SHA256
	}
	c.keep(path, e, "")
}

// save writes the entries seen by this scan, through a temporary file
// renamed into place.
func (c *statCache) save() error {
	if err := os.MkdirAll(filepath.Dir(c.file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.file), ".stat-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	c.mu.Lock()
	err = gob.NewEncoder(tmp).Encode(c.entries)
	c.mu.Unlock()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.file)
}
