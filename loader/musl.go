package loader

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"

	"github.com/hitch-hpc/hitch/elffacts"
)

// musl's dynamic loader (ldso/dynlink.c load_library) differs from
// glibc's: LD_LIBRARY_PATH comes first; then DT_RUNPATH, or DT_RPATH when
// there is none, of the object and of every object up its needed-by
// chain; then the lines of /etc/ld-musl-ARCH.path, or /lib,
// /usr/local/lib and /usr/lib when that file is missing. A loaded object
// is found again by the name it was searched for, never by soname; names
// of libc itself (libc.so, libpthread.so.0, …) are the loader. The first
// file that opens ends the search, whatever its class. There are no
// symbol versions, and no cache.

// muslArch names the architecture in the loader's file names.
func muslArch(machine string) string {
	switch machine {
	case "386":
		return "i386"
	}
	return machine
}

// muslReserved are the libraries musl implements in the loader itself:
// "lib" + one of these names, then anything (dynlink.c reserved).
var muslReserved = []string{"c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet."}

type muslState struct {
	l        *Loader
	g        *Graph
	interp   string
	main     *Object
	self     *Object // the loader, which is libc
	queue    []*Object
	shorts   map[*Object]string
	sysPath  string
	reported map[string]bool
}

func (l *Loader) loadMusl(ctx context.Context, g *Graph, file string, facts *elffacts.Facts) (*Graph, error) {
	s := &muslState{l: l, g: g, interp: g.Interp, shorts: map[*Object]string{}, reported: map[string]bool{}}
	s.main = &Object{Name: g.Program, Path: g.Program, File: file, Rule: RuleMain, NeededBy: -1, Facts: facts}
	s.queue = []*Object{s.main}
	rf := ""
	if f, err := l.view.Resolve(g.Interp); err == nil {
		rf = f
	}
	selfFacts, err := l.Facts(rf)
	if rf == "" || err != nil {
		g.Error = fmt.Sprintf("%s: cannot execute: the interpreter %s is missing", g.Program, g.Interp)
		g.Objects = s.queue
		return g, nil
	}
	s.self = &Object{Name: g.Interp, Path: g.Interp, File: rf, Rule: RuleInterp, NeededBy: -1, Facts: selfFacts}
	g.list = append(g.list, "\t"+g.Interp)
	s.sysPath = s.readSysPath(facts.Machine)

	if v := l.env["LD_PRELOAD"]; v != "" {
		for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ' ' || r == '\t' || r == '\n' }) {
			o, msg := s.load(name, nil)
			if o == nil {
				g.Warnings = append(g.Warnings, fmt.Sprintf("Error loading shared library %s: %s", name, msg))
				continue
			}
			if o.Rule == RulePath {
				o.Rule = RulePreload
			}
		}
	}
	for i := 0; i < len(s.queue); i++ {
		if err := ctx.Err(); err != nil {
			g.Error = err.Error()
			break
		}
		o := s.queue[i]
		if o.Facts == nil || o == s.self {
			continue
		}
		for _, name := range o.Facts.Needed {
			dep, msg := s.load(name, o)
			if dep == nil {
				dep = &Object{Name: name, Rule: RuleNotFound, NeededBy: -1}
				g.Warnings = append(g.Warnings, fmt.Sprintf("Error loading shared library %s: %s (needed by %s)", name, msg, o.Path))
				dep.loader = o
				s.queue = append(s.queue, dep)
			}
			o.needed = append(o.needed, dep)
		}
	}
	for i, o := range s.queue {
		o.index = i
	}
	for _, o := range s.queue {
		if o.loader != nil {
			o.NeededBy = o.loader.index
		}
		for _, d := range o.needed {
			o.Needed = append(o.Needed, d.index)
		}
	}
	g.Objects = s.queue
	return g, nil
}

// readSysPath reads the path file next to the loader's prefix: for
// /lib/ld-musl-x86_64.so.1 it is /etc/ld-musl-x86_64.path.
func (s *muslState) readSysPath(machine string) string {
	prefix := ""
	if strings.HasPrefix(s.interp, "/") {
		// The loader's path without its last two components.
		i := strings.LastIndexByte(s.interp, '/')
		if j := strings.LastIndexByte(s.interp[:i], '/'); j > 0 {
			prefix = s.interp[:j]
		}
	}
	b, err := readAll(s.l.view, prefix+"/etc/ld-musl-"+muslArch(machine)+".path")
	if err != nil {
		return "/lib:/usr/local/lib:/usr/lib"
	}
	return string(b)
}

