package check

import (
	"debug/elf"
	"fmt"
	"io"
	"strings"

	"github.com/hitch-hpc/hitch/rootfs"
)

// staticInterface adds a reason to an executable that has the planned
// interface linked in statically — its own symbol table defines one of the
// family's markers (MPI_Init) — and so runs with its own copy whatever
// the binds bring. Programs that load the host's libraries are not
// asked; a stripped program has no symbol table to ask.
func staticInterface(v *Verdict, view *rootfs.View, name string, markers []string) {
	if v.Type != "static" && v.Type != "executable" {
		return
	}
	if v.Affected() {
		return
	}
	sym := definesAny(view, v.Path, markers)
	if sym == "" {
		return
	}
	v.Reasons = append(v.Reasons, Reason{Kind: "static-interface",
		Message: fmt.Sprintf("%s defines %s itself: its %s is linked in statically, so the host's cannot be swapped in; it runs with its own", v.Path, sym, name)})
	v.Fixes = append(v.Fixes, "the program's "+name+" is static: it cannot be swapped; rebuild it against the shared library to use the host's")
	if v.Status == OK {
		v.Status = Warning
	}
}

// definesAny returns the first of names that the ELF file at p (a View
// path) defines in its symbol table (.symtab, else .dynsym), or "".
func definesAny(view *rootfs.View, p string, names []string) (found string) {
	defer func() {
		if recover() != nil {
			found = "" // debug/elf on a corrupt file: no evidence
		}
	}()
	f, err := view.Open(strings.TrimPrefix(p, "/"))
	if err != nil {
		return ""
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return ""
	}
	ef, err := elf.NewFile(ra)
	if err != nil {
		return ""
	}
	syms, err := ef.Symbols()
	if err != nil {
		if syms, err = ef.DynamicSymbols(); err != nil {
			return ""
		}
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, s := range syms {
		if want[s.Name] && s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			return s.Name
		}
	}
	return ""
}
