package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/solve"
)

// debFlags read a Debian universe: Packages files, a dpkg status file, an
// architecture, and a request.
type debFlags struct {
	arch, status             *string
	install, remove, foreign multiFlag
}

func addDebFlags(fs *flag.FlagSet) *debFlags {
	d := &debFlags{}
	d.arch = fs.String("arch", "amd64", "the native `architecture` (its packages and all's are read)")
	fs.Var(&d.foreign, "foreign-arch", "also read `ARCH`'s packages, as dpkg --add-architecture does (repeatable; NAME:ARCH in requests)")
	d.status = fs.String("status", "", "dpkg's status `FILE`: what is installed (default: nothing)")
	fs.Var(&d.install, "install", "install `PKG`, a Debian relation (\"libc6 (>= 2.36)\"), a version (\"openmpi-bin=4.1.4-3\") or a suite's (\"openmpi-bin/trixie\") (repeatable)")
	fs.Var(&d.remove, "remove", "remove `PKG` (repeatable)")
	return d
}

// universe reads the Packages files (FILE, or SUITE=FILE to say which
// suite it is) and the status file into CUDF; the universe writes
// explanations in Debian's terms.
//
// slice writes only what the request and the installed set reach (for a
// solver whose criteria never gain by installing more).
func (d *debFlags) universe(files []string, slice bool) (*cudf.Document, *debrepo.Universe, error) {
	u := debrepo.New(*d.arch)
	u.Foreign = d.foreign
	for _, f := range files {
		suite := debrepo.SuiteOf(f)
		if name, path, ok := strings.Cut(f, "="); ok && !strings.Contains(name, "/") {
			if _, err := os.Stat(path); err == nil {
				suite, f = name, path
			}
		}
		r, err := debrepo.Open(f)
		if err != nil {
			return nil, nil, err
		}
		err = u.ReadSuite(r, f, suite)
		r.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	if *d.status != "" {
		f, err := os.Open(*d.status)
		if err != nil {
			return nil, nil, err
		}
		err = u.ReadStatus(f, *d.status)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	doc, err := u.CUDF(debrepo.Request{Install: d.install, Remove: d.remove, Slice: slice})
	return doc, u, err
}

const cudfHelp = `
CUDF documents: write them from Debian's indexes, check solvers' answers.

  hitch cudf from-deb [flags] Packages...
  hitch cudf check [--criteria C] PROBLEM.cudf SOLUTION...

from-deb reads Debian Packages files (plain, .gz, .xz, or .lz4 as apt
keeps its lists) and a dpkg status file (--status) and writes the universe and the request (--install, --remove)
as a CUDF 2.0 document on standard output: Debian versions become
integers name by name in dpkg's order (the Debian version is kept in
the "number" property), Depends and Pre-Depends dependencies, Conflicts
and Breaks conflicts, Recommends the "recommends" property; an
unversioned Provides is of "--virtual-NAME", as unversioned relations
alone are satisfied by it (Debian Policy 7.5). The native architecture
is read, with "all", and those --foreign-arch names: their packages are
NAME%3aARCH, as apt-cudf writes them, with Multi-Arch (same, foreign,
allowed) as dpkg has it.

check reads the answers of any CUDF solvers (hitch's, aspcud's, mccs's,
apt-cudf's) to one problem and says, for each, whether it is a solution
(every dependency, conflict, keep and request line holds; the ones that
do not are listed, as cudf-check would) and what it is worth by the
criteria (default paranoid), so that solvers can be compared on the same
request. Exit status: 0 when every answer is a solution, 1 when one is
not (or is FAIL), 2 on errors.

Examples:
  hitch cudf from-deb --status /var/lib/dpkg/status --install openmpi-bin \
    /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 > problem.cudf
  hitch cudf check --criteria trendy problem.cudf hitch.sol aspcud.sol mccs.sol
`

func runCudf(e *env, args []string) error {
	if len(args) > 0 && args[0] == "check" {
		return runCudfCheck(e, args[1:])
	}
	fs := newFlags(e, "cudf", "from-deb [flags] Packages... | check [flags] PROBLEM SOLUTION...", cudfHelp)
	d := addDebFlags(fs)
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 || args[0] != "from-deb" {
		return usagef("want from-deb or check")
	}
	if len(args) < 2 {
		return usagef("want Packages files")
	}
	doc, _, err := d.universe(args[1:], false)
	if err != nil {
		return err
	}
	return cudf.Write(e.stdout, doc)
}

// runCudfCheck checks solvers' answers to a problem and measures them.
func runCudfCheck(e *env, args []string) error {
	fs := newFlags(e, "cudf check", "[flags] PROBLEM.cudf SOLUTION...", cudfHelp)
	criteria := fs.String("criteria", "paranoid", "measure each answer by these `criteria` (paranoid, trendy, or a MISC 2012 list)")
	asJSON := fs.Bool("json", false, "write JSON")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) < 2 {
		return usagef("want PROBLEM.cudf and at least one SOLUTION")
	}
	crit, err := solve.ParseCriteria(*criteria)
	if err != nil {
		return usagef("%v", err)
	}
	read := func(path string) (*cudf.Document, bool, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false, err
		}
		if t := strings.TrimSpace(string(b)); t == "FAIL" || strings.HasPrefix(t, "FAIL\n") {
			return nil, true, nil
		}
		doc, err := cudf.Parse(bytes.NewReader(b), path)
		return doc, false, err
	}
	problem, _, err := read(args[0])
	if err != nil {
		return err
	}
	type answer struct {
		File      string   `json:"file"`
		Fail      bool     `json:"fail,omitempty"`
		Solution  bool     `json:"solution"`
		Broken    []string `json:"broken,omitempty"`
		Installed int      `json:"installed"`
		Objective []int    `json:"objective,omitempty"`
		Criteria  string   `json:"criteria"`
	}
	var out []answer
	all := true
	for _, path := range args[1:] {
		a := answer{File: path, Criteria: solve.FormatCriteria(crit)}
		sol, fail, err := read(path)
		if err != nil {
			return err
		}
		if fail {
			a.Fail = true
			all = false
			out = append(out, a)
			continue
		}
		var installed []*cudf.Package
		for _, p := range sol.Packages {
			if p.Installed {
				installed = append(installed, p)
			}
		}
		a.Installed = len(installed)
		if a.Broken, err = solve.Check(problem, installed, nil); err != nil {
			return err
		}
		a.Solution = len(a.Broken) == 0
		all = all && a.Solution
		if a.Objective, err = solve.Evaluate(problem, installed, crit); err != nil {
			return err
		}
		out = append(out, a)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, a := range out {
			switch {
			case a.Fail:
				fmt.Fprintf(e.stdout, "%s: FAIL (no answer)\n", a.File)
			case a.Solution:
				fmt.Fprintf(e.stdout, "%s: a solution, %d installed; %s = %v\n", a.File, a.Installed, a.Criteria, a.Objective)
			default:
				fmt.Fprintf(e.stdout, "%s: not a solution, %d installed; it breaks:\n", a.File, a.Installed)
				for _, b := range a.Broken {
					fmt.Fprintf(e.stdout, "  %s\n", b)
				}
			}
		}
	}
	if !all {
		return &exitError{code: ExitNo, err: errors.New("not every answer is a solution")}
	}
	return nil
}

