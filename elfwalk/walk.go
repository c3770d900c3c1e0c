// Package elfwalk walks a file tree and reads the facts of every ELF object
// in it. Files are read concurrently, but results come back in the walk's
// lexical order, and only a bounded window of them is held at once, so a
// tree of any size is summarised in constant memory.
//
// The tree is an fs.FS: give it an os.Root's FS to stay inside a
// directory (symlinks that would leave it fail to open), or any other
// fs.FS, such as a container image's View. Symlinks, devices, pipes and
// sockets are never opened; non-ELF files are skipped after reading four
// bytes.
package elfwalk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/hitch-hpc/hitch/elffacts"
)

// Object is one ELF object found by the walk, or one path that could not
// be read.
type Object struct {
	// Path is slash-separated and relative to the walked fs.FS.
	Path  string
	Facts *elffacts.Facts // nil when Err is set
	Err   error
	// Cached is set when the facts came from the Cache, not the file.
	Cached bool
}

// A Cache lets a walk skip files it has read before.
type Cache interface {
	// Lookup gives what was learnt of the file at path when it was last
	// read, if it is unchanged since (fi is its stat now): its facts, or
	// nil facts for a file that is not ELF. The facts may lack symbols.
	Lookup(path string, fi fs.FileInfo) (facts *elffacts.Facts, ok bool)
	// Store records what was read of the file, with its stat from before
	// the read (nil facts: not ELF).
	Store(path string, fi fs.FileInfo, facts *elffacts.Facts)
}

// Stats count what a walk saw.
type Stats struct {
	Files  int   // regular files looked at
	ELF    int   // ELF objects read
	NotELF int   // regular files skipped because they are not ELF
	Failed int   // paths that could not be read
	Bytes  int64 // bytes in the ELF objects read
}

type config struct {
	workers int
	window  int
	skip    map[string]bool
	cache   Cache
}

// An Option changes how Walk runs.
type Option func(*config)

// WithWorkers sets how many files are read at once; the default is
// GOMAXPROCS.
func WithWorkers(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.workers = n
		}
	}
}

// WithCache makes the walk consult c before reading a file and tell it
// what it read.
func WithCache(c Cache) Option { return func(cfg *config) { cfg.cache = c } }

// WithSkipDirs leaves out the named directories (slash paths in the
// walked fs.FS, such as "proc") and everything below them.
func WithSkipDirs(dirs ...string) Option {
	return func(c *config) {
		if c.skip == nil {
			c.skip = map[string]bool{}
		}
		for _, d := range dirs {
			c.skip[d] = true
		}
	}
}

