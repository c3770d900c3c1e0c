package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/inspect"
	"github.com/hitch-hpc/hitch/pkgdb"
)

// objectWriter writes the objects of an inspect run as they arrive, so
// that a tree of any size is printed without holding its facts.
type objectWriter interface {
	begin(in *inspect.Input) error
	object(o inspect.Object) error
	failure(path string, err error) error
	end(stats elfwalk.Stats) error
	close(total elfwalk.Stats) error
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonObjects writes one JSON document:
//
//	{"schema": 1, "objects": [{"input": 0, "path": ..., "facts": {...}}, ...],
//	 "inputs": [{"arg": ..., "kind": ...}, ...],
//	 "errors": [{"path": ..., "error": ...}], "stats": {...}}
//
// with one object per line. Inputs come last because they are known in
// full only when their objects have been read.
type jsonObjects struct {
	w      *bufio.Writer
	n      int
	inputs []jsonInput
	errors []jsonError
}

type jsonObject struct {
	Input   int             `json:"input"`
	Path    string          `json:"path"`
	Package *pkgdb.Package  `json:"package,omitempty"`
	Facts   *elffacts.Facts `json:"facts"`
}

type jsonInput struct {
	Arg            string            `json:"arg"`
	Kind           string            `json:"kind"`
	Digest         string            `json:"digest,omitempty"`
	DiffIDs        []string          `json:"diff_ids,omitempty"`
	Config         *image.Config     `json:"config,omitempty"`
	OSRelease      map[string]string `json:"os_release,omitempty"`
	PackageManager string            `json:"package_manager,omitempty"`
	Packages       int               `json:"packages,omitempty"`
	PackagesError  string            `json:"packages_error,omitempty"`
}

type jsonError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

type jsonStats struct {
	Files  int   `json:"files"`
	ELF    int   `json:"elf"`
	NotELF int   `json:"not_elf"`
	Failed int   `json:"failed"`
	Bytes  int64 `json:"bytes"`
}

func newJSONObjects(w io.Writer) *jsonObjects {
	j := &jsonObjects{w: bufio.NewWriter(w)}
	fmt.Fprintf(j.w, "{\"schema\": %d, \"objects\": [", elffacts.SchemaVersion)
	return j
}

func (j *jsonObjects) begin(in *inspect.Input) error {
	ji := jsonInput{
		Arg: in.Arg, Kind: in.Kind, Digest: in.Digest, DiffIDs: in.DiffIDs,
		OSRelease: in.OSRelease, PackageManager: in.PackageManager, Packages: in.Packages,
	}
	if in.PackagesErr != nil {
		ji.PackagesError = in.PackagesErr.Error()
	}
	if !reflect.ValueOf(in.Config).IsZero() {
		ji.Config = &in.Config
	}
	j.inputs = append(j.inputs, ji)
	return nil
}

func (j *jsonObjects) object(o inspect.Object) error {
	b, err := json.Marshal(jsonObject{Input: len(j.inputs) - 1, Path: o.Path, Package: o.Package, Facts: o.Facts})
	if err != nil {
		return err
	}
	if j.n > 0 {
		j.w.WriteString(",")
	}
	j.n++
	j.w.WriteString("\n")
	_, err = j.w.Write(b)
	return err
}

func (j *jsonObjects) failure(path string, err error) error {
	j.errors = append(j.errors, jsonError{Path: path, Error: err.Error()})
	return nil
}

func (j *jsonObjects) end(elfwalk.Stats) error { return nil }

func (j *jsonObjects) close(t elfwalk.Stats) error {
	errs, err := json.Marshal(j.errors)
	if err != nil {
		return err
	}
	if j.errors == nil {
		errs = []byte("[]")
	}
	stats, err := json.Marshal(jsonStats{Files: t.Files, ELF: t.ELF, NotELF: t.NotELF, Failed: t.Failed, Bytes: t.Bytes})
	if err != nil {
		return err
	}
	inputs, err := json.Marshal(j.inputs)
	if err != nil {
		return err
	}
	if j.inputs == nil {
		inputs = []byte("[]")
	}
	fmt.Fprintf(j.w, "\n],\n\"inputs\": %s,\n\"errors\": %s,\n\"stats\": %s}\n", inputs, errs, stats)
	return j.w.Flush()
}

// textObjects prints a file's facts in full and a tree as a table.
type textObjects struct {
	w       io.Writer
	symbols bool
	tree    bool
	blocks  int
}

const rowFormat = "%-5s %6s %7s %8s  %-7s %-24s %-22s %s\n"

func (t *textObjects) begin(in *inspect.Input) error {
	t.tree = in.Tree
	if t.blocks > 0 {
		fmt.Fprintln(t.w)
	}
	t.blocks++
	if !in.Tree {
		return nil
	}
	if in.Kind != image.KindDir {
		what := in.Kind
		if in.Digest != "" {
			what += " " + in.Digest
		}
		if in.Cached {
			what += ", from the cache"
		}
		fmt.Fprintf(t.w, "image  %s (%s)\n", in.Arg, what)
	}
	if d := in.Describe(); d != "" {
		fmt.Fprintf(t.w, "system %s\n", d)
	}
	_, err := fmt.Fprintf(t.w, rowFormat, "TYPE", "NEEDED", "DEFINED", "REQUIRED", "GLIBC", "SONAME", "PACKAGE", "PATH")
	return err
}

func (t *textObjects) object(o inspect.Object) error {
	f := o.Facts
	if !t.tree {
		return writeFacts(t.w, o.Path, f, t.symbols)
	}
	glibc := strings.TrimPrefix(f.MaxNeededVersion("GLIBC_"), "GLIBC_")
	pkg := ""
	if o.Package != nil {
		pkg = o.Package.Name
	}
	_, err := fmt.Fprintf(t.w, rowFormat, f.Type, itoa(len(f.Needed)), itoa(len(f.Defined)),
		itoa(len(f.Required)), dash(glibc), dash(f.Soname), dash(pkg), o.Path)
	return err
}

func (t *textObjects) failure(string, error) error { return nil }

func (t *textObjects) end(s elfwalk.Stats) error {
	if !t.tree {
		return nil
	}
	_, err := fmt.Fprintf(t.w, "%d ELF objects (%s) in %d files; %d not ELF, %d failed\n",
		s.ELF, mib(s.Bytes), s.Files, s.NotELF, s.Failed)
	return err
}

func (t *textObjects) close(elfwalk.Stats) error { return nil }

func itoa(n int) string { return fmt.Sprint(n) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

var typeWords = map[string]string{
	"exec": "executable",
	"pie":  "position-independent executable",
	"dyn":  "shared object",
	"rel":  "relocatable object",
	"core": "core file",
}

// writeFacts prints one object's facts as labelled lines.
func writeFacts(w io.Writer, path string, f *elffacts.Facts, symbols bool) error {
	bw := bufio.NewWriter(w)
	line := func(label, format string, args ...any) {
		fmt.Fprintf(bw, "  %-13s", label)
		fmt.Fprintf(bw, format, args...)
		bw.WriteString("\n")
	}
	list := func(label string, items []string) {
		if len(items) > 0 {
			line(label, "%s", wrap(items, 15, 100))
		}
	}
	fmt.Fprintf(bw, "%s\n", path)
	kind := typeWords[f.Type]
	if kind == "" {
		kind = f.Type
	}
	if f.IsExecutable() && !f.Dynamic {
		kind = "statically linked " + kind
	}
	line("type", "%s, %s %s-endian %s, OS ABI %s", kind, f.Class, f.ByteOrder, f.Machine, f.OSABI)
	line("sha256", "%s", f.SHA256)
	line("size", "%d", f.Size)
	if f.BuildID != "" {
		line("build-id", "%s", f.BuildID)
	}
	if f.Interp != "" {
		line("interpreter", "%s", f.Interp)
	}
	if f.Soname != "" {
		line("soname", "%s", f.Soname)
	}
	list("needed", f.Needed)
	if f.RPath != nil {
		line("rpath", "%s", strings.Join(f.RPath, ":"))
	}
	if f.RunPath != nil {
		line("runpath", "%s", strings.Join(f.RunPath, ":"))
	}
	list("flags", f.Flags)
	list("flags_1", f.Flags1)
	list("x86 isa", f.X86ISANeeded)
	list("x86 features", f.X86Features)
	var defs []string
	for _, d := range f.VersionDefs {
		if !d.Base {
			defs = append(defs, d.Name)
		}
	}
	list("defines", defs)
	for i, vn := range f.VersionNeeds {
		var names []string
		for _, v := range vn.Versions {
			n := v.Name
			if v.Weak {
				n += "(weak)"
			}
			names = append(names, n)
		}
		label := ""
		if i == 0 {
			label = "needs"
		}
		line(label, "%s: %s", vn.File, wrap(names, 17+len(vn.File), 100))
	}
	line("symbols", "%d defined, %d required", len(f.Defined), len(f.Required))
	for _, warn := range f.Warnings {
		line("warning", "%s", warn)
	}
	if symbols {
		if len(f.Defined) > 0 {
			bw.WriteString("  defined symbols:\n")
		}
		for _, s := range f.Defined {
			name := s.Name
			switch {
			case s.Default():
				name += "@@" + s.Version
			case s.Version != "":
				name += "@" + s.Version
			}
			fmt.Fprintf(bw, "    %-6s %-6s %8d  %s\n", s.Type, s.Binding, s.Size, name)
		}
		if len(f.Required) > 0 {
			bw.WriteString("  required symbols:\n")
		}
		for _, s := range f.Required {
			name := s.Name
			if s.Version != "" {
				name += "@" + s.Version + " (" + s.From + ")"
			}
			bind := "global"
			if s.Weak {
				bind = "weak"
			}
			fmt.Fprintf(bw, "    %-6s %-6s %8s  %s\n", s.Type, bind, "", name)
		}
	}
	return bw.Flush()
}

// wrap joins words with spaces, breaking lines before width and indenting
// the continuation lines to the column where the first one started.
func wrap(words []string, indent, width int) string {
	var b strings.Builder
	col := indent
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteString("\n")
				b.WriteString(strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteString(" ")
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
