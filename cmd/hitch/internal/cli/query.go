package cli

import (
	"fmt"
	"strings"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/store"
)

const queryHelp = `
Ask the ABI catalog ('hitch scan' fills it) without reopening images:

  provides SONAME        the files, in every system, whose soname it is
  defines SYMBOL[@VER]   the files that define a symbol (at a version)
  needs VERSION          the files that need a symbol version at or above
                         VERSION, e.g. GLIBC_2.34 or GLIBCXX_3.4.30
  family NAME            the systems that carry an interface family, e.g.
                         openmpi, mpich-abi (see docs/interfaces.md)
  diff SYSTEM SYSTEM     the ELF objects added, removed or changed between
                         two catalogued systems

Examples:
  hitch query needs GLIBC_2.34
  hitch query provides libmpi.so.40 --format json
  hitch query diff cluster-2026-10 cluster-2026-11
`

func runQuery(e *env, args []string) error {
	fs := newFlags(e, "query", "[flags] QUESTION ARG...", queryHelp)
	format := formatFlag(fs)
	db := fs.String("db", "", "the catalog: an SQLite `file` or a postgres:// URL (default $XDG_DATA_HOME/hitch/hitch.db)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("want a question: provides, defines, needs, family or diff")
	}
	want := map[string]int{"provides": 1, "defines": 1, "needs": 1, "family": 1, "diff": 2}
	n, ok := want[args[0]]
	if !ok {
		return usagef("unknown question %q: want provides, defines, needs, family or diff", args[0])
	}
	if len(args)-1 != n {
		return usagef("%s takes %d argument(s)", args[0], n)
	}
	st, err := openStore(e, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	var hits []store.Hit
	switch args[0] {
	case "provides":
		hits, err = st.Provides(e.ctx, args[1])
	case "defines":
		name, ver, _ := strings.Cut(args[1], "@")
		hits, err = st.Defines(e.ctx, name, ver)
	case "needs":
		i := strings.LastIndexByte(args[1], '_')
		if i < 0 || i == len(args[1])-1 {
			return usagef("needs %q: want a version like GLIBC_2.34", args[1])
		}
		hits, err = st.Needs(e.ctx, args[1][:i+1], args[1][i+1:])
	case "family":
		hits, err = familyHits(e, st, args[1])
	case "diff":
		changes, err := st.Diff(e.ctx, args[1], args[2])
		if err != nil {
			return err
		}
		if *format == "json" {
			if changes == nil {
				changes = []store.Change{}
			}
			return writeJSON(e.stdout, map[string]any{"schema": 1, "changes": changes})
		}
		for _, c := range changes {
			fmt.Fprintf(e.stdout, "%-8s %s\n", c.Change, c.Path)
		}
		fmt.Fprintf(e.stdout, "%d objects differ\n", len(changes))
		return nil
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		if hits == nil {
			hits = []store.Hit{}
		}
		return writeJSON(e.stdout, map[string]any{"schema": 1, "hits": hits})
	}
	for _, h := range hits {
		fmt.Fprintf(e.stdout, "%-24s %-60s %s\n", h.System, h.Path, h.Match)
	}
	fmt.Fprintf(e.stdout, "%d files\n", len(hits))
	if len(hits) == 0 {
		return errNo
	}
	return nil
}

// familyHits finds a family's anchor libraries that define what tells
// the family apart.
func familyHits(e *env, st *store.Store, name string) ([]store.Hit, error) {
	set, err := iface.Load(iface.UserDir())
	if err != nil {
		return nil, err
	}
	var out []store.Hit
	found := false
	for _, f := range set.Families {
		if f.Name != name {
			continue
		}
		found = true
		for _, lib := range f.Libraries {
			if !lib.Anchor {
				continue
			}
			hits, err := st.Provides(e.ctx, lib.Soname)
			if err != nil {
				return nil, err
			}
			for _, h := range hits {
				if len(lib.Defines) == 0 {
					out = append(out, h)
					continue
				}
				for _, sym := range lib.Defines {
					defs, err := st.Defines(e.ctx, sym, "")
					if err != nil {
						return nil, err
					}
					for _, d := range defs {
						if d.SHA256 == h.SHA256 && d.System == h.System && d.Path == h.Path {
							out = append(out, h)
						}
					}
				}
			}
		}
	}
	if !found {
		return nil, usagef("unknown family %q (known: %s)", name, strings.Join(set.Names(), ", "))
	}
	return out, nil
}
