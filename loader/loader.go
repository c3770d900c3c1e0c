// Package loader computes what the dynamic loader would load for a
// program inside a View, without running anything: which objects, in
// which order, from which path, found by which rule.
//
// The rules are glibc's (elf/dl-load.c _dl_map_object, elf/rtld.c), for
// glibc 2.31 to 2.41: a name with a slash is opened as is; a name already
// loaded (as a requested name, a path or a soname) is not loaded again; a
// file already loaded under another name is the same object; otherwise
// DT_RPATH of the object and the objects that loaded it (none of it when
// the object has DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, ld.so.cache
// and the trusted directories, each directory through its glibc-hwcaps
// subdirectories; DF_1_NODEFLIB skips the trusted directories and the
// cache entries in them; objects of another class or machine are skipped
// and the search goes on. The graph is breadth-first, the order in which
// the loader maps objects and lists them in trace mode (ldd).
package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/ldcache"
	"github.com/hitch-hpc/hitch/rootfs"
)

// Rule names how an object was found.
type Rule string

const (
	RuleMain        Rule = "main"            // the program itself
	RuleInterp      Rule = "interp"          // the dynamic loader (PT_INTERP)
	RulePath        Rule = "path"            // a name with a slash
	RulePreload     Rule = "preload"         // LD_PRELOAD or /etc/ld.so.preload with a slash
	RuleRPath       Rule = "rpath"           // DT_RPATH of the object or a loader
	RuleLibraryPath Rule = "LD_LIBRARY_PATH" // the environment
	RuleRunPath     Rule = "runpath"         // DT_RUNPATH of the object
	RuleCache       Rule = "ld.so.cache"     // /etc/ld.so.cache
	RuleDefault     Rule = "default"         // the trusted directories
	RuleNotFound    Rule = "not found"
)

// Object is one entry of the load list.
type Object struct {
	// Name is the name the object was first asked for: a DT_NEEDED entry,
	// a preload, or the program as given.
	Name string `json:"name"`
	// Path is the file name the loader opened, as it builds it (search
	// directory + name, or the cache's path), symlinks not resolved: what
	// ldd prints after "=>". Empty when not found.
	Path string `json:"path,omitempty"`
	// File is Path with every symlink resolved inside the View: the
	// object's identity.
	File string `json:"file,omitempty"`
	// Rule says how it was found.
	Rule Rule `json:"rule"`
	// Dir is the search directory it was found in, for the search rules.
	Dir string `json:"dir,omitempty"`
	// NeededBy is the index of the object whose DT_NEEDED loaded it, -1
	// for the program, preloads and the loader.
	NeededBy int `json:"needed_by"`
	// Needed are the indices of the objects each DT_NEEDED entry resolved
	// to, in DT_NEEDED order.
	Needed []int `json:"needed,omitempty"`

	Facts *elffacts.Facts `json:"-"`

	names  []string // every name it was asked for, as l_libname
	loader *Object  // l_loader
	needed []*Object
	index  int
}

// Found reports whether the object was found.
func (o *Object) Found() bool { return o.Rule != RuleNotFound }

// Graph is the load list of one program.
type Graph struct {
	Program string `json:"program"`
	// Libc is "glibc", "musl", or "none" for a statically linked file.
	Libc string `json:"libc"`
	// Interp is the loader named by PT_INTERP, or the default loader
	// for a shared library without one.
	Interp string `json:"interp,omitempty"`
	// GlibcVersion is the loader's version, e.g. "2.36"; empty if unknown.
	GlibcVersion string `json:"glibc_version,omitempty"`
	// Objects are in load order: the program first, then what the loader
	// mapped, breadth first. The loader itself is where it was first
	// needed.
	Objects []*Object `json:"objects"`
	// Error is the loader's fatal error, which stops loading; Objects
	// then hold what was loaded before it.
	Error string `json:"error,omitempty"`
	// Warnings are what the loader would print and go on after.
	Warnings []string `json:"warnings,omitempty"`
	// Skipped are candidates passed over because of their ELF class or
	// machine.
	Skipped []string `json:"skipped,omitempty"`

	// list is the trace listing of loaders that print as they load
	// (musl), for Ldd.
	list []string
}

