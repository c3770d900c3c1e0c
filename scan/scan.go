// Package scan reads a system — an image in any form package image
// opens, a root filesystem, this host — into a store.Snapshot: its ELF
// objects with their facts, the symbolic links and directories of its
// tree, the files the loader reads for configuration (ld.so.cache,
// ld.so.conf and its includes, ld.so.preload, musl's path files), its
// os-release, package ownership and image configuration. It is what
// `hitch scan` runs before it stores the snapshot.
package scan

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/inspect"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/pkgdb"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/store"
)

// Options change a scan.
type Options struct {
	Role     string // "image" (default) or "host"
	Name     string // default: the reference
	Platform *v1.Platform
	Workers  int
	CacheDir string
	// Known, when set, gives the facts (symbols may be left out) of an
	// object the catalog already holds: a rescan then takes each file
	// unchanged since the last scan of the same tree from it, unread
	// (see Snapshot.Known).
	Known func(sha256 string) (*elffacts.Facts, bool)
	// InCatalog, when set, says whether the catalog being written holds
	// an object already: Progress then tells new objects from known ones
	// as they are read.
	InCatalog func(sha256 string) bool
	// Progress, when set, is called as objects are read.
	Progress func(Progress)
}

// Progress counts what a scan has read so far.
type Progress struct {
	Entries int   // tree entries seen
	Objects int   // ELF objects read
	Bytes   int64 // bytes of ELF objects read
	Known   int   // of those, taken from the catalog unread (Options.Known)
	// InCatalog counts the objects read that the catalog already holds
	// (Options.InCatalog; those taken unread included): the rest are new.
	InCatalog int
}

// maxConfig bounds a configuration file kept in the catalog.
const maxConfig = 16 << 20

// isConfig reports whether the loader reads the file at p (relative).
func isConfig(p string) bool {
	switch {
	case p == "etc/ld.so.cache", p == "etc/ld.so.conf", p == "etc/ld.so.preload",
		p == "etc/os-release", p == "usr/lib/os-release":
		return true
	case strings.HasPrefix(p, "etc/ld.so.conf.d/"):
		return true
	case strings.HasPrefix(p, "etc/ld-musl-") && strings.HasSuffix(p, ".path"):
		return true
	}
	return false
}

