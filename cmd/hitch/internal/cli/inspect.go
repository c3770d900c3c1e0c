package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/hitch-hpc/hitch/elfwalk"
)

const inspectHelp = `
Show the ABI facts of ELF objects: class, machine, type, interpreter,
soname, needed libraries, rpath and runpath, dynamic flags, symbol version
definitions and needs, the dynamic symbols defined and required, build-id
and x86-64 ISA level.

A file prints its facts. A directory (a root filesystem, a library
directory) prints one line per ELF object inside it: type, soname, number
of needed libraries, defined and required symbols, and the highest GLIBC_
version needed. Symlinks inside a directory are not followed, so each
object is listed once, and nothing outside the directory is read.

--format json gives every fact of every object, one object per line inside
a single JSON document (schema: docs/facts.md).

Examples:
  hitch inspect /usr/lib/x86_64-linux-gnu/libc.so.6
  hitch inspect --symbols ./libfoo.so
  hitch inspect /usr/lib/x86_64-linux-gnu
  hitch inspect --format json ./rootfs > facts.json
`

func runInspect(e *env, args []string) error {
	fs := newFlags(e, "inspect", "[flags] PATH...", inspectHelp)
	format := formatFlag(fs)
	symbols := fs.Bool("symbols", false, "list every defined and required symbol (text format)")
	workers := fs.Int("jobs", 0, "files read at once (default: the number of CPUs)")
	paths, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("no PATH given")
	}

	var out objectWriter
	if *format == "json" {
		out = newJSONObjects(e.stdout)
	} else {
		out = &textObjects{w: e.stdout, symbols: *symbols}
	}
	progress := newProgress(e.stderr)
	failed := false
	var total elfwalk.Stats
	for _, path := range paths {
		isDir := false
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			isDir = true
		}
		if err := out.begin(path, isDir); err != nil {
			return err
		}
		stats, err := elfwalk.WalkPath(e.ctx, path, func(o elfwalk.Object) error {
			progress.update(o.Path)
			if o.Err != nil {
				progress.clear()
				fmt.Fprintf(e.stderr, "hitch inspect: %s: %v\n", o.Path, o.Err)
				return out.failure(o.Path, o.Err)
			}
			return out.object(o.Path, o.Facts)
		}, elfwalk.WithWorkers(*workers))
		progress.clear()
		total.Files += stats.Files
		total.ELF += stats.ELF
		total.NotELF += stats.NotELF
		total.Failed += stats.Failed
		total.Bytes += stats.Bytes
		if stats.Failed > 0 {
			failed = true
		}
		if err != nil {
			if e.ctx.Err() != nil {
				return e.ctx.Err()
			}
			failed = true
			fmt.Fprintf(e.stderr, "hitch inspect: %v\n", err)
			if err := out.failure(path, err); err != nil {
				return err
			}
		}
		if err := out.end(stats); err != nil {
			return err
		}
	}
	if err := out.close(total); err != nil {
		return err
	}
	if failed {
		return errPartial
	}
	return nil
}

// progress shows, on a terminal only, which file a long walk has reached.
type progress struct {
	w    *os.File
	last time.Time
	n    int
	on   bool
}

func newProgress(w any) *progress {
	f, ok := w.(*os.File)
	return &progress{w: f, on: ok && isTerminal(f)}
}

func (p *progress) update(path string) {
	if !p.on {
		return
	}
	p.n++
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	if len(path) > 60 {
		path = "…" + path[len(path)-59:]
	}
	fmt.Fprintf(p.w, "\r\033[K%d objects  %s", p.n, path)
}

func (p *progress) clear() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
		p.last = time.Time{}
	}
}
