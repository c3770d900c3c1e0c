package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

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
--emit cdi a Container Device Interface spec (kind hitch.hpc/INTERFACE,
one device named after the family: put it in /etc/cdi and run with
--device hitch.hpc/mpi=openmpi); --emit json the whole plan; the default
is a readable account.
Interfaces are data files (built in, plus ~/.config/hitch/interfaces and
--interfaces DIR): see docs/interfaces.md.

IMAGE and --host may name systems of the ABI catalog as catalog:NAME
(--db): the plan is made from the catalogued facts, and the binds name
the host's own paths.

Exit status: 0 with a plan, 1 when the host lacks the interface, 2 on
usage errors or when an image cannot be opened.

Examples:
  hitch plan ./app.sif --interface mpi
  hitch plan ./rootfs --interface mpi --host /srv/cluster-root --emit apptainer
  hitch plan docker.io/library/debian:12 --interface libfabric --host-lib /opt/fabric/lib/libfabric.so.1
  hitch plan catalog:app --interface mpi --host catalog:cluster-2026-11 --emit apptainer
`

func runPlan(e *env, args []string) error {
	fs := newFlags(e, "plan", "[flags] IMAGE --interface NAME", planHelp)
	vf := addViewFlags(fs)
	hf := addHostFlags(fs)
	emit := fs.String("emit", "text", "output: text, apptainer, podman, docker, cdi or json")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("want one IMAGE")
	}
	if *hf.iface == "" {
		return usagef("--interface is required")
	}
	if !strings.Contains(" text apptainer singularity podman docker cdi json ", " "+*emit+" ") {
		return usagef("--emit %q: want text, apptainer, podman, docker, cdi or json", *emit)
	}
	img, err := vf.open(e, args[0])
	if err != nil {
		return err
	}
	defer img.Close()
	p, host, err := hf.makePlan(e, img)
	if host != nil {
		defer host.Close()
	}
	if err != nil {
		if errors.Is(err, plan.ErrNoInterface) || errors.Is(err, plan.ErrArch) {
			if p != nil && *emit == "text" {
				writeCandidates(e.stdout, p)
			}
			return &exitError{code: ExitNo, err: err}
		}
		return err
	}
	hostPaths(p, host)
	if *emit != "text" {
		// The notes (ldconfig to run, a glibc too old) go beside the
		// output, which stays ready to paste or parse.
		if *emit != "json" {
			for _, n := range p.Notes {
				fmt.Fprintf(e.stderr, "hitch plan: note: %s\n", n)
			}
		}
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
	if p.Ldconfig {
		fmt.Fprintln(w, "\nrun ldconfig in the container once the binds are in place")
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
