package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/treediff"
)

const diffHelp = `
Say whether NEW can replace OLD: two versions of a shared library (ELF
files), or two trees — root filesystems, directories, images in any form
'hitch inspect' opens — whose libraries are paired by soname (the one
each tree's loader finds), with soname bumps (libssl.so.1.1 →
libssl.so.3) paired and reported, and libraries removed or added.

For each library: exported functions and variables removed or added, symbol
versions removed, added or moved, default versions changed, variable and
vtable sizes, functions that became variables, GLOBAL to WEAK, the
soname, needed libraries, the x86-64 ISA level. When both files carry
debug info (DWARF) — in the file or, by build ID, in a separate debug
file under --debug-dir or /usr/lib/debug (Debian's -dbg packages) — the
types of the functions and variables both export too: parameter and
return types, struct, union and C++ class layouts (base classes, vtable
slots), enum values, arrays, typedefs — each with the path from the
symbol to the change. Split DWARF (.dwo files) is not read: such a pair
is compared at the symbol level, and hitch says so. Each change is
incompatible (a program built against OLD may fail with NEW), compatible,
or harmless (reported, not counted). In trees, a pair whose libraries
both have debug info (a tree's own /usr/lib/debug is searched first) is
compared at the type level too.

Exit status is abidiff's bitmask, so scripts written for abidiff keep
working: 0 no change, 4 compatible changes, 12 an incompatible one
(4 | 8), 1 when a file cannot be read, 2 on usage errors.

Examples:
  hitch diff /usr/lib/x86_64-linux-gnu/libfoo.so.1 ./build/libfoo.so.1
  hitch diff old/libmpi.so.40 new/libmpi.so.40 --format json
  hitch diff ./rootfs-2025 ./rootfs-2026
  hitch diff docker.io/library/debian:11 docker.io/library/debian:12
`

func runDiff(e *env, args []string) error {
	fs := newFlags(e, "diff", "[flags] OLD NEW", diffHelp)
	format := formatFlag(fs)
	var suppress multiFlag
	fs.Var(&suppress, "suppress", "leave out the changes the rules in `FILE` name (repeatable; see 'hitch help suppressions')")
	var debugDirs multiFlag
	fs.Var(&debugDirs, "debug-dir", "look for separate debug info (DIR/.build-id/xx/yyyy.debug) under `DIR` (repeatable; /usr/lib/debug is searched last)")
	all := fs.Bool("all", false, "list every change (text lists at most 20 of each kind for a file, and only a summary per library for trees)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) != 2 {
		return usagef("want two ELF files or two trees: OLD NEW")
	}
	sup, err := readSuppressions(suppress)
	if err != nil {
		return err
	}
	// Two files, one of them ELF, are compared as libraries (the other
	// then fails to read, by name); no ELF file: two trees.
	elf, regular := 0, 0
	for _, a := range args {
		if isELFFile(a) {
			elf++
		}
		if fi, err := os.Stat(a); err == nil && fi.Mode().IsRegular() {
			regular++
		}
	}
	switch {
	case elf == 0:
		return diffTrees(e, args, *format, *all, sup, debugDirs)
	case regular < 2:
		return usagef("compare a library with a library, or a tree with a tree")
	}
	var facts [2]*elffacts.Facts
	for i, p := range args {
		if facts[i], err = readELF(p); err != nil {
			fmt.Fprintf(e.stderr, "hitch diff: %v\n", err)
			return exitWith(abidiff.ExitError)
		}
	}
	r := abidiff.Diff(args[0], facts[0], args[1], facts[1])
	// With debug info on both sides, the types too.
	if infos, ok := readTypes(e, "diff", args[0], args[1], debugDirs); ok {
		r.AddTypes(facts[0], infos[0], facts[1], infos[1])
	}
	sup.Apply(r)
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
	level := "symbols and types, from both files' debug info"
	if r.Level == "symbols" {
		level = "symbol level: types need debug info on both sides"
	}
	fmt.Fprintf(w, "%s → %s (%s)\n", r.Old, r.New, level)
	if r.Suppressed > 0 {
		fmt.Fprintf(w, "%d changes suppressed\n", r.Suppressed)
	}
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
			if c.Incompatible != incompatible || c.Harmless {
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
	if r.Summary.Harmless > 0 {
		fmt.Fprintf(w, "\nharmless changes (%d):\n", r.Summary.Harmless)
		for _, c := range r.Changes {
			if c.Harmless {
				fmt.Fprintf(w, "  %s\n", c.Message)
			}
		}
	}
	fmt.Fprintf(w, "\n%d removed, %d added, %d changed; %d incompatible\n",
		r.Summary.Removed, r.Summary.Added, r.Summary.Changed, r.Summary.Incompatible)
}

// isELFFile reports whether path is a regular file that starts as ELF
// does.
func isELFFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	ok, err := elffacts.HasMagic(f)
	return err == nil && ok
}

