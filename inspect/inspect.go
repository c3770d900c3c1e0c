// Package inspect reads the ABI facts of whatever a user names: one ELF
// file, a directory tree, a root filesystem or a container image in any
// format that package image opens. For trees it also says what the tree
// is (os-release, package manager) and which package each object came
// from. It is what `hitch inspect` runs, as one library call.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/pkgdb"
)

// Input describes one argument once it is opened.
type Input struct {
	Arg  string
	Kind string // "file", or an image kind: "dir", "host", "oci", …
	// Tree is false for a single file.
	Tree bool
	// Identity and configuration of an image (empty for files and
	// directories).
	Digest  string
	DiffIDs []string
	Config  image.Config
	Cached  bool
	// What the tree says about itself; nil or empty when it says nothing.
	OSRelease      map[string]string
	PackageManager string
	Packages       int
	// PackagesErr is set when a package database exists but could not be
	// read; objects then carry no package.
	PackagesErr error
}

// Object is one ELF object of an input, or a path that failed.
type Object struct {
	// Path is a host path for files and directories, an absolute path
	// inside the image for images.
	Path    string
	Facts   *elffacts.Facts
	Package *pkgdb.Package
	Err     error
}

// Options change how inputs are opened and read.
type Options struct {
	Workers  int          // files read at once (default GOMAXPROCS)
	Platform *v1.Platform // for multi-platform images
	CacheDir string       // image cache (default image.CacheDir())
}

// HostPseudoDirs are the directories of a running host that are left out
// when it is inspected as "host": kernel interfaces and runtime state.
var HostPseudoDirs = []string{"proc", "sys", "dev", "run"}

// Run opens arg, calls begin once with what it is, then fn for each ELF
// object in lexical path order. A single file that is not ELF is an error.
func Run(ctx context.Context, arg string, opts Options, begin func(*Input) error, fn func(Object) error) (elfwalk.Stats, error) {
	walkOpts := []elfwalk.Option{elfwalk.WithWorkers(opts.Workers)}
	kind, rest := image.Parse(arg)
	if kind == image.KindFile {
		if err := begin(&Input{Arg: arg, Kind: "file"}); err != nil {
			return elfwalk.Stats{}, err
		}
		return elfwalk.WalkPath(ctx, arg, func(o elfwalk.Object) error {
			return fn(Object{Path: o.Path, Facts: o.Facts, Err: o.Err})
		}, walkOpts...)
	}

	var iopts []image.Option
	if opts.Platform != nil {
		iopts = append(iopts, image.WithPlatform(*opts.Platform))
	}
	if opts.CacheDir != "" {
		iopts = append(iopts, image.WithCacheDir(opts.CacheDir))
	}
	im, err := image.Open(ctx, arg, iopts...)
	if err != nil {
		return elfwalk.Stats{}, err
	}
	defer im.Close()
	in := &Input{
		Arg: arg, Kind: im.Kind, Tree: true,
		Digest: im.Digest, DiffIDs: im.DiffIDs, Config: im.Config, Cached: im.Cached,
	}
	in.OSRelease, _ = pkgdb.OSRelease(im.View)
	db, err := pkgdb.Read(im.View)
	in.PackageManager, in.Packages = db.Manager, len(db.Packages)
	if err != nil {
		in.PackagesErr = err
		if !errors.Is(err, pkgdb.ErrUnsupported) {
			db = nil
		}
	}
	if err := begin(in); err != nil {
		return elfwalk.Stats{}, err
	}
	// Directories keep their host paths; images show their own.
	show := func(rel string) string { return "/" + rel }
	if im.Kind == image.KindDir || im.Kind == image.KindHost {
		show = func(rel string) string { return filepath.Join(rest, filepath.FromSlash(rel)) }
	}
	if im.Kind == image.KindHost {
		// The running system's kernel and runtime trees hold no
		// installed objects, and reading some of their files blocks
		// or fails.
		walkOpts = append(walkOpts, elfwalk.WithSkipDirs(HostPseudoDirs...))
	}
	return elfwalk.Walk(ctx, im.View, ".", func(o elfwalk.Object) error {
		obj := Object{Path: show(o.Path), Facts: o.Facts, Err: o.Err}
		if o.Err == nil {
			obj.Package = db.OwnerOf("/" + o.Path)
		}
		return fn(obj)
	}, walkOpts...)
}

// Describe is a one-line description of a tree for people: the OS and
// the package count.
func (in *Input) Describe() string {
	s := ""
	if name := in.OSRelease["PRETTY_NAME"]; name != "" {
		s = name
	} else if id := in.OSRelease["ID"]; id != "" {
		s = id + " " + in.OSRelease["VERSION_ID"]
	}
	if in.PackageManager != "" {
		if s != "" {
			s += "; "
		}
		if in.PackagesErr != nil {
			s += fmt.Sprintf("%s database not read: %v", in.PackageManager, in.PackagesErr)
		} else {
			s += fmt.Sprintf("%s, %d packages", in.PackageManager, in.Packages)
		}
	}
	return s
}
