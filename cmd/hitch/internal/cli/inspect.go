package cli

import (
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/inspect"
)

const inspectHelp = `
Show the ABI facts of ELF objects: class, machine, type, interpreter,
soname, needed libraries, rpath and runpath, dynamic flags, symbol version
definitions and needs, the dynamic symbols defined and required, build-id
and x86-64 ISA level.

A file prints its facts. A directory, root filesystem or container image
prints what it is (os-release, package manager) and one line per ELF
object inside it: type, soname, number of needed libraries, defined and
required symbols, the highest GLIBC_ version needed, and the package that
installed it. Symlinks are not followed, so each object is listed once,
and nothing outside the tree is read.

Images are named as:
  DIR, dir:DIR          an unpacked root filesystem (host paths shown)
  host                  this machine's /
  oci:DIR[:TAG]         an OCI image layout (a bare DIR with oci-layout too)
  docker-archive:FILE   a docker save tarball (a bare FILE.tar too)
  sif:FILE              an Apptainer/Singularity image (a bare FILE.sif too)
  REF, docker://REF     a registry image, e.g. docker.io/library/debian:12
Images are unpacked once into $HITCH_CACHE_DIR (default ~/.cache/hitch,
or $XDG_CACHE_HOME/hitch) and opened from there afterwards.

--format json gives every fact of every object, one object per line inside
a single JSON document (schema: docs/facts.md).

Examples:
  hitch inspect /usr/lib/x86_64-linux-gnu/libc.so.6
  hitch inspect --symbols ./libfoo.so
  hitch inspect /usr/lib/x86_64-linux-gnu
  hitch inspect ./app.sif
  hitch inspect --format json docker.io/library/debian:12 > facts.json
`

func runInspect(e *env, args []string) error {
	fs := newFlags(e, "inspect", "[flags] PATH|IMAGE...", inspectHelp)
	format := formatFlag(fs)
	symbols := fs.Bool("symbols", false, "list every defined and required symbol (text format)")
	workers := fs.Int("jobs", 0, "read `N` files at once (default: the number of CPUs)")
	platform := fs.String("platform", "", platformUsage)
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no PATH or IMAGE given")
	}
	opts := inspect.Options{Workers: *workers}
	if *platform != "" {
		p, err := v1.ParsePlatform(*platform)
		if err != nil {
			return usagef("--platform %q: %v", *platform, err)
		}
		opts.Platform = p
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
	for _, arg := range args {
		progress.say("opening " + arg)
		stats, err := inspect.Run(e.ctx, arg, opts, func(in *inspect.Input) error {
			progress.clear()
			return out.begin(in)
		}, func(o inspect.Object) error {
			progress.update(o.Path)
			if o.Err != nil {
				progress.clear()
				fmt.Fprintf(e.stderr, "hitch inspect: %s: %v\n", o.Path, o.Err)
				return out.failure(o.Path, o.Err)
			}
			return out.object(o)
		})
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
			if err := out.failure(arg, err); err != nil {
				return err
			}
			continue
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

// status shows a line of counts, at most ten times a second.
func (p *progress) status(msg string) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.say(msg)
}

// say shows a message until the next update or clear.
func (p *progress) say(msg string) {
	if p.on {
		fmt.Fprintf(p.w, "\r\033[K%s", msg)
		p.last = time.Now()
	}
}

func (p *progress) clear() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
		p.last = time.Time{}
	}
}
