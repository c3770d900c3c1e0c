package cli

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/hitch-hpc/hitch/loader"
)

const lddHelp = `
List the shared objects each FILE would load inside IMAGE, as ldd does,
without running anything: the loader's search rules (DT_RPATH, 
LD_LIBRARY_PATH, DT_RUNPATH, ld.so.cache, the trusted directories,
glibc-hwcaps) are applied inside the image, with host paths bound in by
--bind and the environment of the image's configuration and --env.

FILE is a path inside the image. The text output keeps ldd's layout, one
line per object in load order, so scripts written for ldd keep working:
	libfoo.so.1 => /usr/lib/x86_64-linux-gnu/libfoo.so.1
	libbar.so.2 => not found
	/lib64/ld-linux-x86-64.so.2
Addresses and the kernel's linux-vdso.so.1 are left out. With several
files each list follows a "FILE:" line. Loader errors (a file that is not
ELF where a library should be, a missing interpreter) and warnings go to
stderr in the loader's words.

--format json gives the load graph: for each object the name asked for,
the path opened, the real file, the rule that found it, who needed it.
Symbol versions and binding are not checked here; 'hitch check' does.

IMAGE is named as for 'hitch inspect' (DIR, host, oci:DIR, docker-archive:FILE,
sif:FILE, a registry reference), or catalog:NAME for a system scanned
into the ABI catalog (--db).

Exit status: 0 when every object was found, 1 when one was not or the
loader would fail, 2 on usage errors, 3 when a FILE could not be read.

Examples:
  hitch ldd host /usr/bin/ls
  hitch ldd ./app.sif /opt/app/bin/solver --bind /usr/lib64/openmpi:/usr/lib/openmpi
  hitch ldd --env LD_LIBRARY_PATH=/host/lib docker.io/library/debian:12 /usr/bin/perl
`

// lddDoc is the JSON form of hitch ldd.
type lddDoc struct {
	Schema int             `json:"schema"`
	Image  string          `json:"image"`
	Binds  []string        `json:"binds,omitempty"`
	Env    []string        `json:"env,omitempty"`
	Graphs []*loader.Graph `json:"graphs"`
	Errors []pathError     `json:"errors,omitempty"`
}

type pathError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

func runLdd(e *env, args []string) error {
	fs := newFlags(e, "ldd", "[flags] IMAGE FILE...", lddHelp)
	format := formatFlag(fs)
	vf := addViewFlags(fs)
	jobs := fs.Int("jobs", 0, "work on `N` files at once (default: the number of CPUs)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) < 2 {
		return usagef("want an IMAGE and at least one FILE inside it")
	}
	o, err := vf.open(e, args[0])
	if err != nil {
		return err
	}
	defer o.Close()
	l := loader.New(o.view, append(o.opts, loader.WithoutSymbols())...)
	doc := &lddDoc{Schema: 1, Image: args[0], Binds: vf.binds, Env: vf.env, Graphs: []*loader.Graph{}}
	files := args[1:]
	failed, unreadable := false, false
	// Graphs are computed by several workers and printed in order.
	type result struct {
		g   *loader.Graph
		err error
	}
	results := make([]chan result, len(files))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	next := make(chan int, len(files))
	for i := range files {
		next <- i
	}
	close(next)
	n := *jobs
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for w := 0; w < n; w++ {
		go func() {
			for i := range next {
				if e.ctx.Err() != nil {
					results[i] <- result{err: e.ctx.Err()}
					continue
				}
				g, err := l.Load(e.ctx, files[i])
				results[i] <- result{g, err}
			}
		}()
	}
	for i, f := range files {
		r := <-results[i]
		if *format == "text" && len(files) > 1 {
			fmt.Fprintf(e.stdout, "%s:\n", f)
		}
		g, err := r.g, r.err
		if err != nil {
			if e.ctx.Err() != nil {
				return e.ctx.Err()
			}
			if errors.Is(err, loader.ErrNotDynamic) {
				failed = true
				if *format == "text" {
					fmt.Fprintln(e.stdout, "\tnot a dynamic executable")
				}
			} else {
				unreadable = true
				fmt.Fprintf(e.stderr, "hitch ldd: %v\n", err)
			}
			doc.Errors = append(doc.Errors, pathError{Path: f, Error: err.Error()})
			continue
		}
		doc.Graphs = append(doc.Graphs, g)
		for _, o := range g.Objects {
			if !o.Found() {
				failed = true
			}
		}
		if g.Error != "" {
			failed = true
		}
		if *format == "json" {
			continue
		}
		for _, w := range g.Warnings {
			fmt.Fprintln(e.stderr, w)
		}
		if g.Error != "" {
			fmt.Fprintln(e.stderr, g.Error)
		}
		if lines := g.Ldd(); len(lines) > 0 {
			fmt.Fprintln(e.stdout, strings.Join(lines, "\n"))
		}
	}
	if *format == "json" {
		if err := writeJSON(e.stdout, doc); err != nil {
			return err
		}
	}
	switch {
	case unreadable:
		return errPartial
	case failed:
		return errNo
	}
	return nil
}
