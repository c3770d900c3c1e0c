package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/elffacts"
)

const diffHelp = `
Say whether NEW can replace OLD, two versions of a shared library (ELF
files): exported functions and variables removed or added, symbol
versions removed, added or moved, default versions changed, variable and
vtable sizes, functions that became variables, GLOBAL to WEAK, the
soname, needed libraries, the x86-64 ISA level. Each change is
incompatible (a program built against OLD may fail with NEW) or
compatible. This is the symbol level: types (parameters, struct layouts,
enums) need debug info and are not compared yet.

Exit status is abidiff's bitmask, so scripts written for abidiff keep
working: 0 no change, 4 compatible changes, 12 an incompatible one
(4 | 8), 1 when a file cannot be read, 2 on usage errors.

Examples:
  hitch diff /usr/lib/x86_64-linux-gnu/libfoo.so.1 ./build/libfoo.so.1
  hitch diff old/libmpi.so.40 new/libmpi.so.40 --format json
`

func runDiff(e *env, args []string) error {
	fs := newFlags(e, "diff", "[flags] OLD NEW", diffHelp)
	format := formatFlag(fs)
	all := fs.Bool("all", false, "list every change (text lists at most 20 of each kind)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) != 2 {
		return usagef("want two ELF files: OLD NEW")
	}
	var facts [2]*elffacts.Facts
	for i, p := range args {
		if facts[i], err = readELF(p); err != nil {
			fmt.Fprintf(e.stderr, "hitch diff: %v\n", err)
			return exitWith(abidiff.ExitError)
		}
	}
	r := abidiff.Diff(args[0], facts[0], args[1], facts[1])
	if *format == "json" {
		if err := writeJSON(e.stdout, struct {
			Schema int `json:"schema"`
			*abidiff.Report
			Exit int `json:"exit"`
		}{1, r, r.Exit()}); err != nil {
			return err
		}
	} else {
		writeDiff(e.stdout, r, *all)
	}
	if code := r.Exit(); code != 0 {
		return exitWith(code)
	}
	return nil
}

// readELF reads the facts of one ELF file, naming it in any error.
func readELF(path string) (*elffacts.Facts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	facts, err := elffacts.Read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return facts, nil
}

func writeDiff(w io.Writer, r *abidiff.Report, all bool) {
	fmt.Fprintf(w, "%s → %s (symbol level: no debug info read)\n", r.Old, r.New)
	if len(r.Changes) == 0 {
		fmt.Fprintln(w, "no ABI change")
		return
	}
	for _, incompatible := range []bool{true, false} {
		title := "compatible changes"
		if incompatible {
			title = "incompatible changes"
		}
		var lines []string
		count := map[string]int{}
		for _, c := range r.Changes {
			if c.Incompatible != incompatible {
				continue
			}
			count[c.Kind]++
			if all || count[c.Kind] <= 20 {
				lines = append(lines, c.Message)
			}
		}
		n := 0
		for _, k := range count {
			n += k
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, n)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
		if len(lines) < n {
			fmt.Fprintf(w, "  … %d more (--all lists them)\n", n-len(lines))
		}
	}
	fmt.Fprintf(w, "\n%d removed, %d added, %d changed; %d incompatible\n",
		r.Summary.Removed, r.Summary.Added, r.Summary.Changed, r.Summary.Incompatible)
}
