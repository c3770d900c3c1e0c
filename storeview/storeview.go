// Package storeview makes a catalogued system an image again, so the
// loader emulation, the plan and the binding check run on the catalog as
// they run on files: the tree's directories, links and the loader's
// configuration files are recreated in hitch's cache (once per tree
// digest), each ELF object as an empty stand-in whose facts (and, for a
// glibc loader, its release and trusted directories) come from the
// catalog through a loader.Source.
package storeview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/store"
)

// Kind is the image kind of a system opened from the catalog.
const Kind = "catalog"

// Catalog opens the systems of a store as images. Its Source answers the
// loader for every system opened through it, so an image and a host from
// the catalog can be combined with binds.
type Catalog struct {
	ctx context.Context
	st  *store.Store
	dir string

	mu      sync.Mutex
	sha     map[string]string // host path of a stand-in → object SHA-256
	interp  map[string]loader.Interp
	objects map[string][]string // system name → its ELF objects' paths
	listed  []store.System
	heads   map[string]*elffacts.Facts // prefetched heads, by SHA-256
}

// New returns a Catalog that recreates trees under cacheDir/catalog.
func New(ctx context.Context, st *store.Store, cacheDir string) *Catalog {
	return &Catalog{ctx: ctx, st: st, dir: filepath.Join(cacheDir, "catalog"),
		sha: map[string]string{}, interp: map[string]loader.Interp{}, objects: map[string][]string{}}
}

// Open recreates the system name (once per tree digest) and opens it as
// an image of kind Kind, with the configuration it was scanned with.
func (c *Catalog) Open(ctx context.Context, name string) (*image.Image, error) {
	systems, err := c.Systems(ctx)
	if err != nil {
		return nil, err
	}
	var sys *store.System
	for i := range systems {
		if systems[i].Name == name {
			sys = &systems[i]
		}
	}
	if sys == nil {
		return nil, fmt.Errorf("catalog: no system named %q (hitch ls lists them): %w", name, store.ErrNotFound)
	}
	key := strings.TrimPrefix(sys.Tree, "sha256:")
	if len(key) > 32 {
		key = key[:32]
	}
	dir := filepath.Join(c.dir, key)
	// A tree recreated before needs only its objects from the catalog.
	var files []store.File
	if _, err := os.Stat(filepath.Join(dir, ".hitch-tree")); err == nil {
		if files, err = c.st.Objects(ctx, name); err != nil {
			return nil, err
		}
	} else {
		if files, err = c.st.Files(ctx, name); err != nil {
			return nil, err
		}
		if err := materialize(dir, files); err != nil {
			return nil, fmt.Errorf("recreating %s: %w", name, err)
		}
	}
	root := filepath.Join(dir, "root")
	v, err := rootfs.Dir(root)
	if err != nil {
		return nil, err
	}
	im := &image.Image{Ref: "catalog:" + name, Kind: Kind, View: v, Digest: sys.Digest}
	if len(sys.Config) > 0 {
		if err := json.Unmarshal(sys.Config, &im.Config); err != nil {
			v.Close()
			return nil, fmt.Errorf("catalog: %s: image configuration: %w", name, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var objects []string
	for _, f := range files {
		if f.Kind != "elf" {
			continue
		}
		objects = append(objects, f.Path)
		host := filepath.Join(v.Root(), filepath.FromSlash(f.Path))
		c.sha[host] = f.SHA256
		if len(f.Content) > 0 {
			var in loader.Interp
			if err := json.Unmarshal(f.Content, &in); err != nil {
				v.Close()
				return nil, fmt.Errorf("catalog: %s: loader entry %s: %w", name, f.Path, err)
			}
			c.interp[host] = in
		}
	}
	sort.Strings(objects)
	c.objects[name] = objects
	return im, nil
}

// Objects lists the paths of the ELF objects of a system opened through
// c, in lexical order.
func (c *Catalog) Objects(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.objects[name]
}

// Systems lists the catalog's systems, read once per Catalog.
func (c *Catalog) Systems(ctx context.Context) ([]store.System, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listed == nil {
		l, err := c.st.Systems(ctx)
		if err != nil {
			return nil, err
		}
		c.listed = l
	}
	return c.listed, nil
}

// Prefetch reads the heads of every object of a system opened through c
// in one query: for a caller about to load all of them.
func (c *Catalog) Prefetch(ctx context.Context, name string) error {
	heads, err := c.st.Heads(ctx, name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heads == nil {
		c.heads = map[string]*elffacts.Facts{}
	}
	for sha, h := range heads {
		c.heads[sha] = h
	}
	return nil
}

// Source is the loader source of every system opened so far.
func (c *Catalog) Source() loader.Source { return c }

// Facts implements loader.Source.
func (c *Catalog) Facts(file string, symbols bool) (*elffacts.Facts, bool, error) {
	c.mu.Lock()
	sha, ok := c.sha[file]
	c.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	if !symbols {
		c.mu.Lock()
		h := c.heads[sha]
		c.mu.Unlock()
		if h != nil {
			return h, true, nil
		}
	}
	get := c.st.Object
	if !symbols {
		get = c.st.ObjectHead
	}
	f, err := get(c.ctx, sha)
	if err != nil {
		return nil, true, fmt.Errorf("catalog object of %s: %w", file, err)
	}
	return f, true, nil
}

// Interp implements loader.Source.
func (c *Catalog) Interp(file string) (loader.Interp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.interp[file]
	return in, ok
}

// materialize writes the tree into dir/root through a temporary
// directory, renamed into place, so a half-made tree is never used.
func materialize(dir string, files []store.File) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Mkdir("root", 0o755); err != nil {
		return err
	}
	made := map[string]bool{"root": true}
	for _, f := range files {
		rel := "root/" + strings.TrimPrefix(f.Path, "/")
		if err := mkParents(root, rel, made); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		switch f.Kind {
		case "dir":
			if made[rel] {
				continue
			}
			if err := root.Mkdir(rel, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			made[rel] = true
		case "link":
			if err := root.Symlink(f.Target, rel); err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
		case "elf", "config":
			// Objects are empty stand-ins: their facts come from the
			// catalog.
			var b []byte
			if f.Kind == "config" {
				b = f.Content
			}
			if err := root.WriteFile(rel, b, 0o644); err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
		}
	}
	if err := root.WriteFile(".hitch-tree", nil, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return err
		}
	}
	return nil
}

// mkParents makes the directories above rel that the listing did not
// have (a tree without its directory entries).
func mkParents(root *os.Root, rel string, made map[string]bool) error {
	dir := path.Dir(rel)
	if made[dir] {
		return nil
	}
	if err := mkParents(root, dir, made); err != nil {
		return err
	}
	if err := root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	made[dir] = true
	return nil
}