// Image scans ref.
func Image(ctx context.Context, ref string, opts Options) (*store.Snapshot, error) {
	if opts.Role == "" {
		opts.Role = "image"
	}
	if opts.Role != "image" && opts.Role != "host" {
		return nil, errors.New(`role must be "image" or "host"`)
	}
	var iopts []image.Option
	if opts.Platform != nil {
		iopts = append(iopts, image.WithPlatform(*opts.Platform))
	}
	if opts.CacheDir != "" {
		iopts = append(iopts, image.WithCacheDir(opts.CacheDir))
	}
	im, err := image.Open(ctx, ref, iopts...)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	name := opts.Name
	if name == "" {
		name = ref
	}
	cfg, _ := json.Marshal(im.Config)
	sn := &store.Snapshot{
		System:  store.System{Name: name, Role: opts.Role, Ref: ref, Kind: im.Kind, Digest: im.Digest, Config: cfg},
		Objects: map[string]*elffacts.Facts{},
	}
	sn.System.OSRelease, _ = pkgdb.OSRelease(im.View)
	db, _ := pkgdb.Read(im.View)
	skip := map[string]bool{}
	if im.Kind == image.KindHost {
		for _, d := range inspect.HostPseudoDirs {
			skip[d] = true
		}
	}
	var prog Progress
	// The tree: directories, links and configuration files.
	err = fs.WalkDir(im.View, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p == "." {
			return nil
		}
		prog.Entries++
		switch {
		case d.IsDir():
			if skip[p] {
				return fs.SkipDir
			}
			sn.Files = append(sn.Files, store.File{Path: "/" + p, Kind: "dir"})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := im.View.ReadLink(p)
			if err == nil {
				sn.Files = append(sn.Files, store.File{Path: "/" + p, Kind: "link", Target: target})
			}
		case d.Type().IsRegular() && isConfig(p):
			if b, err := readSmall(im.View, p); err == nil {
				sn.Files = append(sn.Files, store.File{Path: "/" + p, Kind: "config", Content: b})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The objects, read concurrently.
	wopts := []elfwalk.Option{elfwalk.WithWorkers(opts.Workers)}
	var sc *statCache
	if opts.Known != nil {
		dir := opts.CacheDir
		if dir == "" {
			if dir, err = image.CacheDir(); err != nil {
				return nil, err
			}
		}
		sc = openStatCache(dir, im.View.Root(), opts.Known)
		wopts = append(wopts, elfwalk.WithCache(sc))
	}
	if len(skip) > 0 {
		wopts = append(wopts, elfwalk.WithSkipDirs(inspect.HostPseudoDirs...))
	}
	_, err = elfwalk.Walk(ctx, im.View, ".", func(o elfwalk.Object) error {
		if o.Err != nil {
			return nil // unreadable objects are left out, as the loader would fail on them
		}
		f := store.File{Path: "/" + o.Path, Kind: "elf", SHA256: o.Facts.SHA256}
		if pkg := db.OwnerOf("/" + o.Path); pkg != nil {
			f.Package = pkg.Name
		}
		sn.Files = append(sn.Files, f)
		sha := o.Facts.SHA256
		switch {
		case !o.Cached:
			sn.Objects[sha] = o.Facts
			delete(sn.Known, sha)
		case sn.Objects[sha] == nil:
			sn.Objects[sha] = o.Facts
			if sn.Known == nil {
				sn.Known = map[string]bool{}
			}
			sn.Known[sha] = true
		}
		prog.Objects++
		if o.Cached {
			prog.Known++
			prog.InCatalog++
		} else {
			prog.Bytes += o.Facts.Size
			if opts.InCatalog != nil && opts.InCatalog(sha) {
				prog.InCatalog++
			}
		}
		if opts.Progress != nil {
			opts.Progress(prog)
		}
		return nil
	}, wopts...)
	if err != nil {
		return nil, err
	}
	if sc != nil {
		// A cache that cannot be written costs the next scan time, not
		// this one its result.
		sc.save()
	}
	recordInterps(im.View, sn)
	sn.System.Arch = archOf(sn)
	sn.System.Tree = sn.TreeDigest()
	return sn, nil
}

// recordInterps keeps, as the content of each glibc loader's entry, what
// the loader emulation reads from the loader's bytes (its release and
// trusted directories), so a View recreated from the catalog gives the
// same search path.
func recordInterps(v *rootfs.View, sn *store.Snapshot) {
	loaders := map[string]bool{}
	for _, f := range sn.Files {
		if f.Kind != "elf" {
			continue
		}
		if in := sn.Objects[f.SHA256].Interp; in != "" && !loaders[in] {
			loaders[in] = true
		}
	}
	files := map[string]bool{}
	for in := range loaders {
		if rp, err := v.Resolve(in); err == nil {
			files[rp] = true
		}
	}
	for i, f := range sn.Files {
		if f.Kind == "elf" && files[f.Path] {
			b, _ := json.Marshal(loader.ReadInterp(v, f.Path))
			sn.Files[i].Content = b
		}
	}
}

// archOf names the architecture by the shell, else by the most common
// machine among the objects.
func archOf(sn *store.Snapshot) string {
	count := map[string]int{}
	for _, f := range sn.Files {
		if f.Kind != "elf" {
			continue
		}
		o := sn.Objects[f.SHA256]
		a := o.Class + " " + o.Machine
		if f.Path == "/bin/sh" || f.Path == "/usr/bin/sh" || path.Base(f.Path) == "dash" {
			return a
		}
		count[a]++
	}
	best := ""
	for a, n := range count {
		if best == "" || n > count[best] || n == count[best] && a < best {
			best = a
		}
	}
	return best
}

func readSmall(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxConfig))
}