// Option changes a Loader.
type Option func(*Loader)

// WithEnv sets the environment the program starts with, as NAME=VALUE
// entries; the loader reads LD_LIBRARY_PATH and LD_PRELOAD from it.
func WithEnv(env []string) Option {
	return func(l *Loader) {
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				l.env[k] = v
			}
		}
	}
}

// WithHWCaps sets the glibc-hwcaps subdirectories the CPU supports, most
// preferred first, e.g. HWCapsFor("x86-64-v3"). The default is none: a
// baseline CPU.
func WithHWCaps(subdirs []string) Option {
	return func(l *Loader) { l.hwcaps = subdirs }
}

// WithoutSymbols reads objects without their symbols and version tables:
// enough to compute load graphs (hitch ldd), not to check binding (the
// link package needs them).
func WithoutSymbols() Option {
	return func(l *Loader) {
		l.readOpts = append(l.readOpts, elffacts.WithoutSymbols())
		l.symbols = false
	}
}

// Source holds what the Loader would otherwise read from a file's bytes,
// for Views whose files are stand-ins (a system recreated from the
// catalog). Files are named by their path on the host (View.HostPath),
// so one Source serves a View and the binds into it; ok false means
// "read the file".
type Source interface {
	// Facts gives the file's facts; without symbols, the symbol tables
	// may be left out (WithoutSymbols).
	Facts(file string, symbols bool) (facts *elffacts.Facts, ok bool, err error)
	Interp(file string) (in Interp, ok bool)
}

// WithSource makes the Loader ask src before reading a file.
func WithSource(src Source) Option { return func(l *Loader) { l.source = src } }

// WithDir sets the working directory inside the View, against which
// relative names and empty search path entries are opened ("/" by
// default).
func WithDir(dir string) Option {
	return func(l *Loader) { l.cwd = dir }
}

// Loader computes load graphs in one View. It reads each object once,
// however many graphs it is part of, and is safe for concurrent use.
type Loader struct {
	view     *rootfs.View
	env      map[string]string
	hwcaps   []string
	cwd      string
	readOpts []elffacts.Option
	symbols  bool // readOpts read symbols
	shared   *FactsCache
	source   Source
	ldconfig bool

	mu      sync.Mutex
	systems map[string]*systemEntry
	files   map[string]*fileEntry
}

type fileEntry struct {
	once  sync.Once
	facts *elffacts.Facts
	err   error
}