// load is load_library: the object for name, or nil and the error text
// musl prints.
func (s *muslState) load(name string, by *Object) (*Object, string) {
	if name == "" {
		return nil, "No such file or directory"
	}
	if strings.HasPrefix(name, "lib") {
		for _, r := range muslReserved {
			if strings.HasPrefix(name[3:], r) {
				if !s.reported[r] {
					s.reported[r] = true
					s.g.list = append(s.g.list, "\t"+name+" => "+s.interp)
				}
				return s.useSelf(name, by), ""
			}
		}
	}
	if name == s.interp {
		return s.useSelf(name, by), ""
	}
	var p string
	rule := RulePath
	if strings.Contains(name, "/") {
		p = name
	} else {
		for o, short := range s.shorts {
			if short == name {
				return o, ""
			}
		}
		var stop bool
		if llp := s.l.env["LD_LIBRARY_PATH"]; llp != "" {
			p, stop = s.pathOpen(name, llp)
			rule = RuleLibraryPath
		}
		for o := by; p == "" && !stop && o != nil; o = o.loader {
			if o.Facts == nil {
				continue
			}
			entries, r := o.Facts.RunPath, RuleRunPath
			if entries == nil {
				entries, r = o.Facts.RPath, RuleRPath
			}
			if entries == nil {
				continue
			}
			p, stop = s.pathOpen(name, s.expandOrigin(strings.Join(entries, ":"), o))
			rule = r
		}
		if p == "" && !stop {
			p, _ = s.pathOpen(name, s.sysPath)
			rule = RuleDefault
		}
		if p == "" {
			return nil, "No such file or directory"
		}
	}
	full := p
	if !path.IsAbs(full) {
		full = strings.TrimSuffix(s.l.cwd, "/") + "/" + full
	}
	file, err := s.l.view.Resolve(full)
	if err != nil {
		return nil, "No such file or directory"
	}
	for _, o := range append(s.queue, s.self) {
		if o.Found() && o.File == file {
			if _, ok := s.shorts[o]; !ok && rule != RulePath && o != s.self {
				s.shorts[o] = name
			}
			return o, ""
		}
	}
	facts, err := s.l.Facts(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "No such file or directory"
		}
		return nil, "Exec format error"
	}
	m := s.main.Facts
	if facts.Class != m.Class || facts.Machine != m.Machine || (facts.Type != "dyn" && facts.Type != "exec" && facts.Type != "pie") {
		return nil, "Exec format error"
	}
	o := &Object{Name: name, Path: p, File: file, Rule: rule, NeededBy: -1, Facts: facts, loader: by}
	if rule != RulePath {
		s.shorts[o] = name
	}
	s.queue = append(s.queue, o)
	s.g.list = append(s.g.list, "\t"+name+" => "+p)
	return o, ""
}

func (s *muslState) useSelf(name string, by *Object) *Object {
	for _, o := range s.queue {
		if o == s.self {
			return o
		}
	}
	s.self.Name = name
	s.self.loader = by
	s.queue = append(s.queue, s.self)
	return s.self
}

// pathOpen is path_open: the first "dir/name" that exists, with empty
// entries skipped; stop is set when the whole search must end there (an
// open that fails with, say, a symlink loop).
func (s *muslState) pathOpen(name, list string) (p string, stop bool) {
	for _, dir := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == '\n' }) {
		cand := dir + "/" + name
		full := cand
		if !path.IsAbs(full) {
			full = strings.TrimSuffix(s.l.cwd, "/") + "/" + full
		}
		f, err := s.l.view.Resolve(full)
		if err == nil {
			if _, err := s.l.view.Stat(strings.TrimPrefix(f, "/")); err == nil {
				return cand, false
			}
			continue
		}
		// Any error but these ends the whole search (path_open's -2).
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.ENAMETOOLONG) {
			return "", true
		}
	}
	return "", false
}

// expandOrigin replaces $ORIGIN and ${ORIGIN} with the directory of the
// name the object was loaded by (fixup_rpath); musl knows no other token.
func (s *muslState) expandOrigin(list string, o *Object) string {
	if !strings.Contains(list, "$") {
		return list
	}
	origin := "."
	if i := strings.LastIndexByte(o.Path, '/'); i >= 0 {
		origin = o.Path[:i]
	}
	list = strings.ReplaceAll(list, "${ORIGIN}", origin)
	return strings.ReplaceAll(list, "$ORIGIN", origin)
}
