// Package check gives a verdict per ELF object inside a View: would it
// load and bind, as the dynamic loader would judge it, with the loader's
// reasons. It runs the loader emulation (package loader) and the binding
// check (package link) on each object, concurrently, reading each file
// once however many graphs it is part of.
package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// Status is a verdict.
type Status string

const (
	OK      Status = "ok"      // loads and binds
	Warning Status = "warning" // loads, with warnings the loader prints
	Fails   Status = "fails"   // the loader would stop
)

// Reason is one thing the loader would say about an object.
type Reason struct {
	Kind    string `json:"kind"` // a link.Kind, "not-found", "loader-error", "loader-warning", "interface-rule" or "type-changed"
	Fatal   bool   `json:"fatal"`
	Message string `json:"message"`
}

// Verdict is the judgement of one object.
type Verdict struct {
	Path string `json:"path"`
	// Type is "executable", "shared-object" or "static".
	Type    string   `json:"type"`
	Status  Status   `json:"status"`
	Reasons []Reason `json:"reasons,omitempty"`
	// Shadowed lists what the binds changed for this object.
	Shadowed []Shadow `json:"shadowed,omitempty"`
	// Concerned is set when an interface rule applies to the object.
	Concerned bool `json:"concerned,omitempty"`
	// Evidence names what the verdict rests on: "loader emulation"
	// (what loads), "symbol versions", "symbol binding", "interface
	// rule", "DWARF" (the types of what the object uses of a library the
	// binds replaced, when both files have debug info).
	Evidence []string `json:"evidence,omitempty"`
	// Fixes are advice for the failures, when there is any.
	Fixes []string `json:"fixes,omitempty"`
	// Graph is the load graph the verdict came from (nil for static
	// files).
	Graph *loader.Graph `json:"-"`
	// Err is set when the file could not be judged; Status is then empty.
	Err error `json:"-"`
}

// Summary counts verdicts.
type Summary struct {
	Objects  int `json:"objects"`
	OK       int `json:"ok"`
	Warnings int `json:"warnings"`
	Fails    int `json:"fails"`
	Errors   int `json:"errors"`
	// Host counts the objects that load a library from the host's binds
	// or are concerned by an interface rule (Verdict.Affected).
	Host int `json:"host,omitempty"`
}

// Add counts a verdict.
func (s *Summary) Add(v Verdict) {
	s.Objects++
	if v.Affected() {
		s.Host++
	}
	switch {
	case v.Err != nil:
		s.Errors++
	case v.Status == OK:
		s.OK++
	case v.Status == Warning:
		s.Warnings++
	default:
		s.Fails++
	}
}

// Options change a run.
type Options struct {
	Loader  []loader.Option
	Workers int // objects judged at once (default GOMAXPROCS)
	// Before is the View without the binds, with its loader options:
	// when set, each verdict lists the libraries that the binds made
	// resolve to another file (Verdict.Shadowed).
	Before       *rootfs.View
	BeforeLoader []loader.Option
	// Hints are advice from a plan ("the host's libraries need
	// GLIBC_2.38 …"), offered with the failures they explain.
	Hints []string
	// Bound are the container paths of the binds: a library counts as
	// shadowed when it now resolves to one of them, or lies below one
	// that is a directory (BoundDirs: plugin directories).
	Bound, BoundDirs []string
	// Facts, when set, is the cache the loaders read through (objects
	// judged in many Views of the same files read once); by default
	// each Run has its own.
	Facts *loader.FactsCache
	// Concerns add reasons to every object that loads a library of that
	// soname: an interface rule's verdict ("the image's libcudart 12.4
	// needs a newer driver").
	Concerns map[string][]Reason
	// Static, with Interface, marks programs that have the planned
	// interface linked in statically: symbols such a program defines
	// itself.
	Static    []string
	Interface string
	// Scope, when set and no paths are named, limits a tree to these
	// View paths: files, and the files in directories (one level), each
	// once however many names reach it; see DefaultScope.
	Scope []string
}

