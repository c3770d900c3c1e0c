package cli

import (
	"errors"
	"flag"
	"fmt"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/storeview"
)

// hostFlags are the flags that name a host and an interface to take
// from it (hitch plan, hitch check --interface).
type hostFlags struct {
	iface     *string
	host      *string
	strategy  *string
	dir       *string
	withGlibc *bool
	compare   *string
	hostLibs  multiFlag
	hostEnv   multiFlag
	ifaceDirs multiFlag
}

func addHostFlags(fs *flag.FlagSet) *hostFlags {
	h := &hostFlags{}
	h.iface = fs.String("interface", "", "the `interface` (mpi, cuda, libfabric, ucx, pmix, pmi) or a family (openmpi, mpich-abi, …) to take from the host")
	h.host = fs.String("host", "host", "the host: this machine's / by default, or a root filesystem or image named as IMAGE is")
	h.strategy = fs.String("strategy", "replace", "`replace` the image's libraries in place, or prepend a directory to LD_LIBRARY_PATH")
	h.dir = fs.String("dir", plan.DefaultDir, "the container `directory` of the prepend strategy")
	h.withGlibc = fs.Bool("with-host-glibc", false, "allow taking glibc and the C++ runtime from the host")
	h.compare = fs.String("compare", "", "also apply Sarus's version rule to the libraries replaced: `major`, full or strict")
	fs.Var(&h.hostLibs, "host-lib", "use the host library at `PATH` (repeatable)")
	fs.Var(&h.hostEnv, "host-env", "the host's `NAME=VALUE` environment for finding libraries, e.g. LD_LIBRARY_PATH from a module (repeatable)")
	fs.Var(&h.ifaceDirs, "interfaces", "read interface files from `DIR` too (repeatable)")
	return h
}

// makePlan opens the host and plans the interface for the opened image.
// The returned host must be closed.
func (h *hostFlags) makePlan(e *env, img *opened) (*plan.Plan, *opened, error) {
	st := plan.Strategy(*h.strategy)
	if st != plan.Replace && st != plan.Prepend {
		return nil, nil, usagef("--strategy %q: want replace or prepend", *h.strategy)
	}
	set, err := iface.Load(append([]string{iface.UserDir()}, h.ifaceDirs...)...)
	if err != nil {
		return nil, nil, err
	}
	cpu, platform, ldconfig, db := "baseline", "", false, img.db
	hostVF := &viewFlags{cpu: &cpu, platform: &platform, ldconfig: &ldconfig, db: &db}
	host, err := hostVF.open(e, *h.host)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the host %s: %w", *h.host, err)
	}
	// This machine's environment is not the batch job's: only what
	// --host-env says, or a host image's own configuration.
	hostEnv := append(append([]string(nil), host.env...), h.hostEnv...)
	if *h.host == "host" {
		hostEnv = h.hostEnv
	}
	p, err := plan.Make(e.ctx, img.view, host.view, set, *h.iface, plan.Options{
		Strategy: st, Dir: *h.dir, WithHostGlibc: *h.withGlibc,
		HostEnv: hostEnv, HostLibs: h.hostLibs, ImageEnv: img.env, Compare: *h.compare,
		Loader: catalogSource(img, host),
	})
	if err != nil {
		return p, host, err
	}
	return p, host, nil
}

// catalogSource is the loader option that reads objects from the
// catalog, when the image or the host came from it.
func catalogSource(img, host *opened) []loader.Option {
	for _, o := range []*opened{img, host} {
		if o.source != nil {
			return []loader.Option{o.source}
		}
	}
	return nil
}

// planned is an image with a host's plan applied.
type planned struct {
	plan  *plan.Plan
	host  *opened
	view  *rootfs.View  // the image's View with the plan's binds
	binds []rootfs.Bind // the plan's binds
	// check holds the options that judge with the plan: the loader
	// options with the plan's environment, the View before the binds,
	// the bound paths and the plan's notes as hints.
	check check.Options
}

func (p *planned) Close() {
	if p.view != nil {
		p.view.Close()
	}
	if p.host != nil {
		p.host.Close()
	}
}

// apply plans the interface and binds the plan into the image's View.
// A host without the interface is the answer no (exit 1).
func (h *hostFlags) apply(e *env, o *opened) (*planned, error) {
	p, host, err := h.makePlan(e, o)
	pl := &planned{plan: p, host: host}
	if err != nil {
		pl.Close()
		if errors.Is(err, plan.ErrNoInterface) || errors.Is(err, plan.ErrArch) {
			return nil, &exitError{code: ExitNo, err: err}
		}
		return nil, err
	}
	pl.view, pl.check, err = check.WithPlan(o.view, p, check.Options{Loader: o.opts}, catalogSource(o, host)...)
	if err != nil {
		pl.Close()
		return nil, err
	}
	for _, b := range p.Binds {
		pl.binds = append(pl.binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
	}
	hostPaths(p, host)
	return pl, nil
}

// hostPaths makes the plan's bind sources the paths on a host named from
// the catalog, whose files here are stand-ins.
func hostPaths(p *plan.Plan, host *opened) {
	if host.image.Kind != storeview.Kind {
		return
	}
	for i := range p.Binds {
		p.Binds[i].Src = p.Binds[i].HostFile
	}
}
