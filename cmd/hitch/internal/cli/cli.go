// Package cli is the hitch command line: it parses arguments, calls the
// hitch libraries and writes their answers as text or JSON. It holds no
// logic that a library user would need.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/storeview"
)

// Exit codes, the same for every command (see "hitch help exit-codes").
const (
	ExitOK      = 0 // the answer is yes, or there was nothing to judge
	ExitNo      = 1 // the answer is no: something will not load or bind
	ExitUsage   = 2 // bad usage, or an error that stopped the command
	ExitPartial = 3 // some inputs could not be read; the rest was answered
)

// exitError carries an exit code other than ExitUsage up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errPartial is returned by a command that reported some inputs as failed.
var errPartial = &exitError{code: ExitPartial, err: errors.New("some inputs could not be read")}

// errNo is returned by a command whose answer is no; what failed was
// already printed.
var errNo = &exitError{code: ExitNo, err: errors.New("the answer is no")}

// errReported is the error of an exit code whose reason was printed.
var errReported = errors.New("reported")

// exitWith ends a command with code, having said why already.
func exitWith(code int) error { return &exitError{code: code, err: errReported} }

// usageError marks an error in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// env is what a command runs with.
type env struct {
	ctx            context.Context
	stdin          io.Reader // nil: the process's
	stdout, stderr io.Writer
	// catalog is opened by the first catalog: reference.
	catalog *storeview.Catalog
	// cleanup runs when the command ends.
	cleanup []func()
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"inspect", "show the ABI facts of ELF files, directories, root filesystems and images", runInspect},
		{"ldd", "list the libraries a program would load inside an image, with binds", runLdd},
		{"check", "judge whether programs in an image would load and bind, with binds", runCheck},
		{"plan", "decide what to bind from a host so an image uses its MPI, fabric or GPU libraries", runPlan},
		{"verify", "run the real loader with the binds, in a mount namespace, and compare", runVerify},
		{"scan", "read images and hosts into the ABI catalog", runScan},
		{"ls", "list the systems in the ABI catalog", runLs},
		{"query", "ask the ABI catalog: who provides, defines, needs; what differs", runQuery},
		{"matrix", "judge every catalogued image on every catalogued host", runMatrix},
		{"drift", "what changed between two catalogued hosts, and which images it breaks", runDrift},
		{"diff", "whether a new version of a shared library can replace the old one", runDiff},
		{"compat", "whether a program survives a new version of a library it uses", runCompat},
		{"solve", "answer a CUDF request: which packages to install, optimally", runSolve},
		{"cudf", "write Debian package indexes as CUDF", runCudf},
		{"distcheck", "check every package of a Debian repository for installability", runDistcheck},
		{"help", "show help for a command or a topic", runHelp},
		{"version", "print hitch's version", runVersion},
	}
}

// input is what a command reads from standard input.
func (e *env) input() io.Reader {
	if e.stdin != nil {
		return e.stdin
	}
	return os.Stdin
}

// Main runs hitch with args (without the program name) and returns the
// process exit code. Tests call it in-process.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return MainInput(ctx, args, nil, stdout, stderr)
}

// MainInput is Main with standard input (nil: the process's).
func MainInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	if name == "-h" || name == "-help" || name == "--help" {
		printUsage(stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(e, rest)
		for i := len(e.cleanup) - 1; i >= 0; i-- {
			e.cleanup[i]()
		}
		return exitCode(stderr, c.name, err)
	}
	fmt.Fprintf(stderr, "hitch: unknown command %q\n\n", name)
	printUsage(stderr)
	return ExitUsage
}

func exitCode(stderr io.Writer, name string, err error) int {
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hitch %s: %v\nRun 'hitch %s --help' for usage.\n", name, err, name)
		return ExitUsage
	case errors.As(err, &ee):
		if ee != errPartial && ee != errNo && ee.err != errReported {
			fmt.Fprintf(stderr, "hitch %s: %v\n", name, err)
		}
		return ee.code
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "hitch %s: interrupted\n", name)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "hitch %s: %v\n", name, err)
		return ExitUsage
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `hitch tells whether a container will run on an HPC host once the host's
libraries (MPI, GPU driver, fabric) are bound into it, from the binaries.

Usage:
  hitch <command> [flags] [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'hitch <command> --help' for a command's flags,
'hitch help exit-codes' for what the exit status means.
`)
}

// newFlags returns a flag set whose usage text starts with synopsis and
// description; its errors go to stderr.
func newFlags(e *env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: hitch %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if len(names) > 0 {
			fmt.Fprintln(w, "\nFlags:")
			sort.Strings(names)
			for _, n := range names {
				f := fs.Lookup(n)
				arg, usage := flag.UnquoteUsage(f)
				head := "  --" + n
				if arg != "" {
					head += " " + arg
				}
				fmt.Fprintf(w, "%s\n      %s", head, usage)
				if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
					fmt.Fprintf(w, " (default %s)", f.DefValue)
				}
				fmt.Fprintln(w)
			}
		}
	}
	return fs
}

// parse parses flags anywhere among args (hitch inspect DIR --format json
// works) and returns the positional arguments. "--" ends the flags.
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			// Asked-for help goes to stdout; usage after a mistake to stderr.
			fs.SetOutput(e.stdout)
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				// Usage went to stderr; --help is a request, not an error.
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// formatFlag adds the --format flag that every command has.
func formatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", "text", "output `format`: text or json")
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usagef("unknown format %q: want text or json", f)
	}
	return nil
}

func runVersion(e *env, args []string) error {
	fs := newFlags(e, "version", "", "Print hitch's version and the Go version that built it.")
	format := formatFlag(fs)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	v, goVersion := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
	}
	if *format == "json" {
		return writeJSON(e.stdout, map[string]string{"version": v, "go": goVersion})
	}
	_, err := fmt.Fprintf(e.stdout, "hitch %s (%s)\n", v, goVersion)
	return err
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
