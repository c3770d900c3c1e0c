package cli

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
)

const checkHelp = `
Judge whether programs and libraries inside IMAGE would load and bind,
as glibc's loader would: every needed library found (the search rules of
'hitch ldd'), every version needed defined by the library it is needed
from, every undefined symbol bound as under LD_BIND_NOW. The reasons are
the loader's own messages, such as
	/lib/x86_64-linux-gnu/libc.so.6: version ` + "`GLIBC_2.34'" + ` not found (required by /opt/app/bin/solver)
	/usr/lib/libmpi.so.40: undefined symbol: opal_list_t_class

PATHs are files inside the image. With none, hitch judges the image's
entrypoint (or command) and every ELF object under the directories of its
PATH and of its loader's library search (LD_LIBRARY_PATH, the ld.so.cache,
ld.so.conf, the trusted directories); --all judges every ELF object in the
image, --entrypoint the entrypoint only.
Host paths are bound in with --bind and the environment is the image's
with --env on top, so "will this image run on this host with these
binds" is one command.

With --interface (mpi, libfabric, …), hitch first plans what to take
from the host (--host, default this machine; see 'hitch plan'), binds it,
and judges the same objects with it bound: each verdict says which
libraries now come from the host and, for failures, how to fix them
("use an image with glibc ≥ 2.38"); the summary counts the objects that
use the host's libraries.

A verdict is ok, warning (the loader would print something and go on:
a library without version information, a weak version missing, a symbol
a library leaves to the program that loads it) or fails (the loader
would stop). Text output lists what is not ok, with its reasons, then a
summary; with --all or PATHs it lists every object. --format json gives
every verdict.

IMAGE is named as for 'hitch inspect', or catalog:NAME for a system
scanned into the ABI catalog (--db); --host takes catalog:NAME too. From
the catalog, hitch judges without reopening the image: the same verdicts
as on its files. The first use of a catalogued system recreates its tree
of directories and links (no file contents) under the cache.

Exit status: 0 when everything judged loads and binds (warnings allowed),
1 when something fails, 2 on usage errors or when IMAGE cannot be opened,
3 when some PATH could not be read.

Examples:
  hitch check ./rootfs
  hitch check --entrypoint docker.io/library/python:3.12
  hitch check ./app.sif /opt/app/bin/solver --bind /opt/host/mpi/lib:/usr/lib/x86_64-linux-gnu/mpi
  hitch check ./app.sif --interface mpi --host /srv/cluster-root
`

type checkDoc struct {
	Schema   int             `json:"schema"`
	Image    string          `json:"image"`
	Binds    []string        `json:"binds,omitempty"`
	Env      []string        `json:"env,omitempty"`
	Plan     *plan.Plan      `json:"plan,omitempty"`
	Verdicts []check.Verdict `json:"verdicts"`
	Errors   []pathError     `json:"errors,omitempty"`
	Summary  check.Summary   `json:"summary"`
}

func runCheck(e *env, args []string) error {
	fs := newFlags(e, "check", "[flags] IMAGE [PATH...]", checkHelp)
	format := formatFlag(fs)
	vf := addViewFlags(fs)
	entrypoint := fs.Bool("entrypoint", false, "judge the image's entrypoint (or command) only")
	all := fs.Bool("all", false, "judge every ELF object in the image, and list ok ones too in text output")
	hf := addHostFlags(fs)
	jobs := fs.Int("jobs", 0, "judge `N` objects at once (default: the number of CPUs)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("want an IMAGE")
	}
	if *entrypoint && len(args) > 1 {
		return usagef("--entrypoint and PATHs exclude each other")
	}
	o, err := vf.open(e, args[0])
	if err != nil {
		return err
	}
	defer o.Close()
	paths := args[1:]
	if *entrypoint {
		p, err := entrypointPath(o)
		if err != nil {
			return err
		}
		paths = []string{p}
	}
	listAll := *all || len(paths) > 0
	copts := check.Options{Loader: o.opts, Workers: *jobs}
	view := o.view
	// With --interface: plan the host's libraries and judge with them
	// bound.
	var p *plan.Plan
	if *hf.iface != "" {
		pl, err := hf.apply(e, o)
		if err != nil {
			return err
		}
		defer pl.Close()
		p, view = pl.plan, pl.view
		pl.check.Workers = *jobs
		copts = pl.check
		if *format == "text" {
			fmt.Fprintf(e.stdout, "with the host's %s (%d binds, %s; 'hitch plan' shows them)\n", p.Family, len(p.Binds), p.Strategy)
			for _, n := range p.Notes {
				fmt.Fprintf(e.stdout, "note: %s\n", n)
			}
			for _, r := range p.Rules {
				fmt.Fprintf(e.stdout, "rule (%s): %s\n", r.Status, r.Message)
			}
		}
	}
	if len(paths) == 0 && !*all {
		// The default scope, found by the loader the objects are judged
		// with (the plan's environment included).
		ep, _ := entrypointPath(o)
		copts.Scope = check.DefaultScope(loader.New(view, copts.Loader...), o.env, ep)
		// And what the plan binds: the host's libraries and plugin
		// directories.
		copts.Scope = append(append(copts.Scope, copts.Bound...), copts.BoundDirs...)
	}
	var errs []pathError
	verdicts := []check.Verdict{}
	progress := newProgress(e.stderr)
	if len(paths) == 0 {
		progress.say("reading " + args[0])
	}
	sum, err := check.Run(e.ctx, view, paths, copts, func(v check.Verdict) error {
		progress.update(v.Path)
		if v.Err != nil {
			progress.clear()
			fmt.Fprintf(e.stderr, "hitch check: %v\n", v.Err)
			errs = append(errs, pathError{Path: v.Path, Error: v.Err.Error()})
			return nil
		}
		if *format == "json" {
			v.Graph = nil // not kept: the document holds verdicts
			verdicts = append(verdicts, v)
			return nil
		}
		if v.Status != check.OK || listAll {
			progress.clear()
			writeVerdict(e.stdout, v)
		}
		return nil
	})
	progress.clear()
	if err != nil {
		return err
	}
	if *format == "json" {
		doc := checkDoc{Plan: p, Schema: 1, Image: args[0], Binds: vf.binds, Env: vf.env, Verdicts: verdicts, Errors: errs, Summary: sum}
		if err := writeJSON(e.stdout, doc); err != nil {
			return err
		}
	} else {
		noun := "objects"
		if sum.Objects == 1 {
			noun = "object"
		}
		fmt.Fprintf(e.stdout, "%d %s: %d ok, %d with warnings, %d fail", sum.Objects, noun, sum.OK, sum.Warnings, sum.Fails)
		if sum.Errors > 0 {
			fmt.Fprintf(e.stdout, ", %d unreadable", sum.Errors)
		}
		if p != nil {
			fmt.Fprintf(e.stdout, "; %d use the host's %s", sum.Host, p.Family)
		}
		fmt.Fprintln(e.stdout)
	}
	// A rule about the whole container (its NVIDIA_REQUIRE_CUDA) failing
	// stops it before any object loads.
	containerFails := p != nil && p.ContainerRule() != nil && p.ContainerRule().Status == "fails"
	if containerFails && *format == "text" {
		fmt.Fprintf(e.stdout, "the container does not start: %s\n", p.ContainerRule().Message)
	}
	switch {
	case sum.Fails > 0 || containerFails:
		return errNo
	case sum.Errors > 0:
		return errPartial
	}
	return nil
}