// New returns a Loader for the View.
func New(view *rootfs.View, opts ...Option) *Loader {
	l := &Loader{
		view:     view,
		env:      map[string]string{},
		cwd:      "/",
		systems:  map[string]*systemEntry{},
		files:    map[string]*fileEntry{},
		readOpts: []elffacts.Option{elffacts.WithoutHash()},
		symbols:  true,
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

// HWCapsFor returns the glibc-hwcaps subdirectories a CPU of the given
// x86-64 level uses, most preferred first: "x86-64-v3" gives v3 and v2;
// "baseline" or "" gives none.
func HWCapsFor(level string) ([]string, error) {
	levels := []string{"x86-64-v4", "x86-64-v3", "x86-64-v2"}
	switch level {
	case "", "baseline", "x86-64", "x86-64-v1":
		return nil, nil
	}
	for i, l := range levels {
		if l == level {
			return levels[i:], nil
		}
	}
	return nil, fmt.Errorf("unknown CPU level %q (want baseline, x86-64-v2, x86-64-v3 or x86-64-v4)", level)
}

// Facts returns the facts of the file at the resolved View path file,
// read once per Loader.
func (l *Loader) Facts(file string) (*elffacts.Facts, error) {
	var e *fileEntry
	if c := l.shared; c != nil {
		// Keyed by the file on the host: two Views that show one file
		// (an image with and without binds) read it once.
		key := l.view.HostPath(file)
		if !l.symbols {
			key += "\x00nosym"
		}
		c.mu.Lock()
		if e = c.files[key]; e == nil {
			e = &fileEntry{}
			c.files[key] = e
		}
		c.mu.Unlock()
	} else {
		l.mu.Lock()
		if e = l.files[file]; e == nil {
			e = &fileEntry{}
			l.files[file] = e
		}
		l.mu.Unlock()
	}
	e.once.Do(func() { e.facts, e.err = l.read(file) })
	return e.facts, e.err
}

// FactsCache lets Loaders over Views of the same files share what they
// read: facts are a function of the file's bytes.
type FactsCache struct {
	mu    sync.Mutex
	files map[string]*fileEntry
}

// NewFactsCache returns an empty cache.
func NewFactsCache() *FactsCache { return &FactsCache{files: map[string]*fileEntry{}} }

// WithFactsCache makes the Loader read through c.
func WithFactsCache(c *FactsCache) Option { return func(l *Loader) { l.shared = c } }

func (l *Loader) read(file string) (*elffacts.Facts, error) {
	if l.source != nil {
		if f, ok, err := l.source.Facts(l.view.HostPath(file), l.symbols); ok || err != nil {
			return f, err
		}
	}
	f, err := l.view.OpenPath(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return nil, fmt.Errorf("%s: cannot read at offsets", file)
	}
	// Most files of a tree are not ELF: four bytes say so, before a stat.
	if magic, err := elffacts.HasMagic(ra); err == nil && !magic {
		return nil, elffacts.ErrNotELF
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, errIsDir
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return elffacts.Read(ra, fi.Size(), l.readOpts...)
}

var (
	errIsDir      = errors.New("is a directory")
	errNotRegular = errors.New("not a regular file")
)

func (l *Loader) system(interp, class, machine string) *system {
	key := interp + "\x00" + class + "\x00" + machine
	l.mu.Lock()
	e := l.systems[key]
	if e == nil {
		e = &systemEntry{}
		l.systems[key] = e
	}
	l.mu.Unlock()
	e.once.Do(func() {
		e.s = newSystem(l.view, l.source, interp, class, machine)
		if l.ldconfig && e.s.want.Flags != 0 {
			e.s.cache, e.s.warnings = l.buildCache(e.s)
		}
	})
	return e.s
}

type systemEntry struct {
	once sync.Once
	s    *system
}

// defaultInterp is the loader a shared library without PT_INTERP gets,
// as ldd picks it (RTLDLIST).
func defaultInterp(class, machine string) string {
	switch {
	case machine == "x86_64" && class == "ELF64":
		return "/lib64/ld-linux-x86-64.so.2"
	case machine == "x86_64":
		return "/libx32/ld-linux-x32.so.2"
	case machine == "386":
		return "/lib/ld-linux.so.2"
	case machine == "aarch64":
		return "/lib/ld-linux-aarch64.so.1"
	}
	return ""
}

// ErrNotDynamic is returned for a file the loader does not load: a
// static executable, or an object without a dynamic section.
var ErrNotDynamic = errors.New("not a dynamic executable")

// Load computes the load graph of the program (or shared library) at
// path p in the View. It fails only when p cannot be read as a dynamic
// ELF object; what the loader itself would fail on is in the Graph.
func (l *Loader) Load(ctx context.Context, p string) (*Graph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !path.IsAbs(p) {
		p = path.Join(l.cwd, p)
	}
	file, err := l.view.Resolve(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	facts, err := l.Facts(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !facts.Dynamic {
		return nil, fmt.Errorf("%s: %w", p, ErrNotDynamic)
	}
	interp := facts.Interp
	if interp == "" {
		interp = defaultInterp(facts.Class, facts.Machine)
	}
	g := &Graph{Program: p, Libc: "glibc", Interp: interp}
	if strings.Contains(path.Base(interp), "ld-musl-") {
		g.Libc = "musl"
		return l.loadMusl(ctx, g, file, facts)
	}
	sys := l.system(interp, facts.Class, facts.Machine)
	if sys.version != 0 {
		g.GlibcVersion = fmt.Sprintf("2.%d", sys.version-2000)
	}
	g.Warnings = append(g.Warnings, sys.warnings...)
	s := &state{l: l, sys: sys, g: g, subdirs: sys.hwcapsSubdirs(l.hwcaps), want: sys.want}
	if sys.version == 0 || sys.version >= 2033 {
		s.want.HWCaps = l.hwcaps
	}
	s.run(ctx, p, file, facts)
	return g, nil
}

// state is one run of the glibc loader.
type state struct {
	l       *Loader
	sys     *system
	g       *Graph
	subdirs []string
	want    ldcache.Want // which cache entries this loader and CPU use
	main    *Object
	rtld    *Object
	queue   []*Object // the search list: load order
	fatal   bool

	// Indexes of the objects found so far, so that a graph of thousands
	// of objects costs no more per lookup than one of ten.
	byName  map[string]*Object // requested names and paths
	soname  map[string]*Object // the first object with each soname
	byFile  map[string]*Object // real files
	inQueue map[*Object]bool
}

// register indexes a found object.
func (s *state) register(o *Object) {
	if _, ok := s.byFile[o.File]; !ok {
		s.byFile[o.File] = o
	}
	s.addName(o, o.Path)
	for _, n := range o.names {
		s.addName(o, n)
	}
	if o.Facts != nil && o.Facts.Soname != "" {
		if _, ok := s.soname[o.Facts.Soname]; !ok {
			s.soname[o.Facts.Soname] = o
		}
	}
}

// addName records that o was asked for by name.
func (s *state) addName(o *Object, name string) {
	if !contains(o.names, name) {
		o.names = append(o.names, name)
	}
	if _, ok := s.byName[name]; !ok {
		s.byName[name] = o
	}
}

func (s *state) enqueue(o *Object) {
	s.queue = append(s.queue, o)
	s.inQueue[o] = true
}

// fatalError is a loader error that stops loading, with the loader's
// text.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

func (s *state) run(ctx context.Context, p, file string, facts *elffacts.Facts) {
	s.byName, s.soname, s.byFile = map[string]*Object{}, map[string]*Object{}, map[string]*Object{}
	s.inQueue = map[*Object]bool{}
	s.main = &Object{Name: p, Path: p, File: file, Rule: RuleMain, NeededBy: -1, Facts: facts}
	s.enqueue(s.main)
	s.register(s.main)
	if s.sys.file == "" {
		s.g.Error = fmt.Sprintf("%s: cannot execute: the interpreter %s is missing", p, s.g.Interp)
	} else if rf, err := s.l.Facts(s.sys.file); err != nil {
		s.g.Error = fmt.Sprintf("%s: cannot execute: the interpreter %s: %v", p, s.g.Interp, err)
	} else {
		s.rtld = &Object{Name: s.g.Interp, Path: s.g.Interp, File: s.sys.file, Rule: RuleInterp, NeededBy: -1, Facts: rf, names: []string{s.g.Interp}}
		if rf.Soname != "" {
			s.rtld.names = append(s.rtld.names, rf.Soname)
		}
		s.register(s.rtld)
	}
	s.preload()
	for i := 0; i < len(s.queue) && !s.fatal; i++ {
		if ctx.Err() != nil {
			s.g.Error = ctx.Err().Error()
			break
		}
		o := s.queue[i]
		if o.Facts == nil {
			continue
		}
		for _, name := range o.Facts.Needed {
			dep, err := s.mapObject(name, o, false)
			if err != nil {
				s.g.Error = fmt.Sprintf("%s: error while loading shared libraries: %v", p, err)
				s.fatal = true
				break
			}
			o.needed = append(o.needed, dep)
			if !s.inQueue[dep] {
				dep.loader = o
				s.enqueue(dep)
			}
		}
	}
	s.g.Objects = s.listOrder()
	for i, o := range s.g.Objects {
		o.index = i
	}
	for _, o := range s.g.Objects {
		if o.loader != nil && o.Rule != RuleInterp {
			o.NeededBy = o.loader.index
		}
		for _, d := range o.needed {
			o.Needed = append(o.Needed, d.index)
		}
	}
}

// listOrder is the order the loader lists objects in: the order they were
// mapped, names not found included, with the loader itself moved to just
// after the object before it in the search list, which leaves out the
// names not found (rtld.c, dl-deps.c).
func (s *state) listOrder() []*Object {
	at := -1
	var prev *Object
	for _, o := range s.queue {
		if o == s.rtld {
			break
		}
		if o.Found() {
			prev = o
		}
	}
	var list []*Object
	for i, o := range s.queue {
		if o == s.rtld {
			continue
		}
		list = append(list, o)
		if o == prev && s.rtld != nil && s.inQueue[s.rtld] {
			at = i
			list = append(list, s.rtld)
		}
	}
	_ = at
	return list
}

// preload maps LD_PRELOAD and /etc/ld.so.preload (rtld.c do_preload): a
// missing one is reported and ignored.
func (s *state) preload() {
	type src struct {
		names []string
		where string
	}
	var env []string
	if v := s.l.env["LD_PRELOAD"]; v != "" {
		env = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ':' })
	}
	for _, sr := range []src{{env, "LD_PRELOAD"}, {s.sys.preload, "/etc/ld.so.preload"}} {
		for _, name := range sr.names {
			o, err := s.mapObject(name, s.main, true)
			if err == nil && !o.Found() {
				err = errors.New(name + ": cannot open shared object file")
			}
			if err != nil {
				// The loader's message (rtld.c do_preload).
				s.g.Warnings = append(s.g.Warnings, fmt.Sprintf("ERROR: ld.so: object '%s' from %s cannot be preloaded (cannot open shared object file): ignored.", name, sr.where))
				continue
			}
			if o.Rule == RulePath {
				o.Rule = RulePreload
			}
			if !s.inQueue[o] {
				s.enqueue(o)
			}
		}
	}
}

// loaded returns the object already known by name (_dl_map_object's
// first loop): a requested name or path, or a soname, which is then
// remembered as a name. Objects that were not found are never matched,
// so the loader looks a missing name up again each time.
func (s *state) loaded(name string) *Object {
	if o := s.byName[name]; o != nil {
		return o
	}
	if o := s.soname[name]; o != nil {
		s.addName(o, name)
		return o
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mapObject finds name for the object that needs it, as _dl_map_object
// does in trace mode: a name that cannot be found gives an object with
// RuleNotFound; a file that cannot be loaded gives a fatal error.
func (s *state) mapObject(name string, by *Object, preload bool) (*Object, error) {
	if o := s.loaded(name); o != nil {
		return o, nil
	}
	if strings.Contains(name, "/") {
		p, ok := s.expand(name, by)
		if ok {
			o, err := s.candidate(p, name, RulePath, "")
			if o != nil || (err != nil && err != errStopList) {
				return o, err
			}
		}
		return &Object{Name: name, Rule: RuleNotFound, NeededBy: -1}, nil
	}
	o, err := s.search(name, by)
	if o != nil || err != nil {
		return o, err
	}
	return &Object{Name: name, Rule: RuleNotFound, NeededBy: -1}, nil
}

// search walks the search path for a name without a slash.
func (s *state) search(name string, by *Object) (*Object, error) {
	try := func(entries []string, owner *Object, rule Rule) (*Object, error) {
		return s.tryDirs(s.dirs(entries, owner), name, rule)
	}
	// DT_RPATH of the object and its loaders, then of the program,
	// unless the object has DT_RUNPATH (dl-load.c).
	if by.Facts.RunPath == nil {
		didMain := false
		for o := by; o != nil; o = o.loader {
			if o.Facts == nil || o.Facts.RPath == nil {
				continue
			}
			if r, err := try(o.Facts.RPath, o, RuleRPath); r != nil || err != nil {
				return r, err
			}
			didMain = didMain || o == s.main
		}
		if !didMain && s.main.Facts.RPath != nil {
			if r, err := try(s.main.Facts.RPath, s.main, RuleRPath); r != nil || err != nil {
				return r, err
			}
		}
	}
	// LD_LIBRARY_PATH, with ";" as a separator too; an empty variable
	// is ignored, an empty entry is the working directory.
	if llp := s.l.env["LD_LIBRARY_PATH"]; llp != "" {
		entries := strings.Split(strings.ReplaceAll(llp, ";", ":"), ":")
		if r, err := try(entries, s.main, RuleLibraryPath); r != nil || err != nil {
			return r, err
		}
	}
	if by.Facts.RunPath != nil {
		if r, err := try(by.Facts.RunPath, by, RuleRunPath); r != nil || err != nil {
			return r, err
		}
	}
	nodeflib := contains(by.Facts.Flags1, "NODEFLIB")
	if s.sys.cache != nil {
		if p, ok := s.sys.cache.Lookup(name, s.want); ok && !(nodeflib && s.sys.inSystemDir(p)) {
			if r, err := s.candidate(p, name, RuleCache, ""); r != nil || (err != nil && err != errStopList) {
				return r, err
			}
		}
	}
	if !nodeflib {
		return s.tryDirs(s.sys.systemDirs, name, RuleDefault)
	}
	return nil, nil
}

// tryDirs is open_path: each directory through its hwcaps subdirectories.
// When the last attempt in a directory fails other than "no such file"
// or "permission denied" (a symlink loop, a file where a directory
// should be), the loader gives up on the whole list and goes on to the
// next source of directories.
func (s *state) tryDirs(dirs []string, name string, rule Rule) (*Object, error) {
	for _, dir := range dirs {
		var err error
		for _, sub := range s.subdirs {
			var o *Object
			o, err = s.candidate(dir+sub+name, name, rule, dir)
			if o != nil {
				return o, nil
			}
			if err != nil && err != errStopList {
				return nil, err
			}
		}
		if err == errStopList {
			return nil, nil
		}
	}
	return nil, nil
}

// errStopList is candidate's way to say the open failed with an error
// that ends the directory list (see tryDirs).
var errStopList = errors.New("stop searching this list")

// dirs turns search path entries into directory prefixes as fillin_rpath
// does: tokens expanded, entries that cannot be expanded dropped,
// trailing slashes folded into one, an empty entry the working directory.
func (s *state) dirs(entries []string, owner *Object) []string {
	var out []string
	for _, e := range entries {
		if e != "" {
			x, ok := s.expand(e, owner)
			if !ok || x == "" {
				continue
			}
			for len(x) > 1 && strings.HasSuffix(x, "/") {
				x = x[:len(x)-1]
			}
			if !strings.HasSuffix(x, "/") {
				x += "/"
			}
			e = x
		}
		if !contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// origin is the object's $ORIGIN: the directory of the program's real
// path (the kernel's /proc/self/exe), or of the name a library was
// opened by, symlinks not resolved (dl-object.c).
func (s *state) origin(o *Object) string {
	if o == s.main {
		return path.Dir(o.File)
	}
	p := o.Path
	if !path.IsAbs(p) {
		p = strings.TrimSuffix(s.l.cwd, "/") + "/" + p
	}
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// expand substitutes $ORIGIN, $LIB and $PLATFORM (also in braces) as
// _dl_dst_substitute does; other $ sequences stay as written.
func (s *state) expand(in string, o *Object) (string, bool) {
	if !strings.Contains(in, "$") {
		return in, true
	}
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		if in[i] != '$' {
			b.WriteByte(in[i])
			continue
		}
		rest := in[i+1:]
		n, repl := 0, ""
		if n = dstLen(rest, "ORIGIN"); n > 0 {
			repl = s.origin(o)
		} else if n = dstLen(rest, "PLATFORM"); n > 0 {
			repl = s.sys.platform
		} else if n = dstLen(rest, "LIB"); n > 0 {
			repl = s.sys.lib
		} else {
			b.WriteByte('$')
			continue
		}
		b.WriteString(repl)
		i += n
	}
	return b.String(), true
}

// dstLen returns the length of the token name (or {name}) at the start
// of s, 0 if s does not start with it as a whole identifier (is_dst).
func dstLen(s, name string) int {
	curly := strings.HasPrefix(s, "{")
	if curly {
		s = s[1:]
	}
	if !strings.HasPrefix(s, name) {
		return 0
	}
	rest := s[len(name):]
	if curly {
		if !strings.HasPrefix(rest, "}") {
			return 0
		}
		return len(name) + 2
	}
	if rest != "" {
		c := rest[0]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' {
			return 0
		}
	}
	return len(name)
}

// candidate tries the file at p (open_verify and
// _dl_map_object_from_fd): nil without error when it does not exist or
// is of another class or machine, the already loaded object when it is
// the same file, a fatal error when it exists and cannot be loaded.
func (s *state) candidate(p, name string, rule Rule, dir string) (*Object, error) {
	full := p
	if !path.IsAbs(full) {
		full = strings.TrimSuffix(s.l.cwd, "/") + "/" + full
	}
	file, err := s.l.view.Resolve(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, nil
		}
		return nil, errStopList
	}
	if o := s.byFile[file]; o != nil {
		s.addName(o, name)
		return o, nil
	}
	facts, err := s.l.Facts(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, errIsDir):
		return nil, &fatalError{p + ": cannot read file data: Is a directory"}
	case err != nil:
		// open_verify reads the header first: a short file, then
		// a wrong magic number, are what it says.
		if fi, serr := s.l.view.Stat(strings.TrimPrefix(file, "/")); serr == nil && fi.Size() < ehdrSize(s.main.Facts.Class) {
			return nil, &fatalError{p + ": file too short"}
		}
		if errors.Is(err, elffacts.ErrNotELF) {
			return nil, &fatalError{p + ": invalid ELF header"}
		}
		return nil, &fatalError{fmt.Sprintf("%s: cannot load a malformed ELF file: %v", p, err)}
	}
	m := s.main.Facts
	if facts.Class != m.Class || facts.Machine != m.Machine {
		s.g.Skipped = append(s.g.Skipped, fmt.Sprintf("%s (%s %s)", p, facts.Class, facts.Machine))
		return nil, nil
	}
	if facts.ByteOrder != m.ByteOrder {
		return nil, &fatalError{fmt.Sprintf("%s: ELF file data encoding not %s-endian", p, m.ByteOrder)}
	}
	switch facts.Type {
	case "dyn":
	case "exec":
		return nil, &fatalError{p + ": cannot dynamically load executable"}
	case "pie":
		return nil, &fatalError{p + ": cannot dynamically load position-independent executable"}
	default:
		return nil, &fatalError{p + ": only ET_DYN and ET_EXEC can be loaded"}
	}
	o := &Object{Name: name, Path: p, File: file, Rule: rule, Dir: dir, NeededBy: -1, Facts: facts, names: []string{name}}
	s.register(o)
	return o, nil
}

// ehdrSize is the size of the ELF header of a class.
func ehdrSize(class string) int64 {
	if class == "ELF32" {
		return 52
	}
	return 64
}

// Libraries maps each soname among the objects at paths (resolved View
// paths) to the library the loader finds for it, for the class and
// machine most of them have, as Locate finds it: a View's stack of
// shared libraries. Sonames it does not find, or would refuse, are left
// out.
func (l *Loader) Libraries(ctx context.Context, paths []string) map[string]*Object {
	class, machine := "", ""
	count := map[[2]string]int{}
	sonames := map[string]bool{}
	for _, p := range paths {
		f, err := l.Facts(p)
		if err != nil {
			continue
		}
		count[[2]string{f.Class, f.Machine}]++
		if f.Soname != "" {
			sonames[f.Soname] = true
		}
	}
	best := 0
	for k, n := range count {
		if n > best || n == best && k[0]+k[1] < class+machine {
			class, machine, best = k[0], k[1], n
		}
	}
	out := map[string]*Object{}
	for n := range sonames {
		if ctx.Err() != nil {
			break
		}
		o, err := l.Locate(ctx, n, class, machine)
		if err == nil && o != nil && o.Found() {
			out[n] = o
		}
	}
	return out
}

// Locate finds a library by name as the loader would for a program of the
// given class and machine that has no DT_RPATH or DT_RUNPATH: the
// environment's LD_LIBRARY_PATH, the cache, the trusted directories. It
// returns nil without error when the library is not found; an error when
// the loader would stop on what it found. Host discovery uses it.
func (l *Loader) Locate(ctx context.Context, name, class, machine string) (*Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	interp := defaultInterp(class, machine)
	sys := l.system(interp, class, machine)
	g := &Graph{Program: "(locate " + name + ")", Libc: "glibc", Interp: interp}
	s := &state{l: l, sys: sys, g: g, subdirs: sys.hwcapsSubdirs(l.hwcaps), want: sys.want}
	if sys.version == 0 || sys.version >= 2033 {
		s.want.HWCaps = l.hwcaps
	}
	s.byName, s.soname, s.byFile = map[string]*Object{}, map[string]*Object{}, map[string]*Object{}
	s.inQueue = map[*Object]bool{}
	s.main = &Object{Name: g.Program, Rule: RuleMain, NeededBy: -1,
		Facts: &elffacts.Facts{Class: class, Machine: machine, ByteOrder: byteOrderFor(machine), Dynamic: true}}
	o, err := s.mapObject(name, s.main, false)
	if err != nil {
		return nil, err
	}
	if !o.Found() {
		return nil, nil
	}
	return o, nil
}

// byteOrderFor is the byte order of the usual ABI of a machine.
func byteOrderFor(machine string) string {
	switch machine {
	case "s390", "ppc64", "ppc", "sparcv9", "sparc":
		return "big"
	}
	return "little"
}

// SearchDirs lists the directories where the loader of a class and
// machine finds libraries for any program: LD_LIBRARY_PATH's, the
// directories the ld.so.cache points into, ld.so.conf's and the trusted
// ones — each once, under the first name it is given (a merged-/usr
// root's /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu), and only
// those that exist in the View. Programs' own DT_RPATH and DT_RUNPATH
// are not among them.
func (l *Loader) SearchDirs(class, machine string) []string {
	sys := l.system(defaultInterp(class, machine), class, machine)
	var out []string
	seen := map[string]bool{}
	add := func(d string) {
		if d == "" || !path.IsAbs(d) {
			return
		}
		d = path.Clean(d)
		id, err := l.view.Resolve(d)
		if err != nil || seen[id] {
			return
		}
		if fi, err := l.view.Stat(strings.TrimPrefix(id, "/")); err != nil || !fi.IsDir() {
			return
		}
		seen[id] = true
		out = append(out, d)
	}
	for _, d := range strings.FieldsFunc(l.env["LD_LIBRARY_PATH"], func(r rune) bool { return r == ':' || r == ';' }) {
		add(d)
	}
	if sys.cache != nil {
		for _, e := range sys.cache.Entries {
			add(path.Dir(e.Path))
		}
	}
	conf, _ := l.ldconfigDirs(sys)
	for _, d := range conf {
		add(d)
	}
	for _, d := range sys.systemDirs {
		add(d)
	}
	return out
}

// Arch is the ELF class and machine of the View's programs, read from
// its shell (/bin/sh, else /usr/bin/env or /bin/busybox): "ELF64",
// "x86_64". Both are "" when none of these is readable.
func (l *Loader) Arch() (class, machine string) {
	for _, p := range []string{"/bin/sh", "/usr/bin/env", "/bin/busybox"} {
		file, err := l.view.Resolve(p)
		if err != nil {
			continue
		}
		if f, err := l.Facts(file); err == nil {
			return f.Class, f.Machine
		}
	}
	return "", ""
}
