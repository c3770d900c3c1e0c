package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/plan"
)

const planHelp = `
Decide what to bind from a host into IMAGE so that its programs use the
host's implementation of an interface (its MPI, libfabric, UCX, PMIx, the
scheduler's PMI, the NVIDIA driver libraries): which host files, where in
the container, with which environment, and why each one.

The host's library is found as the host's own loader would find it (its
ld.so.cache, trusted directories, --host-env LD_LIBRARY_PATH, or
--host-lib). Where the host has several implementations, the one of the
family the image uses wins (both are listed). The libraries the image uses
are taken from the host, with every library they need that the image does
not provide compatibly: the image's copy must define every symbol, at
every version, the host's libraries bind to. The C library and the C++
runtime are never taken (unless --with-host-glibc); what the host's
libraries need of them must be in the image, and the plan says so.

Strategies: replace binds each library over the file the image's loader
would find (Sarus style); prepend binds them all into one directory put
first on LD_LIBRARY_PATH (apptainer --nv style).

--emit apptainer, podman or docker prints the flags for that runtime;
--emit json the whole plan; the default is a readable account.
Interfaces are data files (built in, plus ~/.config/hitch/interfaces and
--interfaces DIR): see docs/interfaces.md.

Exit status: 0 with a plan, 1 when the host lacks the interface, 2 on
usage errors or when an image cannot be opened.

Examples:
  hitch plan ./app.sif --interface mpi
  hitch plan ./rootfs --interface mpi --host /srv/cluster-root --emit apptainer
  hitch plan docker.io/library/debian:12 --interface libfabric --host-lib /opt/fabric/lib/libfabric.so.1
`

func runPlan(e *env, args []string) error {
	fs := newFlags(e, "plan", "[flags] IMAGE --interface NAME", planHelp)
	ifaceName := fs.String("interface", "", "the `interface` (mpi, cuda, libfabric, ucx, pmix, pmi) or a family (openmpi, mpich-abi, …)")
	hostRef := fs.String("host", "host", "the host: this machine's / by default, or a root filesystem or image as for IMAGE")
	strategy := fs.String("strategy", "replace", "`replace` the image's libraries in place, or prepend a directory to LD_LIBRARY_PATH")
	dir := fs.String("dir", plan.DefaultDir, "the container `directory` of the prepend strategy")
	emit := fs.String("emit", "text", "output: text, apptainer, podman, docker or json")
	withGlibc := fs.Bool("with-host-glibc", false, "allow taking glibc and the C++ runtime from the host")
	var hostLibs, hostEnv, ifaceDirs multiFlag
	fs.Var(&hostLibs, "host-lib", "use the host library at `PATH` (repeatable)")
	fs.Var(&hostEnv, "host-env", "the host's `NAME=VALUE` environment for finding libraries, e.g. LD_LIBRARY_PATH from a module (repeatable)")
	fs.Var(&ifaceDirs, "interfaces", "read interface files from `DIR` too (repeatable)")
	platform := fs.String("platform", "", platformUsage)
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("want one IMAGE")
	}
	if *ifaceName == "" {
		return usagef("--interface is required")
	}
	st := plan.Strategy(*strategy)
	if st != plan.Replace && st != plan.Prepend {
		return usagef("--strategy %q: want replace or prepend", *strategy)
	}
	if !strings.Contains(" text apptainer singularity podman docker json ", " "+*emit+" ") {
		return usagef("--emit %q: want text, apptainer, podman, docker or json", *emit)
	}
	set, err := iface.Load(append([]string{iface.UserDir()}, ifaceDirs...)...)
	if err != nil {
		return err
	}
	vf := &viewFlags{cpu: new(string), platform: platform, ldconfig: new(bool)}
	*vf.cpu = "baseline"
	img, err := vf.open(e, args[0])
	if err != nil {
		return err
	}
	defer img.Close()
	hostVF := &viewFlags{cpu: vf.cpu, platform: new(string), ldconfig: new(bool)}
	host, err := hostVF.open(e, *hostRef)
	if err != nil {
		return fmt.Errorf("opening the host %s: %w", *hostRef, err)
	}
	defer host.Close()
	hostEnvAll := append(append([]string(nil), host.env...), hostEnv...)
	if *hostRef == "host" && len(hostEnv) == 0 {
		// This machine's own view: the environment hitch runs in is not
		// the batch job's, so it is not taken.
		hostEnvAll = nil
	}
	p, err := plan.Make(e.ctx, img.view, host.view, set, *ifaceName, plan.Options{
		Strategy: st, Dir: *dir, WithHostGlibc: *withGlibc,
		HostEnv: hostEnvAll, HostLibs: hostLibs, ImageEnv: img.env,
	})
	if err != nil {
		if errors.Is(err, plan.ErrNoInterface) {
			if p != nil && *emit == "text" {
				writeCandidates(e.stdout, p)
			}
			return &exitError{code: ExitNo, err: err}
		}
		return err
	}
	if *emit != "text" {
		return p.Write(e.stdout, *emit)
	}
	return writePlanText(e.stdout, p, img.image, host.image)
}

func writeCandidates(w io.Writer, p *plan.Plan) {
	for _, c := range p.Candidates {
		mark := " "
		if c.Chosen {
			mark = "*"
		}
		fam := c.Family
		if fam == "" {
			fam = "-"
		}
		fmt.Fprintf(w, "  %s %-10s %-16s %s (%s)", mark, fam, c.Soname, c.Path, c.Rule)
		if c.Note != "" {
			fmt.Fprintf(w, ": %s", c.Note)
		}
		fmt.Fprintln(w)
	}
}

func writePlanText(w io.Writer, p *plan.Plan, img, host *image.Image) error {
	fmt.Fprintf(w, "interface %s: the host's %s into %s (%s)\n", p.Interface, p.Family, img.Ref, p.Strategy)
	if p.ImageFamily != "" {
		fmt.Fprintf(w, "the image uses %s\n", p.ImageFamily)
	}
	fmt.Fprintf(w, "\nfound on the host (%s):\n", host.Ref)
	writeCandidates(w, p)
	fmt.Fprintln(w, "\nbinds:")
	for _, b := range p.Binds {
		fmt.Fprintf(w, "  %s\n    -> %s", b.Src, b.Dst)
		if b.Shadows != "" && b.Shadows != b.Dst {
			fmt.Fprintf(w, " (hides the image's %s)", b.Shadows)
		}
		fmt.Fprintf(w, "\n    %s\n", b.Why)
	}
	if len(p.Env) > 0 {
		fmt.Fprintln(w, "\nenvironment:")
		for _, kv := range p.Env {
			fmt.Fprintf(w, "  %s\n", kv)
		}
	}
	if len(p.Kept) > 0 {
		fmt.Fprintf(w, "\nthe image's own copies serve: %s\n", strings.Join(p.Kept, ", "))
	}
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	fmt.Fprintln(w, "\napptainer flags:")
	return p.Write(w, "apptainer")
}