// Shadow is a library that resolves to another file once the binds are
// in place.
type Shadow struct {
	Soname string `json:"soname"`
	Before string `json:"before,omitempty"` // the image's file, or "" when it had none
	After  string `json:"after"`
}

// Run judges the named paths inside view, or, with none, every dynamic
// ELF object in it or in opts.Scope (regular files only; symlinks are the
// files they point to). fn gets the verdicts in the order of paths, or in lexical
// order for a whole tree.
func Run(ctx context.Context, view *rootfs.View, paths []string, opts Options, fn func(Verdict) error) (Summary, error) {
	// With a View before the binds, both loaders read through one cache.
	lopts := opts.Loader
	shared := opts.Facts
	if shared == nil {
		shared = loader.NewFactsCache()
	}
	if opts.Before != nil || opts.Facts != nil {
		lopts = append(append([]loader.Option(nil), opts.Loader...), loader.WithFactsCache(shared))
	}
	l := loader.New(view, lopts...)
	var before *loader.Loader
	bound := map[string]bool{}
	var boundDirs []string
	if opts.Before != nil {
		before = loader.New(opts.Before, append(append([]loader.Option(nil), opts.BeforeLoader...), loader.WithFactsCache(shared))...)
		for _, b := range opts.Bound {
			if rp, err := view.Resolve(b); err == nil {
				bound[rp] = true
			}
		}
		for _, d := range opts.BoundDirs {
			if rp, err := view.Resolve(d); err == nil {
				boundDirs = append(boundDirs, strings.TrimSuffix(rp, "/")+"/")
			}
		}
	}
	c := link.NewChecker()
	var infos typeInfos
	var sum Summary
	tree := len(paths) == 0
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Paths go to the workers as they are found (a tree is judged while
	// it is still being walked); each has a result slot, and the slots
	// are read in order. The queue bounds how far judging runs ahead.
	type job struct {
		path string
		res  chan Verdict
	}
	jobs := make(chan job)
	order := make(chan chan Verdict, 16*workers)
	var walkErr error
	go func() {
		defer close(order)
		defer close(jobs)
		send := func(p string) error {
			j := job{path: p, res: make(chan Verdict, 1)}
			select {
			case order <- j.res:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		}
		if tree && opts.Scope != nil {
			walkErr = walkScope(ctx, view, opts.Scope, send)
			return
		}
		if tree {
			walkErr = walkFiles(ctx, view, send)
			return
		}
		for _, p := range paths {
			if send(p) != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				v := judge(ctx, l, c, j.path)
				if before != nil && v.Graph != nil {
					v.Shadowed = shadows(ctx, before, v.Graph, j.path, func(f string) bool {
						if bound[f] {
							return true
						}
						for _, d := range boundDirs {
							if strings.HasPrefix(f, d) {
								return true
							}
						}
						return false
					})
				}
				if v.Graph != nil && len(opts.Concerns) > 0 {
					concern(&v, opts.Concerns)
				}
				v.Evidence = evidence(v)
				if len(v.Shadowed) > 0 {
					typeChanges(&v, before, opts.Before, view, &infos)
				}
				if v.Status == Fails {
					v.Fixes = fixes(v, opts.Hints)
				}
				if len(opts.Static) > 0 && v.Err == nil {
					staticInterface(&v, view, opts.Interface, opts.Static)
				}
				j.res <- v
			}
		}()
	}
	defer wg.Wait()
	for res := range order {
		var v Verdict
		select {
		case v = <-res:
		case <-ctx.Done():
			return sum, ctx.Err()
		}
		if tree && errors.Is(v.Err, elffacts.ErrNotELF) {
			continue
		}
		sum.Add(v)
		if err := fn(v); err != nil {
			cancel()
			return sum, err
		}
	}
	if walkErr != nil {
		return sum, walkErr
	}
	return sum, ctx.Err()
}

// walkFiles sends every regular file of the View in lexical order,
// leaving out the kernel's and runtime trees of a running host.
func walkFiles(ctx context.Context, view *rootfs.View, send func(string) error) error {
	return fs.WalkDir(view, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil // an unreadable directory holds nothing we can judge
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			switch p {
			case "proc", "sys", "dev", "run":
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			return send("/" + p)
		}
		return nil
	})
}

