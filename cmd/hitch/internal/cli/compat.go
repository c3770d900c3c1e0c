package cli

import (
	"fmt"
	"io"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/elffacts"
)

const compatHelp = `
Say whether APP, built against OLD (a shared library), still works with
NEW, judging only what APP takes from it: the symbols it binds to in OLD
(as the loader binds: a versioned reference to that version, an
unversioned one to the default), the symbol versions it needs from it,
the variables it holds copies of (copy relocations: their size is fixed
in APP), and the soname it names. What OLD offers and APP never uses does
not count. When both libraries have debug info (DWARF, in the file or
by build ID under --debug-dir and /usr/lib/debug), the types of the
functions and variables APP uses are compared too, as 'hitch diff' does.

Exit status is abidiff's (and abicompat's) bitmask: 0 APP survives, 12 it
does not (4 | 8), 1 when a file cannot be read, 2 on usage errors.

Examples:
  hitch compat ./solver /usr/lib/x86_64-linux-gnu/libfoo.so.1 ./build/libfoo.so.1
`

func runCompat(e *env, args []string) error {
	fs := newFlags(e, "compat", "[flags] APP OLD NEW", compatHelp)
	format := formatFlag(fs)
	var suppress multiFlag
	fs.Var(&suppress, "suppress", "leave out the changes the rules in `FILE` name (repeatable; see 'hitch help suppressions')")
	var debugDirs multiFlag
	fs.Var(&debugDirs, "debug-dir", "look for separate debug info (DIR/.build-id/xx/yyyy.debug) under `DIR` (repeatable; /usr/lib/debug is searched last)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) != 3 {
		return usagef("want APP OLD NEW: a program and two versions of a library it uses")
	}
	sup, err := readSuppressions(suppress)
	if err != nil {
		return err
	}
	var facts [3]*elffacts.Facts
	for i, p := range args {
		if facts[i], err = readELF(p); err != nil {
			fmt.Fprintf(e.stderr, "hitch compat: %v\n", err)
			return exitWith(abidiff.ExitError)
		}
	}
	r := abidiff.Compat(args[0], facts[0], args[1], facts[1], args[2], facts[2])
	// With debug info for both libraries, the types of what APP uses.
	if infos, ok := readTypes(e, "compat", args[1], args[2], debugDirs); ok {
		r.AddUsedTypes(facts[0], facts[1], infos[0], infos[1])
	}
	sup.Apply(r)
	if *format == "json" {
		if err := writeJSON(e.stdout, struct {
			Schema int    `json:"schema"`
			App    string `json:"app"`
			*abidiff.Report
			Exit int `json:"exit"`
		}{1, args[0], r, r.Exit()}); err != nil {
			return err
		}
	} else {
		writeCompat(e.stdout, args, r)
	}
	if code := r.Exit(); code != 0 {
		return exitWith(code)
	}
	return nil
}

func writeCompat(w io.Writer, args []string, r *abidiff.Report) {
	switch {
	case len(r.Changes) == 0:
		fmt.Fprintf(w, "%s: what it uses of %s is all in %s\n", args[0], args[1], args[2])
		return
	case r.Summary.Incompatible == 0:
		fmt.Fprintf(w, "%s: what it uses of %s is all in %s, with compatible changes:\n", args[0], args[1], args[2])
	default:
		fmt.Fprintf(w, "%s will not work with %s in place of %s:\n", args[0], args[2], args[1])
	}
	for _, c := range r.Changes {
		fmt.Fprintf(w, "  %s\n", c.Message)
	}
}
