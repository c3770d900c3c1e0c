package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/solve"
)

const solveHelp = `
Answer the request of a CUDF 2.0 document (a package universe, the
installed set, and what to install, remove or upgrade): which packages to
have installed so that every dependency holds, no two installed packages
conflict, keep properties and the request hold — and the best such set
by the criteria, proven optimal. The solution (the installed packages, in
CUDF) goes to standard output, as CUDF solvers answer; with IN OUT
CRITERIA, to OUT, the way apt-cudf and the MISC competition call a
solver. When there is none, the answer is FAIL.

Criteria: paranoid (fewest removed, then fewest changed), trendy (fewest
removed, not up to date, unmet recommendations, new), or a list in the
MISC 2012 language, optimized in order: -count(SET) or +count(SET),
-sum(SET,PROPERTY) (an integer property declared in the preamble),
-notuptodate(SET), -unsat_recommends(SET), where - minimizes, + maximizes
and SET is solution, changed, new, removed, up, down, installrequest,
upgraderequest or request. The old names -removed, -new, -changed,
-notuptodate, -unsat_recommends and -sum(PROPERTY) are read too. Sets
hold package versions, as in aspcud (the reference for optimality). A
criterion that maximizes, or sums a property that may be negative, is
solved over the whole universe rather than the part the request reaches.
With --timeout the best solution found in time is given, and standard
error says it is not proven optimal.

--edsp speaks apt's external solver protocol (EDSP 0.5): it reads a
scenario on standard input and writes Install and Remove stanzas, or an
Error stanza apt shows, with Progress stanzas on the way. It decides as
apt's own solver does by default: the fewest removals, then the
recommendations of newly installed packages met, then the fewest
changes; for a dist-upgrade, nothing asked for removed, then everything
up to date (removing what apt installed as a dependency, or what a
successor replaces, where the new versions need it), then the fewest
removals, new packages and changes; for an upgrade, the fewest removals,
then the most up to date;
apt-get -o APT::Solver::hitch::Preferences=CRITERIA chooses others.
To make it apt's solver "hitch" (apt-get --solver hitch …):

  printf '#!/bin/sh\nexec %s solve --edsp\n' "$(command -v hitch)" > /usr/lib/apt/solvers/hitch
  chmod 755 /usr/lib/apt/solvers/hitch

--deb reads Debian Packages files (plain, .gz, .xz or .lz4) instead, with a
dpkg status file (--status) and the request as Debian relations
(--install, --remove), and prints what to install, change and remove
(see 'hitch cudf' for how Debian becomes CUDF). A request line may name
a version as apt does (openmpi-bin=4.1.4-3+b1) or a suite's newest
(openmpi-bin/trixie); a file's suite is read from an archive path
(…/dists/trixie/…, apt's …_dists_trixie_…) or given as SUITE=FILE.
When there is no solution, standard error says why: a minimal set of
request lines, dependencies, conflicts and keeps that cannot all hold,
in Debian's terms.

Exit status: 0 solved, 1 no solution, 2 usage or input errors.

Examples:
  hitch solve problem.cudf > solution.cudf
  hitch solve --criteria trendy problem.cudf
  hitch solve problem.cudf solution.cudf -removed,-changed
  hitch solve --criteria='-removed,-count(down),-sum(solution,installedsize)' problem.cudf
  hitch solve --deb Packages.xz --status /var/lib/dpkg/status --install python3-scipy
  hitch solve --deb --status /var/lib/dpkg/status --install openmpi-bin/trixie \
    bookworm=bookworm/Packages.xz trixie=trixie/Packages.xz
  apt-get -s --solver hitch install openmpi-bin
`

