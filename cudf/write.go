package cudf

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Write writes the document in CUDF syntax: what Parse reads back as the
// same document. Properties at their default values are left out, but
// for declared extra ones, which are written as the document holds them.
func Write(w io.Writer, doc *Document) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	first := true
	stanza := func() {
		if !first {
			bw.WriteString("\n")
		}
		first = false
	}
	if pre := doc.Preamble; pre != nil {
		stanza()
		fmt.Fprintf(bw, "preamble: %s\n", pre.ID)
		if len(pre.Props) > 0 {
			var decls []string
			for _, d := range pre.Props {
				s := d.Name + ": " + d.Type.String()
				if d.Default != nil {
					s += " = [" + FormatValue(*d.Default, true) + "]"
				}
				decls = append(decls, s)
			}
			fmt.Fprintf(bw, "property: %s\n", strings.Join(decls, ", "))
		}
		for _, kv := range [][2]string{{"univ-checksum", pre.UnivChecksum}, {"status-checksum", pre.StatusChecksum}, {"req-checksum", pre.ReqChecksum}} {
			if kv[1] != "" {
				fmt.Fprintf(bw, "%s: %s\n", kv[0], kv[1])
			}
		}
	}
	for _, p := range doc.Packages {
		stanza()
		writePackage(bw, p)
	}
	if r := doc.Request; r != nil {
		stanza()
		fmt.Fprintf(bw, "request: %s\n", r.ID)
		for _, kv := range []struct {
			k string
			l []VPkg
		}{{"install", r.Install}, {"remove", r.Remove}, {"upgrade", r.Upgrade}} {
			if len(kv.l) > 0 {
				fmt.Fprintf(bw, "%s: %s\n", kv.k, formatList(kv.l))
			}
		}
		for _, e := range r.Extra {
			fmt.Fprintf(bw, "%s: %s\n", e.Name, FormatValue(e.Value, false))
		}
	}
	return bw.Flush()
}

func writePackage(bw *bufio.Writer, p *Package) {
	fmt.Fprintf(bw, "package: %s\nversion: %d\n", p.Name, p.Version)
	if len(p.Depends) > 0 {
		fmt.Fprintf(bw, "depends: %s\n", FormatFormula(p.Depends))
	}
	if len(p.Conflicts) > 0 {
		fmt.Fprintf(bw, "conflicts: %s\n", formatList(p.Conflicts))
	}
	if len(p.Provides) > 0 {
		fmt.Fprintf(bw, "provides: %s\n", formatList(p.Provides))
	}
	if p.Installed {
		bw.WriteString("installed: true\n")
	}
	if p.WasInstalled {
		bw.WriteString("was-installed: true\n")
	}
	if p.Keep != KeepNone {
		fmt.Fprintf(bw, "keep: %s\n", p.Keep)
	}
	for _, e := range p.Extra {
		fmt.Fprintf(bw, "%s: %s\n", e.Name, FormatValue(e.Value, false))
	}
}

// WriteSolution writes a solution: the packages installed in it, each
// with its name, version and "installed: true", as CUDF solvers answer.
func WriteSolution(w io.Writer, installed []*Package) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for i, p := range installed {
		if i > 0 {
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "package: %s\nversion: %d\ninstalled: true\n", p.Name, p.Version)
	}
	return bw.Flush()
}

func formatList(l []VPkg) string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}

// FormatFormula writes a formula: "a | b, c", "true!" or "false!".
func FormatFormula(f Formula) string {
	if len(f) == 0 {
		return "true!"
	}
	if f.IsFalse() {
		return "false!"
	}
	ands := make([]string, len(f))
	for i, or := range f {
		ors := make([]string, len(or))
		for j, v := range or {
			ors[j] = v.String()
		}
		ands[i] = strings.Join(ors, " | ")
	}
	return strings.Join(ands, ", ")
}

// FormatValue writes a value in CUDF syntax; quoted quotes strings, as
// a default in a property declaration needs.
func FormatValue(v Value, quoted bool) string {
	switch v.Type.Kind {
	case Int, Posint, Nat:
		return strconv.FormatInt(v.Int, 10)
	case Bool:
		return strconv.FormatBool(v.Bool)
	case String:
		if quoted {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v.Str) + `"`
		}
		return v.Str
	case Pkgname, Ident, Enum:
		return v.Str
	case Vpkg, Veqpkg, Vpkglist, Veqpkglist:
		return formatList(v.Pkgs)
	case Vpkgformula:
		return FormatFormula(v.Formula)
	}
	return ""
}