// Walk reads every regular file under root in fsys and calls fn, in
// lexical path order, with each ELF object and with each path that could
// not be read (a directory that cannot be listed, a malformed ELF file).
// Failures of single paths do not stop the walk; they are counted in
// Stats.Failed. Walk stops when ctx is cancelled or fn returns an error,
// and returns that error.
func Walk(ctx context.Context, fsys fs.FS, root string, fn func(Object) error, opts ...Option) (Stats, error) {
	cfg := config{workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(&cfg)
	}
	// The window bounds the results held while an earlier, slower file is
	// still being read.
	cfg.window = 8 * cfg.workers

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		seq  int
		path string
		err  error // a walk error: passed through in order, nothing to read
	}
	type result struct {
		seq  int
		obj  Object
		kind kind
	}
	tokens := make(chan struct{}, cfg.window)
	jobs := make(chan job)
	results := make(chan result)

	var walkErr error
	walkDone := make(chan struct{})
	go func() {
		defer close(walkDone)
		defer close(jobs)
		seq := 0
		send := func(j job) bool {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			j.seq = seq
			seq++
			select {
			case jobs <- j:
				return true
			case <-ctx.Done():
				return false
			}
		}
		walkErr = fs.WalkDir(fsys, root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if !send(job{path: path, err: err}) {
					return ctx.Err()
				}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() && cfg.skip[path] {
				return fs.SkipDir
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if !send(job{path: path}) {
				return ctx.Err()
			}
			return nil
		})
	}()

	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(func() {
			for j := range jobs {
				r := result{seq: j.seq, obj: Object{Path: j.path, Err: j.err}, kind: walkFailed}
				if j.err == nil {
					r.obj.Facts, r.obj.Cached, r.obj.Err = readFile(fsys, j.path, cfg.cache)
					r.kind = elfObject
					switch {
					case errors.Is(r.obj.Err, elffacts.ErrNotELF):
						r.kind, r.obj.Err = notELF, nil
					case r.obj.Err != nil:
						r.kind = readFailed
					}
				}
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var stats Stats
	var fnErr error
	pending := map[int]result{}
	next := 0
	for r := range results {
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-tokens
			if fnErr != nil {
				continue
			}
			stats.add(r.kind, r.obj)
			if r.kind != notELF {
				if err := fn(r.obj); err != nil {
					fnErr = err
					cancel()
				}
			}
		}
	}
	// Workers stop early on cancellation without draining the jobs, so
	// the walk may still be running: wait for it (it stops on the same
	// cancellation) before reading walkErr.
	<-walkDone
	switch {
	case fnErr != nil:
		return stats, fnErr
	case walkErr != nil:
		return stats, walkErr
	}
	return stats, ctx.Err()
}

type kind int

const (
	elfObject  kind = iota
	notELF          // a regular file that is not ELF: skipped silently
	readFailed      // a regular file that could not be read
	walkFailed      // a directory that could not be listed
)

func (s *Stats) add(k kind, o Object) {
	if k != walkFailed {
		s.Files++
	}
	switch k {
	case elfObject:
		s.ELF++
		s.Bytes += o.Facts.Size
	case notELF:
		s.NotELF++
	default:
		s.Failed++
	}
}

// readFile reads the facts of one file of fsys, or takes them from the
// cache when the file has not changed since it was read.
func readFile(fsys fs.FS, path string, cache Cache) (facts *elffacts.Facts, cached bool, err error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() {
		// Replaced since the directory was listed.
		return nil, false, elffacts.ErrNotELF
	}
	if cache != nil {
		if facts, ok := cache.Lookup(path, st); ok {
			if facts == nil {
				return nil, true, elffacts.ErrNotELF
			}
			return facts, true, nil
		}
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, false, err
		}
		ra = bytes.NewReader(b)
	}
	facts, err = elffacts.Read(ra, st.Size())
	if err != nil && !errors.Is(err, elffacts.ErrNotELF) {
		return nil, false, fmt.Errorf("reading ELF: %w", err)
	}
	if cache != nil {
		cache.Store(path, st, facts)
	}
	return facts, false, err
}

// WalkPath walks a path of the host's file system: a directory is walked
// as a tree confined to it (os.Root: symlinks leading out of it are not
// followed), a file is read alone, following symlinks as any command named
// a file does. Object paths are host paths: the argument joined with the
// path inside it, or the argument itself for a file.
func WalkPath(ctx context.Context, path string, fn func(Object) error, opts ...Option) (Stats, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Stats{}, err
	}
	dir, root, report := path, ".", func(rel string) string { return filepath.Join(path, filepath.FromSlash(rel)) }
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return Stats{}, fmt.Errorf("%s: not a regular file or directory", path)
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return Stats{}, err
		}
		dir, root, report = filepath.Dir(real), filepath.Base(real), func(string) string { return path }
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return Stats{}, err
	}
	defer r.Close()
	stats, err := Walk(ctx, r.FS(), root, func(o Object) error {
		o.Path = report(o.Path)
		return fn(o)
	}, opts...)
	if err == nil && !st.IsDir() && stats.NotELF == 1 {
		// Named on its own, a file that is not ELF is a mistake.
		err = fmt.Errorf("%s: %w", path, elffacts.ErrNotELF)
	}
	return stats, err
}
