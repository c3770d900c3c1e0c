package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/storeview"
	"github.com/hitch-hpc/hitch/verify"
)

const verifyHelp = `
Confirm hitch's prediction by running the real loader: in a private mount
namespace, IMAGE's root filesystem is mounted as an overlay, the binds
(--bind, and with --interface the plan 'hitch plan' shows) are mounted
read-only, and for each file the image's own loader runs chrooted in
ldd's mode with every symbol bound now. The list of libraries and the
loader's complaints are compared with hitch's prediction.

Files are the PATHs given, or the image's entrypoint (--entrypoint), or
with --interface every object the host's libraries reach. --plan FILE
verifies a plan written by 'hitch plan --emit json' (edited or not)
instead of making one: its binds, read-only, and its environment. Nothing is
mounted outside the namespace; it ends with the command. Needs Linux and
root.

Exit status: 0 when every prediction agrees with the loader, 1 when one
does not, 2 on errors.

Examples:
  hitch verify ./rootfs /opt/app/bin/solver --interface mpi --host /srv/cluster-root
  hitch verify ./app.sif --entrypoint --bind /opt/mpi/lib:/usr/lib/mpi
`

type verifyDoc struct {
	Schema  int          `json:"schema"`
	Image   string       `json:"image"`
	Plan    *plan.Plan   `json:"plan,omitempty"`
	Results []verifyItem `json:"results"`
}

type verifyItem struct {
	Path      string             `json:"path"`
	Agree     bool               `json:"agree"`
	Diff      string             `json:"diff,omitempty"`
	Predicted verify.Observation `json:"predicted"`
	Observed  verify.Observation `json:"observed"`
}

func runVerify(e *env, args []string) error {
	fs := newFlags(e, "verify", "[flags] IMAGE [PATH...]", verifyHelp)
	format := formatFlag(fs)
	vf := addViewFlags(fs)
	hf := addHostFlags(fs)
	entrypoint := fs.Bool("entrypoint", false, "verify the image's entrypoint (or command)")
	planFile := fs.String("plan", "", "verify the plan in `FILE` (what 'hitch plan --emit json' writes, edited or not) rather than making one with --interface")
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
	o, err := vf.open(e, args[0])
	if err != nil {
		return err
	}
	defer o.Close()
	if o.image.Kind == storeview.Kind {
		return usagef("%s: the catalog holds facts, not files; verify runs the real loader, so name the image itself", args[0])
	}
	paths := args[1:]
	if *entrypoint {
		p, err := entrypointPath(o)
		if err != nil {
			return err
		}
		paths = append(paths, p)
	}
	binds := o.view.Binds()
	env := o.env
	view := o.view
	var p *plan.Plan
	var copts check.Options
	switch {
	case *planFile != "" && *hf.iface != "":
		return usagef("--plan and --interface exclude each other: a plan is read or made")
	case *planFile != "":
		if p, err = readPlan(*planFile); err != nil {
			return err
		}
		merged, opts, err := check.WithPlan(o.view, p, check.Options{Loader: o.opts})
		if err != nil {
			return fmt.Errorf("%s: %w", *planFile, err)
		}
		defer merged.Close()
		view, copts = merged, opts
		for _, b := range p.Binds {
			binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
		}
	case *hf.iface != "":
		pl, err := hf.apply(e, o)
		if err != nil {
			return err
		}
		defer pl.Close()
		if pl.host.image.Kind == storeview.Kind {
			return usagef("--host %s: the catalog holds facts, not files; verify runs the real loader, so name the host itself", *hf.host)
		}
		p, view, copts = pl.plan, pl.view, pl.check
		binds = append(binds, pl.binds...)
	}
	if p != nil {
		env = append(append([]string(nil), env...), p.Env...)
		if len(paths) == 0 {
			// What the host's libraries reach.
			opts := copts
			if _, err := check.Run(e.ctx, view, nil, opts, func(v check.Verdict) error {
				if v.Err == nil && len(v.Shadowed) > 0 && v.Type != "static" {
					paths = append(paths, v.Path)
				}
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if len(paths) == 0 {
		return usagef("no files to verify: name PATHs, or use --entrypoint, --interface or --plan")
	}
	// The overlay's scratch directories go in hitch's cache, the only
	// place hitch writes.
	cache, err := image.CacheDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	obs, err := verify.Run(e.ctx, o.image.View.Root(), paths, verify.Options{Binds: binds, Env: env, Scratch: cache})
	if err != nil {
		return err
	}
	lopts := append(append([]loader.Option(nil), o.opts...), loader.WithEnv(env))
	doc := verifyDoc{Schema: 1, Image: args[0], Plan: p}
	disagree := 0
	for i, path := range paths {
		pred, err := verify.Predict(e.ctx, view, path, lopts...)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		d := verify.Agree(pred, obs[i])
		doc.Results = append(doc.Results, verifyItem{Path: path, Agree: d == "", Diff: d, Predicted: pred, Observed: obs[i]})
		if d != "" {
			disagree++
		}
		if *format == "text" {
			verdict := "loads"
			if len(obs[i].Messages) > 0 || hasNotFound(obs[i].List) || len(obs[i].List) == 0 {
				verdict = "fails"
			}
			mark := "agree   "
			if d != "" {
				mark = "DISAGREE"
			}
			fmt.Fprintf(e.stdout, "%s %-5s %s\n", mark, verdict, path)
			if d != "" {
				fmt.Fprintf(e.stdout, "         %s\n", d)
			}
		}
	}
	if *format == "json" {
		if err := writeJSON(e.stdout, doc); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%d files: hitch and the loader agree on %d\n", len(paths), len(paths)-disagree)
	}
	if disagree > 0 {
		return errNo
	}
	return nil
}

func hasNotFound(list []string) bool {
	for _, l := range list {
		if len(l) > 12 && l[len(l)-12:] == "=> not found" {
			return true
		}
	}
	return false
}

// readPlan reads a plan written by 'hitch plan --emit json', naming the
// file in any error.
func readPlan(file string) (*plan.Plan, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p plan.Plan
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: not a plan ('hitch plan --emit json' writes one): %w", file, err)
	}
	for i, b := range p.Binds {
		if !filepath.IsAbs(b.Src) || !path.IsAbs(b.Dst) {
			return nil, fmt.Errorf("%s: bind %d: want absolute paths, have %q → %q", file, i+1, b.Src, b.Dst)
		}
		if _, err := os.Stat(b.Src); err != nil {
			return nil, fmt.Errorf("%s: bind %d: %w", file, i+1, err)
		}
	}
	return &p, nil
}