// diffTrees pairs the libraries of two trees by soname and diffs them.
func diffTrees(e *env, args []string, format string, all bool, sup *abidiff.Suppressions, debugDirs []string) error {
	var ims [2]*image.Image
	for i, ref := range args {
		im, err := image.Open(e.ctx, ref)
		if err != nil {
			fmt.Fprintf(e.stderr, "hitch diff: %v\n", err)
			return exitWith(abidiff.ExitError)
		}
		defer im.Close()
		ims[i] = im
	}
	progress := newProgress(e.stderr)
	progress.say("reading the libraries of both trees")
	r, err := treediff.Diff(e.ctx, ims[0].View, ims[1].View, treediff.Options{
		Old: []loader.Option{loader.WithEnv(ims[0].Config.Env)}, New: []loader.Option{loader.WithEnv(ims[1].Config.Env)},
		Suppress: sup, DebugDirs: debugDirs})
	progress.clear()
	if err != nil {
		fmt.Fprintf(e.stderr, "hitch diff: %v\n", err)
		return exitWith(abidiff.ExitError)
	}
	if format == "json" {
		if err := writeJSON(e.stdout, struct {
			Schema int    `json:"schema"`
			Old    string `json:"old"`
			New    string `json:"new"`
			*treediff.Result
			Exit int `json:"exit"`
		}{1, args[0], args[1], r, r.Exit()}); err != nil {
			return err
		}
	} else {
		writeTreeDiff(e.stdout, args, r, all)
	}
	if code := r.Exit(); code != 0 {
		return exitWith(code)
	}
	return nil
}

func writeTreeDiff(w io.Writer, args []string, r *treediff.Result, all bool) {
	typed := 0
	for _, p := range r.Pairs {
		if p.Report != nil && p.Report.Level != "symbols" {
			typed++
		}
	}
	level := "symbol level; types where both libraries have debug info"
	if typed == 0 {
		level = "symbol level: no pair had debug info on both sides"
	}
	fmt.Fprintf(w, "%s → %s: libraries paired by soname (%s)\n", args[0], args[1], level)
	count := map[string]int{}
	for _, p := range r.Pairs {
		count[p.Status]++
	}
	fmt.Fprintf(w, "%d removed, %d soname bumps, %d changed, %d added, %d unchanged\n",
		count[treediff.Removed], count[treediff.Bumped], count[treediff.Changed], count[treediff.Added], r.Unchanged)
	last := ""
	for _, p := range r.Pairs {
		if p.Status != last {
			switch p.Status {
			case treediff.Removed:
				fmt.Fprintf(w, "\nremoved (a program that needs one by soname will not load):\n")
			case treediff.Bumped:
				fmt.Fprintf(w, "\nsoname bumps (a new ABI; programs that need the old soname will not load):\n")
			default:
				fmt.Fprintf(w, "\n%s:\n", p.Status)
			}
			last = p.Status
		}
		switch p.Status {
		case treediff.Removed:
			fmt.Fprintf(w, "  %s (%s)\n", p.Soname, p.Old)
		case treediff.Added:
			fmt.Fprintf(w, "  %s (%s)\n", p.Soname, p.New)
		case treediff.Bumped:
			fmt.Fprintf(w, "  %s → %s\n", p.Soname, p.NewSoname)
		case treediff.Changed:
			verdict := "compatible"
			if p.Report.Summary.Incompatible > 0 {
				verdict = "incompatible"
			}
			fmt.Fprintf(w, "  %-28s %s: %d removed, %d added, %d changed\n", p.Soname, verdict,
				p.Report.Summary.Removed, p.Report.Summary.Added, p.Report.Summary.Changed)
			if all {
				for _, c := range p.Report.Changes {
					fmt.Fprintf(w, "      %s\n", c.Message)
				}
			}
		}
	}
}

// readSuppressions reads the --suppress files; a bad one is a usage
// error naming its line.
func readSuppressions(files []string) (*abidiff.Suppressions, error) {
	if len(files) == 0 {
		return nil, nil
	}
	s := &abidiff.Suppressions{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, usagef("--suppress: %v", err)
		}
		err = s.Parse(name, f)
		f.Close()
		if err != nil {
			return nil, usagef("--suppress: %v", err)
		}
	}
	return s, nil
}

// readTypes reads the debug info of two libraries (in the file or, by
// build ID, under debugDirs and then /usr/lib/debug), both at once:
// decompressing and walking a big library's DWARF is most of a diff's
// time. It returns false when either has none, saying on stderr why when
// it is not simply absent.
func readTypes(e *env, cmd, old, new string, debugDirs []string) ([2]*dwarfabi.Info, bool) {
	// Reading DWARF makes much short-lived garbage (decompressed
	// sections, entries): main's GOGC=400 would double the peak for no
	// gain in time. At 50: libc with debug info 216 → 102 MiB for 0.20 →
	// 0.24 s; libstdc++ 100 → 72 MiB for 0.29 → 0.33 s.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
	dirs := append(append([]string(nil), debugDirs...), "/usr/lib/debug")
	var infos [2]*dwarfabi.Info
	var errs [2]error
	var wg sync.WaitGroup
	for i, p := range []string{old, new} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			infos[i], errs[i] = dwarfabi.ReadFile(p, dirs...)
		}()
	}
	wg.Wait()
	ok := true
	for i, p := range []string{old, new} {
		if errs[i] != nil {
			if !errors.Is(errs[i], dwarfabi.ErrNoDWARF) {
				fmt.Fprintf(e.stderr, "hitch %s: %s: %v; comparing symbols only\n", cmd, p, errs[i])
			}
			ok = false
		}
	}
	return infos, ok
}
