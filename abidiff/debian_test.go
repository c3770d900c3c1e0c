package abidiff_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
)

// debianLibs are libraries present in all three Debian test roots.
var debianLibs = []string{
	"libc.so.6", "libm.so.6", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1",
	"libxml2.so.2", "libhwloc.so.15", "libnl-3.so.200", "libibverbs.so.1",
	"libfabric.so.1", "libucp.so.0", "libpmix.so.2", "libmpi.so.40", "libmpich.so.12",
}

// abidiffExit runs abidiff on a pair.
func abidiffExit(t *testing.T, old, new string) int {
	t.Helper()
	cmd := exec.Command("abidiff", old, new)
	cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code&(abidiff.ExitError|abidiff.ExitUsage) != 0 {
		t.Fatalf("abidiff %s %s: exit %d", old, new, code)
	}
	return code
}

func nmSymbols(t *testing.T, file string) map[string]bool {
	t.Helper()
	set, err := oracle.DefinedSymbols(file)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestDebianPairs: each library of bullseye against bookworm's and
// bookworm's against trixie's. The symbols hitch says were removed and
// added are exactly those of nm's tables (abidiff groups aliases, so its
// lists are not comparable name by name), and hitch and abidiff agree
// whether the new one is incompatible — except where hitch sees what
// abidiff without debug info does not (variable sizes, the ISA level),
// which must then be the reason.
func TestDebianPairs(t *testing.T) {
	if _, err := exec.LookPath("abidiff"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("abidiff is not installed (.ci/run installs abigail-tools)")
		}
		t.Skip("abidiff not installed (apt-get install abigail-tools)")
	}
	roots := map[string]string{}
	for _, s := range []string{"bullseye", "bookworm", "trixie"} {
		roots[s] = fixture.Rootfs(t, s)
	}
	find := func(suite, soname string) string {
		for _, d := range []string{"usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"} {
			p := filepath.Join(roots[suite], d, soname)
			if rp, err := filepath.EvalSymlinks(p); err == nil {
				return rp
			}
		}
		t.Fatalf("%s has no %s", suite, soname)
		return ""
	}
	pairs := 0
	for _, lib := range debianLibs {
		for _, pr := range [][2]string{{"bullseye", "bookworm"}, {"bookworm", "trixie"}} {
			old, new := find(pr[0], lib), find(pr[1], lib)
			name := lib + " " + pr[0] + "→" + pr[1]
			r := abidiff.Diff(old, read(t, old), new, read(t, new))
			code := abidiffExit(t, old, new)
			before, after := nmSymbols(t, old), nmSymbols(t, new)
			wantRemoved, wantAdded := map[string]bool{}, map[string]bool{}
			for s := range before {
				if !after[s] {
					wantRemoved[s] = true
				}
			}
			for s := range after {
				if !before[s] {
					wantAdded[s] = true
				}
			}
			gotRemoved, gotAdded := map[string]bool{}, map[string]bool{}
			beyond := false // hitch sees an incompatibility abidiff cannot
			for _, c := range r.Changes {
				switch c.Kind {
				case abidiff.SymbolRemoved, abidiff.SymbolMoved:
					gotRemoved[c.Subject] = true
				case abidiff.SymbolAdded:
					gotAdded[c.Subject] = true
				case abidiff.SizeChanged, abidiff.ISARaised:
					beyond = true
				}
			}
			if d := setDiff(gotRemoved, wantRemoved); d != "" {
				t.Errorf("%s: removed symbols differ from nm's: %s", name, d)
			}
			if d := setDiff(gotAdded, wantAdded); d != "" {
				t.Errorf("%s: added symbols differ from nm's: %s", name, d)
			}
			hitchBreaks, abidiffBreaks := r.Exit()&abidiff.ExitIncompatible != 0, code&abidiff.ExitIncompatible != 0
			if hitchBreaks != abidiffBreaks && !(hitchBreaks && beyond) {
				t.Errorf("%s: hitch exits %d, abidiff %d", name, r.Exit(), code)
			}
			t.Logf("%-34s hitch %2d abidiff %2d  removed %d added %d", name, r.Exit(), code, len(gotRemoved), len(gotAdded))
			pairs++
		}
	}
	if pairs != 2*len(debianLibs) {
		t.Errorf("%d pairs compared", pairs)
	}
}

// setDiff describes what is in one set and not the other.
func setDiff(got, want map[string]bool) string {
	var extra, missing []string
	for s := range got {
		if !want[s] {
			extra = append(extra, s)
		}
	}
	for s := range want {
		if !got[s] {
			missing = append(missing, s)
		}
	}
	if len(extra) == 0 && len(missing) == 0 {
		return ""
	}
	sort.Strings(extra)
	sort.Strings(missing)
	clip := func(s []string) []string {
		if len(s) > 8 {
			return append(s[:8:8], "…")
		}
		return s
	}
	return "hitch only " + strings.Join(clip(extra), " ") + "; nm only " + strings.Join(clip(missing), " ")
}