func runSolve(e *env, args []string) error {
	fs := newFlags(e, "solve", "[flags] FILE.cudf [OUT CRITERIA]", solveHelp)
	criteria := fs.String("criteria", "paranoid", "the `criteria` to optimize: paranoid, trendy, or a MISC 2012 list like -removed,-count(down),-sum(solution,size)")
	timeout := fs.Duration("timeout", 0, "give the best solution found within `duration` (0: prove the optimum however long it takes)")
	deb := fs.Bool("deb", false, "read Debian Packages files instead of CUDF (with --status, --install, --remove) and print a readable plan")
	edsp := fs.Bool("edsp", false, "answer apt's external solver protocol (EDSP 0.5): a scenario on stdin, the answer on stdout")
	d := addDebFlags(fs)
	// IN OUT CRITERIA: the criteria start with "-" or "+"
	// (-removed,+count(up)) and are no flag; they are set aside before the flags are read.
	var positional []string
	var rest []string
	for _, a := range args {
		if looksLikeCriteria(a) {
			positional = append(positional, a)
			continue
		}
		rest = append(rest, a)
	}
	args, err := e.parse(fs, rest)
	if err != nil {
		return err
	}
	args = append(args, positional...)
	if *edsp {
		if len(args) > 0 || *deb {
			return usagef("--edsp reads the scenario on stdin: no files, no --deb")
		}
		return solveEDSP(e, *timeout)
	}
	out := ""
	switch {
	case *deb && len(args) == 0:
		return usagef("--deb: want Packages files")
	case *deb:
	case len(args) == 1:
	case len(args) == 3:
		out, *criteria = args[1], args[2]
	default:
		return usagef("want FILE.cudf, or IN OUT CRITERIA")
	}
	if !*deb && (*d.status != "" || len(d.install) > 0 || len(d.remove) > 0) {
		return usagef("--status, --install and --remove go with --deb (a CUDF document holds its own request)")
	}
	crit, err := solve.ParseCriteria(*criteria)
	if err != nil {
		return usagef("%v", err)
	}
	var doc *cudf.Document
	opts := solve.Options{Criteria: crit}
	if *deb {
		var u *debrepo.Universe
		// The slice the criteria can use, unless one rewards installing
		// more (a maximized one, or a sum).
		slice := !slices.ContainsFunc(crit, func(c solve.Criterion) bool { return c.Maximize || c.Measure == solve.Sum })
		if doc, u, err = d.universe(args, slice); err != nil {
			return err
		}
		opts.Terms = u
	} else {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		// Only the properties the criteria read: a universe apt-cudf
		// writes carries a dozen more per package.
		props := solve.Properties(crit)
		doc, err = cudf.ParseWith(f, args[0], cudf.ParseOptions{Keep: func(p string) bool { return slices.Contains(props, p) }})
		f.Close()
		if err != nil {
			return err
		}
	}
	ctx := e.ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	start := time.Now()
	res, err := solve.Solve(ctx, doc, opts)
	var w io.Writer = e.stdout
	if out != "" {
		of, cerr := os.Create(out)
		if cerr != nil {
			return cerr
		}
		defer of.Close()
		w = of
	}
	if errors.Is(err, solve.ErrUnsat) {
		fmt.Fprintln(w, "FAIL")
		return &exitError{code: ExitNo, err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(w, "FAIL")
		return fmt.Errorf("no solution found within %s", *timeout)
	}
	if err != nil {
		return err
	}
	if *deb {
		writeDebPlan(w, doc, res)
	} else if err := cudf.WriteSolution(w, res.Installed); err != nil {
		return err
	}
	note := ""
	if !res.Optimal {
		note = " (not proven optimal: out of time)"
	}
	fmt.Fprintf(e.stderr, "hitch solve: %d packages installed; %s = %v%s; %d variables, %d constraints, %.2f s\n",
		len(res.Installed), solve.FormatCriteria(crit), res.Objective, note, res.Vars, res.Constraints, time.Since(start).Seconds())
	return nil
}

// looksLikeCriteria: "-removed,-changed", "+count(up)" and the like,
// which a solver called as IN OUT CRITERIA gets as its third argument.
func looksLikeCriteria(a string) bool {
	if !strings.HasPrefix(a, "+") && (!strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--")) {
		return false
	}
	_, err := solve.ParseCriteria(a)
	return err == nil
}

// solveEDSP answers an EDSP scenario on stdin. Whatever goes wrong is an
// Error stanza and exit 0, as the protocol wants: apt shows the message.
func solveEDSP(e *env, timeout time.Duration) error {
	fail := func(err error) error {
		if werr := debrepo.WriteError(e.stdout, err.Error()); werr != nil {
			return werr
		}
		fmt.Fprintf(e.stderr, "hitch solve --edsp: %v\n", err)
		return nil
	}
	debrepo.WriteProgress(e.stdout, 0, "hitch: reading the scenario")
	sc, err := debrepo.ReadEDSP(e.input(), "stdin")
	if err != nil {
		return fail(err)
	}
	doc, err := sc.CUDF()
	if err != nil {
		return fail(err)
	}
	debrepo.WriteProgress(e.stdout, 50, fmt.Sprintf("hitch: solving over %d packages", len(doc.Packages)))
	ctx := e.ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	crit, err := sc.Criteria()
	if err != nil {
		return fail(err)
	}
	res, err := solve.Solve(ctx, doc, solve.Options{Criteria: crit, Terms: sc.Universe})
	if err != nil {
		return fail(err)
	}
	debrepo.WriteProgress(e.stdout, 100, "hitch: done")
	return sc.WriteAnswer(e.stdout, doc, res.Installed)
}
