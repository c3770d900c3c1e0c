package cli

import (
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
	arch, status    *string
	install, remove multiFlag
}

func addDebFlags(fs *flag.FlagSet) *debFlags {
	d := &debFlags{}
	d.arch = fs.String("arch", "amd64", "the `architecture` read (with all)")
	d.status = fs.String("status", "", "dpkg's status `FILE`: what is installed (default: nothing)")
	fs.Var(&d.install, "install", "install `PKG`, a Debian relation (\"libc6 (>= 2.36)\"), a version (\"openmpi-bin=4.1.4-3\") or a suite's (\"openmpi-bin/trixie\") (repeatable)")
	fs.Var(&d.remove, "remove", "remove `PKG` (repeatable)")
	return d
}

// universe reads the Packages files (FILE, or SUITE=FILE to say which
// suite it is) and the status file into CUDF; the universe writes
// explanations in Debian's terms.
func (d *debFlags) universe(files []string) (*cudf.Document, *debrepo.Universe, error) {
	u := debrepo.New(*d.arch)
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
	doc, err := u.CUDF(debrepo.Request{Install: d.install, Remove: d.remove})
	return doc, u, err
}

const cudfHelp = `
Convert between package formats and CUDF. The one conversion today:

  hitch cudf from-deb [flags] Packages...

reads Debian Packages files (plain, .gz or .xz) and a dpkg status file
(--status) and writes the universe and the request (--install, --remove)
as a CUDF 2.0 document on standard output: Debian versions become
integers name by name in dpkg's order (the Debian version is kept in
the "number" property), Depends and Pre-Depends dependencies, Conflicts
and Breaks conflicts, Recommends the "recommends" property; an
unversioned Provides is of "--virtual-NAME", as unversioned relations
alone are satisfied by it (Debian Policy 7.5). One architecture is read,
with "all".

Examples:
  hitch cudf from-deb --status /var/lib/dpkg/status --install openmpi-bin \
    /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages > problem.cudf
`

func runCudf(e *env, args []string) error {
	fs := newFlags(e, "cudf", "from-deb [flags] Packages...", cudfHelp)
	d := addDebFlags(fs)
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 || args[0] != "from-deb" {
		return usagef("want from-deb")
	}
	if len(args) < 2 {
		return usagef("want Packages files")
	}
	doc, _, err := d.universe(args[1:])
	if err != nil {
		return err
	}
	return cudf.Write(e.stdout, doc)
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
	for name, vs := range after {
		if strings.HasPrefix(name, debrepo.VirtualPrefix) {
			continue
		}
		old := before[name]
		switch {
		case len(old) == 0:
			install = append(install, fmt.Sprintf("%s %s", name, strings.Join(vs, ", ")))
		case strings.Join(old, ",") != strings.Join(vs, ","):
			change = append(change, fmt.Sprintf("%s %s → %s", name, strings.Join(old, ", "), strings.Join(vs, ", ")))
		}
	}
	for name, vs := range before {
		if len(after[name]) == 0 {
			remove = append(remove, fmt.Sprintf("%s %s", name, strings.Join(vs, ", ")))
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
