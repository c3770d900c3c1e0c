package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/solve"
)

const distcheckHelp = `
Check every package of Debian Packages files (plain, .gz or .xz) for
installability, as dose-distcheck does: can it be installed, with what
it needs from the same files? Broken packages are listed with the
reason: the chain of dependencies down to one nothing satisfies, or the
statements (dependencies, conflicts) that cannot hold together.

--format yaml writes a report shaped like dose-distcheck's, so that its
readers can read it; json gives the same for scripts.

Exit status: 0 when every package is installable, 1 when some are
broken, 2 on errors.

Examples:
  hitch distcheck /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages
  hitch distcheck --format yaml Packages.xz
`

type distcheckItem struct {
	Package      string   `json:"package"`
	Version      string   `json:"version"`
	Architecture string   `json:"architecture"`
	Reasons      []string `json:"reasons"`
	// Missing is the last dependency of a chain, which nothing satisfies.
	Missing string `json:"missing,omitempty"`
	// Via is the package whose dependency is missing.
	Via string `json:"via,omitempty"`
}

func runDistcheck(e *env, args []string) error {
	fs := newFlags(e, "distcheck", "[flags] Packages...", distcheckHelp)
	format := fs.String("format", "text", "output `format`: text, json or yaml")
	arch := fs.String("arch", "amd64", "the `architecture` checked (with all)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	switch *format {
	case "text", "json", "yaml":
	default:
		return usagef("--format %q: want text, json or yaml", *format)
	}
	if len(args) == 0 {
		return usagef("want Packages files")
	}
	start := time.Now()
	u := debrepo.New(*arch)
	for _, f := range args {
		r, err := debrepo.Open(f)
		if err != nil {
			return err
		}
		err = u.ReadPackages(r, f)
		r.Close()
		if err != nil {
			return err
		}
	}
	doc, err := u.CUDF(debrepo.Request{})
	if err != nil {
		return err
	}
	broken, err := solve.Installability(e.ctx, doc.Packages, u)
	if err != nil {
		return err
	}
	deb := u.Origin
	var items []distcheckItem
	for _, b := range broken {
		p := deb(b.Package)
		it := distcheckItem{Package: p.Name, Version: p.Version.String(), Architecture: p.Arch, Reasons: b.Why}
		if len(b.Chain) > 0 {
			it.Reasons = nil
			for n, st := range b.Chain {
				alts := make([]string, len(st.Depends))
				for k, vp := range st.Depends {
					alts[k] = u.Relation(vp)
				}
				q := deb(st.Package)
				dep := strings.Join(alts, " | ")
				if n == len(b.Chain)-1 {
					it.Reasons = append(it.Reasons, fmt.Sprintf("%s %s depends on %s, which no package satisfies", q.Name, q.Version, dep))
					it.Missing, it.Via = dep, q.Name+" "+q.Version.String()
				} else {
					it.Reasons = append(it.Reasons, fmt.Sprintf("%s %s depends on %s, which cannot be installed", q.Name, q.Version, dep))
				}
			}
		}
		items = append(items, it)
	}
	switch *format {
	case "json":
		if err := writeJSON(e.stdout, struct {
			Schema   int             `json:"schema"`
			Packages int             `json:"packages"`
			Broken   []distcheckItem `json:"broken"`
		}{1, len(doc.Packages), append([]distcheckItem{}, items...)}); err != nil {
			return err
		}
	case "yaml":
		writeDistcheckYAML(e.stdout, *arch, len(doc.Packages), items)
	default:
		for _, it := range items {
			fmt.Fprintf(e.stdout, "%s %s (%s):\n", it.Package, it.Version, it.Architecture)
			for _, r := range it.Reasons {
				fmt.Fprintf(e.stdout, "  %s\n", r)
			}
		}
		fmt.Fprintf(e.stdout, "%d packages: %d installable, %d broken (%.1f s)\n", len(doc.Packages), len(doc.Packages)-len(items), len(items), time.Since(start).Seconds())
	}
	if len(items) > 0 {
		return errNo
	}
	return nil
}

// writeDistcheckYAML writes dose-distcheck's report shape (output-version
// 1.2): broken packages with their reasons, a missing dependency where
// the cause is one.
func writeDistcheckYAML(w io.Writer, arch string, total int, items []distcheckItem) {
	q := func(s string) string {
		if strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") || strings.HasPrefix(s, "-") {
			return strconv.Quote(s)
		}
		return s
	}
	fmt.Fprintf(w, "output-version: 1.2\nnative-architecture: %s\nreport:\n", arch)
	for _, it := range items {
		fmt.Fprintf(w, " -\n  package: %s\n  version: %s\n  architecture: %s\n  status: broken\n  reasons:\n", it.Package, q(it.Version), it.Architecture)
		if it.Missing != "" {
			name, version, _ := strings.Cut(it.Via, " ")
			fmt.Fprintf(w, "   -\n    missing:\n     pkg:\n      package: %s\n      version: %s\n      unsat-dependency: %s\n", name, q(version), q(it.Missing))
			continue
		}
		for _, r := range it.Reasons {
			fmt.Fprintf(w, "   -\n    conflict:\n     explanation: %s\n", q(r))
		}
	}
	fmt.Fprintf(w, "total-packages: %d\nbroken-packages: %d\n", total, len(items))
}