// maxReasons is how many reasons text output shows per object.
const maxReasons = 8

func writeVerdict(w io.Writer, v check.Verdict) {
	fmt.Fprintf(w, "%-8s %s\n", v.Status, v.Path)
	mark := func(fatal bool) string {
		if fatal {
			return "error:"
		}
		return "warning:"
	}
	// Undefined symbols come in hundreds when a library is the wrong
	// one: more than a few per object are summed up on one line.
	type group struct {
		object string
		fatal  bool
		syms   []string
	}
	var groups []*group
	shown := 0
	for _, r := range v.Reasons {
		if r.Kind == string(link.KindUndefined) {
			obj, sym, _ := strings.Cut(r.Message, ": undefined symbol: ")
			var g *group
			for _, x := range groups {
				if x.object == obj && x.fatal == r.Fatal {
					g = x
				}
			}
			if g == nil {
				g = &group{object: obj, fatal: r.Fatal}
				groups = append(groups, g)
			}
			g.syms = append(g.syms, sym)
			continue
		}
		if shown == maxReasons {
			fmt.Fprintf(w, "         … and more (--format json lists them all)\n")
			break
		}
		shown++
		fmt.Fprintf(w, "         %s %s\n", mark(r.Fatal), r.Message)
	}
	if len(v.Shadowed) > 0 {
		var names []string
		for _, sh := range v.Shadowed {
			names = append(names, sh.Soname)
		}
		fmt.Fprintf(w, "         uses the host's %s\n", strings.Join(names, ", "))
	}
	defer func() {
		for _, f := range v.Fixes {
			fmt.Fprintf(w, "         fix: %s\n", f)
		}
	}()
	for _, g := range groups {
		if len(g.syms) <= 3 {
			for _, s := range g.syms {
				fmt.Fprintf(w, "         %s %s: undefined symbol: %s\n", mark(g.fatal), g.object, s)
			}
			continue
		}
		what := "undefined symbols"
		if !g.fatal {
			what += ", left to the program that loads it"
		}
		fmt.Fprintf(w, "         %s %s: %d %s (%s, …)\n", mark(g.fatal), g.object, len(g.syms), what, strings.Join(g.syms[:3], ", "))
	}
}

// entrypointPath is the program the image starts: its entrypoint, else
// its command, looked up in the image's PATH when it has no slash.
func entrypointPath(o *opened) (string, error) {
	argv := o.image.Config.Entrypoint
	if len(argv) == 0 {
		argv = o.image.Config.Cmd
	}
	if len(argv) == 0 || argv[0] == "" {
		return "", fmt.Errorf("%s has no entrypoint or command", o.image.Ref)
	}
	prog := argv[0]
	if strings.Contains(prog, "/") {
		if !path.IsAbs(prog) {
			prog = path.Join("/", o.image.Config.WorkingDir, prog)
		}
		return prog, nil
	}
	search := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range o.env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, dir := range strings.Split(search, ":") {
		if dir == "" {
			continue
		}
		p := path.Join("/", dir, prog)
		if fi, err := o.view.Stat(strings.TrimPrefix(p, "/")); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("entrypoint %q not found in the image's PATH %s", prog, search)
}