// walkScope sends the regular files the scope names, directly or as the
// entries of a directory (one level: a library directory's
// subdirectories are other directories), in lexical order of their
// resolved paths, each once.
func walkScope(ctx context.Context, view *rootfs.View, scope []string, send func(string) error) error {
	files := map[string]bool{}
	dirs := map[string]bool{}
	for _, p := range scope {
		rp, err := view.Resolve(p)
		if err != nil || dirs[rp] {
			continue
		}
		fi, err := view.Stat(strings.TrimPrefix(rp, "/"))
		switch {
		case err != nil:
		case fi.Mode().IsRegular():
			files[rp] = true
		case fi.IsDir():
			dirs[rp] = true
			ents, err := view.ReadDir(strings.TrimPrefix(rp, "/"))
			if err != nil {
				continue // an unreadable directory holds nothing we can judge
			}
			for _, e := range ents {
				if e.Type().IsRegular() {
					files[path.Join(rp, e.Name())] = true
				}
			}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(f); err != nil {
			return err
		}
	}
	return nil
}

// DefaultScope is what 'hitch check' judges in an image by default: its
// entrypoint (when it has one; "" for none), the files in the
// directories of PATH (from env, else the usual default) and in the
// directories where its loader finds libraries (loader.SearchDirs).
func DefaultScope(l *loader.Loader, env []string, entrypoint string) []string {
	var scope []string
	if entrypoint != "" {
		scope = append(scope, entrypoint)
	}
	search := DefaultPATH
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, d := range strings.Split(search, ":") {
		if path.IsAbs(d) {
			scope = append(scope, d)
		}
	}
	class, machine := l.Arch()
	if class == "" {
		class, machine = "ELF64", "x86_64"
	}
	return append(scope, l.SearchDirs(class, machine)...)
}

// DefaultPATH is the search path of a container whose image sets none.
const DefaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// judge loads and binds one object.
func judge(ctx context.Context, l *loader.Loader, c *link.Checker, p string) Verdict {
	v := Verdict{Path: p}
	g, err := l.Load(ctx, p)
	if errors.Is(err, loader.ErrNotDynamic) {
		v.Type, v.Status = "static", OK
		return v
	}
	if err != nil {
		v.Err = err
		return v
	}
	v.Graph = g
	v.Type = "shared-object"
	exe := g.Objects[0].Facts.IsExecutable()
	if exe {
		v.Type = "executable"
	}
	if g.Error != "" {
		v.Reasons = append(v.Reasons, Reason{Kind: "loader-error", Fatal: true, Message: g.Error})
	}
	for _, w := range g.Warnings {
		v.Reasons = append(v.Reasons, Reason{Kind: "loader-warning", Message: w})
	}
	for _, o := range g.Objects {
		if !o.Found() {
			by := g.Objects[0].Path
			for _, q := range g.Objects {
				for _, n := range q.Needed {
					if g.Objects[n] == o {
						by = q.Path
					}
				}
			}
			v.Reasons = append(v.Reasons, Reason{Kind: "not-found", Fatal: true,
				Message: fmt.Sprintf("%s: cannot open shared object file: No such file or directory (needed by %s)", o.Name, by)})
		}
	}
	for _, pr := range c.Check(g) {
		fatal := pr.Fatal
		// A library judged on its own may leave symbols to the program
		// that loads it (plugins, Perl and Python modules): the loader
		// reports them, but they are not a failure of the library.
		if pr.Kind == link.KindUndefined && !exe {
			fatal = false
		}
		msg := pr.Message
		if pr.Detail != "" {
			msg += " (" + pr.Detail + ")"
		}
		v.Reasons = append(v.Reasons, Reason{Kind: string(pr.Kind), Fatal: fatal, Message: msg})
	}
	v.Status = OK
	for _, r := range v.Reasons {
		if r.Fatal {
			v.Status = Fails
			break
		}
		v.Status = Warning
	}
	return v
}

// shadows compares the object's graph with the one it has without the
// binds, library by library.
func shadows(ctx context.Context, before *loader.Loader, after *loader.Graph, p string, bound func(string) bool) []Shadow {
	// A file that only the binds bring has no graph before them.
	was := map[string]string{}
	if g, err := before.Load(ctx, p); err == nil {
		for _, o := range g.Objects[1:] {
			if o.Found() {
				was[o.Name] = o.File
			}
		}
	}
	var out []Shadow
	if m := after.Objects[0]; bound(m.File) {
		// The object itself is a host file bound in.
		out = append(out, Shadow{Soname: sonameOf(m), After: m.Path})
	}
	for _, o := range after.Objects[1:] {
		if o.Found() && bound(o.File) {
			out = append(out, Shadow{Soname: o.Name, Before: was[o.Name], After: o.Path})
		}
	}
	return out
}

// fixes turns failure reasons into advice.
func fixes(v Verdict, hints []string) []string {
	var out []string
	add := func(s string) {
		for _, x := range out {
			if x == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, r := range v.Reasons {
		if !r.Fatal {
			continue
		}
		switch r.Kind {
		case string(link.KindVersion):
			for _, h := range hints {
				if strings.Contains(h, "use an image with") {
					add(h)
				}
			}
			if provider, ver, ok := strings.Cut(r.Message, ": version `"); ok {
				ver, _, _ = strings.Cut(ver, "'")
				switch {
				case strings.HasPrefix(ver, "GLIBC_"):
					if len(out) == 0 {
						add("use a base image with glibc ≥ " + strings.TrimPrefix(ver, "GLIBC_"))
					}
				case len(v.Shadowed) > 0:
					add(provider + " lacks " + ver + ": the host's library is older than what the image's code was built against; use a newer one on the host, or keep the image's")
				}
			}
		case "not-found":
			name, _, _ := strings.Cut(r.Message, ":")
			add("bind " + name + " too, or install it in the image")
		case string(link.KindUndefined):
			if len(v.Shadowed) > 0 {
				var names []string
				for _, sh := range v.Shadowed {
					names = append(names, sh.Soname)
				}
				add("the host's " + strings.Join(names, ", ") + " lack symbols this object's own libraries need: the bind replaces newer libraries it uses (keep the binds away from it, or use a host with newer ones)")
			}
		case "loader-error":
			if strings.Contains(r.Message, "interpreter") {
				add("the image's loader is missing: is this image for another architecture?")
			}
		}
	}
	// A host library that cannot load in the image is better not bound,
	// when the image's programs can do without it.
	for _, sh := range v.Shadowed {
		if sh.Before == "" && sh.After == v.Path {
			add("or drop " + sh.Soname + " from the bind list, if the image's programs can do without it")
		}
	}
	return out
}

// concern adds the reasons of the rules whose library the object loads.
func concern(v *Verdict, concerns map[string][]Reason) {
	for _, o := range v.Graph.Objects {
		if !o.Found() {
			continue
		}
		rs := concerns[sonameOf(o)]
		if len(rs) == 0 {
			continue
		}
		v.Concerned = true
		for _, r := range rs {
			v.Reasons = append(v.Reasons, r)
			switch {
			case r.Fatal:
				v.Status = Fails
			case v.Status == OK:
				v.Status = Warning
			}
		}
	}
}

func sonameOf(o *loader.Object) string {
	if o.Facts != nil && o.Facts.Soname != "" {
		return o.Facts.Soname
	}
	return path.Base(o.Name)
}

// evidence names the checks a verdict rests on.
func evidence(v Verdict) []string {
	if v.Graph == nil {
		return nil
	}
	ev := []string{"loader emulation"}
	if v.Graph.Error == "" {
		ev = append(ev, "symbol versions", "symbol binding")
	}
	for _, r := range v.Reasons {
		if r.Kind == "interface-rule" {
			return append(ev, "interface rule")
		}
	}
	return ev
}