// writeDebPlan says what a solution does to the installed set: what is
// installed, upgraded, downgraded and removed, with Debian versions.
func writeDebPlan(w io.Writer, doc *cudf.Document, res *solve.Result) {
	version := func(p *cudf.Package) string {
		v, _ := p.Get("number")
		return v.Str
	}
	before := map[string][]string{}
	for _, p := range doc.Packages {
		if p.Installed {
			before[p.Name] = append(before[p.Name], version(p))
		}
	}
	after := map[string][]string{}
	for _, p := range res.Installed {
		after[p.Name] = append(after[p.Name], version(p))
	}
	var install, change, remove []string
	show := func(name string) string { return strings.ReplaceAll(name, "%3a", ":") }
	for name, vs := range after {
		if strings.HasPrefix(name, debrepo.VirtualPrefix) {
			continue
		}
		old := before[name]
		switch {
		case len(old) == 0:
			install = append(install, fmt.Sprintf("%s %s", show(name), strings.Join(vs, ", ")))
		case strings.Join(old, ",") != strings.Join(vs, ","):
			change = append(change, fmt.Sprintf("%s %s → %s", show(name), strings.Join(old, ", "), strings.Join(vs, ", ")))
		}
	}
	for name, vs := range before {
		if len(after[name]) == 0 {
			remove = append(remove, fmt.Sprintf("%s %s", show(name), strings.Join(vs, ", ")))
		}
	}
	for _, part := range []struct {
		title string
		list  []string
	}{{"remove", remove}, {"change", change}, {"install", install}} {
		if len(part.list) == 0 {
			continue
		}
		sort.Strings(part.list)
		fmt.Fprintf(w, "%s (%d):\n", part.title, len(part.list))
		for _, l := range part.list {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "%d to install, %d to change, %d to remove\n", len(install), len(change), len(remove))
}
