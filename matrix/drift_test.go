package matrix_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/matrix"
)

// TestDrift: from bookworm's host stack to trixie's, the catalog says
// which libraries went away or lost symbols — checked against nm on the
// real files — and which images change verdict — checked against the
// check on the real files.
func TestDrift(t *testing.T) {
	c, roots := catalog(t)
	d, err := matrix.DriftOf(context.Background(), c, "host-bookworm", "host-trixie", suites, matrix.Options{Interfaces: []string{"mpi"}})
	if err != nil {
		t.Fatal(err)
	}
	libs := map[string]matrix.LibraryChange{}
	for _, l := range d.Libraries {
		libs[l.Soname] = l
	}
	// Open MPI 5 dropped the C++ bindings.
	if l := libs["libmpi_cxx.so.40"]; l.Change != "removed" || l.Family != "openmpi" {
		t.Errorf("libmpi_cxx.so.40: %+v", l)
	} else if _, err := os.Stat(filepath.Join(roots["bookworm"], l.Before)); err != nil {
		t.Errorf("removed, but bookworm has no %s: %v", l.Before, err)
	}
	// Symbols removed from libmpi.so.40 and libmpich.so.12, as nm sees
	// the two files.
	for _, soname := range []string{"libmpi.so.40", "libmpich.so.12"} {
		l := libs[soname]
		if l.Change != "incompatible" {
			t.Errorf("%s: %+v", soname, l)
			continue
		}
		before := nmDefined(t, filepath.Join(roots["bookworm"], l.Before))
		after := nmDefined(t, filepath.Join(roots["trixie"], l.After))
		var want []string
		for s := range before {
			if !after[s] {
				want = append(want, s)
			}
		}
		sort.Strings(want)
		if strings.Join(want, " ") != strings.Join(l.SymbolsRemoved, " ") {
			t.Errorf("%s: symbols removed\ncatalog: %v\nnm:      %v", soname, l.SymbolsRemoved, want)
		}
		added := 0
		for s := range after {
			if !before[s] {
				added++
			}
		}
		if added != l.SymbolsAdded {
			t.Errorf("%s: %d symbols added, nm says %d", soname, l.SymbolsAdded, added)
		}
	}
	// libc.so.6 only gained versions.
	if l := libs["libc.so.6"]; l.Change != "compatible" || l.SymbolsAdded == 0 {
		t.Errorf("libc.so.6: %+v", l)
	}

	// The images whose verdict moves, as the check on the files says.
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	status := func(img, host string) string {
		sum, _, err := fromFiles(t, set, roots[img], roots[host], "mpi")
		switch {
		case err != nil, sum.Fails > 0:
			return matrix.Fails
		case sum.Warnings > 0:
			return matrix.Warning
		}
		return matrix.OK
	}
	var want, got []string
	for _, img := range suites {
		if b, a := status(img, "bookworm"), status(img, "trixie"); b != a {
			want = append(want, img+" "+b+" "+a)
		}
	}
	for _, ch := range d.Images {
		got = append(got, ch.Image+" "+ch.Before+" "+ch.After)
		if ch.Reason == "" {
			t.Errorf("%s: no reason", ch.Image)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) == 0 {
		t.Errorf("images that change:\ncatalog: %v\nfiles:   %v", got, want)
	}
	if d.Judged != len(suites) {
		t.Errorf("judged %d", d.Judged)
	}
}

func nmDefined(t *testing.T, file string) map[string]bool {
	t.Helper()
	set, err := oracle.DefinedSymbols(file)
	if err != nil {
		t.Fatal(err)
	}
	return set
}
