package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/hitch-hpc/hitch/matrix"
)

const driftHelp = `
Compare two catalogued hosts — a host stack before and after an update —
and say what changed and what it does to the catalogued images.

The libraries are compared soname by soname, each as the host's own
loader finds it: removed, changed incompatibly (symbol versions or
exported symbols went away; private versions such as GLIBC_PRIVATE are
not counted), added, or changed compatibly. Then every image (or those
--images names) is judged on both hosts, as 'hitch matrix' does, and the
images whose verdict moves are listed with the reason.

Text output lists the libraries of the interface families (MPI, fabric,
GPU, PMI) and counts the others; --all lists every library. --format
json gives everything.

Exit status: 0 when no image fares worse after, 1 when one does, 2 on
usage errors.

Examples:
  hitch scan host --role host --name cluster-2026-10     (before the update)
  hitch scan host --role host --name cluster-2026-11     (after it)
  hitch drift cluster-2026-10 cluster-2026-11
`

func runDrift(e *env, args []string) error {
	fs := newFlags(e, "drift", "[flags] HOST-BEFORE HOST-AFTER", driftHelp)
	format := formatFlag(fs)
	db := fs.String("db", "", "the catalog: an SQLite `file` or a postgres:// URL (default $XDG_DATA_HOME/hitch/hitch.db)")
	images := fs.String("images", "", "the `names` of the images to judge, comma-separated, patterns allowed (default: all)")
	all := fs.Bool("all", false, "list every library that changed, not only those of interface families")
	var ifaces multiFlag
	fs.Var(&ifaces, "interface", "judge this `interface` (repeatable; default: each that the image uses)")
	var ifaceDirs multiFlag
	fs.Var(&ifaceDirs, "interfaces", "read interface files from `DIR` too (repeatable)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) != 2 {
		return usagef("want two hosts: HOST-BEFORE HOST-AFTER")
	}
	set, err := interfaceSet(ifaceDirs, ifaces)
	if err != nil {
		return err
	}
	c, err := e.openCatalog(*db)
	if err != nil {
		return err
	}
	// Both names must be catalogued; images are optional.
	systems, err := c.Systems(e.ctx)
	if err != nil {
		return err
	}
	for _, name := range args {
		found := false
		for _, s := range systems {
			found = found || s.Name == name
		}
		if !found {
			return usagef("no system named %q in the catalog (hitch ls lists them)", name)
		}
	}
	var imageNames []string
	for _, s := range systems {
		if s.Role == "image" || *images != "" {
			if imageNames, err = pickNames(systems, "image", "images", *images); err != nil {
				return err
			}
			break
		}
	}
	progress := newProgress(e.stderr)
	progress.say(fmt.Sprintf("comparing %s with %s, judging %d images", args[0], args[1], len(imageNames)))
	d, err := matrix.DriftOf(e.ctx, c, args[0], args[1], imageNames, matrix.Options{
		Interfaces: ifaces, Set: set,
		Progress: func(done, total int) { progress.status(fmt.Sprintf("%d/%d cells", done, total)) },
	})
	progress.clear()
	if err != nil {
		return err
	}
	if *format == "json" {
		err = writeJSON(e.stdout, struct {
			Schema int `json:"schema"`
			*matrix.Drift
		}{1, d})
	} else {
		writeDrift(e.stdout, d, *all)
	}
	if err != nil {
		return err
	}
	for _, ch := range d.Images {
		if ch.Worse() {
			return errNo
		}
	}
	return nil
}

func writeDrift(w io.Writer, d *matrix.Drift, all bool) {
	counts := map[string]int{}
	for _, l := range d.Libraries {
		counts[l.Change]++
	}
	fmt.Fprintf(w, "%s → %s: %d libraries removed, %d changed incompatibly, %d added, %d changed compatibly\n",
		d.Before, d.After, counts["removed"], counts["incompatible"], counts["added"], counts["compatible"])
	hidden := 0
	for _, l := range d.Libraries {
		if l.Family == "" && !all {
			hidden++
			continue
		}
		name := l.Soname
		if l.Family != "" {
			name += " (" + l.Family + ")"
		}
		fmt.Fprintf(w, "  %-12s %s", l.Change, name)
		var what []string
		if n := len(l.VersionsRemoved); n > 0 {
			what = append(what, fmt.Sprintf("versions removed: %s", strings.Join(l.VersionsRemoved, ", ")))
		}
		if n := len(l.SymbolsRemoved); n > 0 {
			shown := l.SymbolsRemoved
			more := ""
			if n > 5 {
				shown, more = shown[:5], fmt.Sprintf(", … (%d in all)", n)
			}
			what = append(what, fmt.Sprintf("symbols removed: %s%s", strings.Join(shown, ", "), more))
		}
		if len(what) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(what, "; "))
		}
		fmt.Fprintln(w)
	}
	if hidden > 0 {
		fmt.Fprintf(w, "  (%d other libraries changed: --all lists them)\n", hidden)
	}
	if d.Judged == 0 {
		fmt.Fprintln(w, "\nno images in the catalog to judge")
		return
	}
	fmt.Fprintf(w, "\n%d of %d images change verdict\n", len(d.Images), d.Judged)
	for _, ch := range d.Images {
		fmt.Fprintf(w, "  %s: %s → %s", ch.Image, ch.Before, ch.After)
		if ch.Reason != "" {
			verb := "now"
			if !ch.Worse() {
				verb = "no longer"
			}
			fmt.Fprintf(w, " (%s: %s)", verb, ch.Reason)
		}
		fmt.Fprintln(w)
	}
}
