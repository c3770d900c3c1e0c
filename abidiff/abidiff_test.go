package abidiff_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/hitch-hpc/hitch/abidiff"
	"github.com/hitch-hpc/hitch/dwarfabi"
	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

type manifest struct {
	Pair []struct {
		Name         string
		Exit         int
		Debug        *int
		Changes      []string
		DebugChanges []string `toml:"debug_changes"`
		Abidiff      struct{ Stripped, Debug int }
		Why          string
	}
	Compat []struct {
		Pair, App    string
		Exit         int
		Debug        *int
		Changes      []string
		DebugChanges []string `toml:"debug_changes"`
		Abicompat    struct{ Stripped, Debug int }
		Why          string
	}
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	var m manifest
	if _, err := toml.DecodeFile(filepath.Join(fixture.RepoRoot(), "testdata", "abi", "manifest.toml"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Pair) < 10 {
		t.Fatalf("manifest has %d pairs", len(m.Pair))
	}
	return m
}

func read(t *testing.T, path string) *elffacts.Facts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	facts, err := elffacts.Read(f, fi.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return facts
}

// TestCorpus: every pair of testdata/abi gets the verdict its manifest
// entry states — without debug info at the symbol level, with it at the
// symbol and type levels — and exactly the kinds of change it names.
func TestCorpus(t *testing.T) {
	dir := fixture.ABIPairs(t)
	for _, p := range readManifest(t).Pair {
		t.Run(p.Name, func(t *testing.T) {
			for _, suffix := range []string{".so", ".stripped.so"} {
				oldPath := filepath.Join(dir, p.Name, "old"+suffix)
				newPath := filepath.Join(dir, p.Name, "new"+suffix)
				of, nf := read(t, oldPath), read(t, newPath)
				r := abidiff.Diff(oldPath, of, newPath, nf)
				want, wantKinds := p.Exit, append([]string(nil), p.Changes...)
				if suffix == ".so" {
					ot, nt := types(t, oldPath), types(t, newPath)
					r.AddTypes(of, ot, nf, nt)
					if p.Debug != nil {
						want = *p.Debug
					}
					wantKinds = append(wantKinds, p.DebugChanges...)
				} else if _, err := dwarfOf(oldPath); !errors.Is(err, dwarfabi.ErrNoDWARF) {
					t.Fatalf("%s has debug info: %v", oldPath, err)
				}
				if r.Exit() != want {
					t.Errorf("%s: exit %d, want %d; changes:\n%s", suffix, r.Exit(), want, describe(r))
				}
				var kinds []string
				seen := map[string]bool{}
				for _, c := range r.Changes {
					if !seen[c.Kind] {
						seen[c.Kind] = true
						kinds = append(kinds, c.Kind)
					}
				}
				sort.Strings(kinds)
				sort.Strings(wantKinds)
				if strings.Join(kinds, " ") != strings.Join(wantKinds, " ") {
					t.Errorf("%s: kinds %v, want %v; changes:\n%s", suffix, kinds, wantKinds, describe(r))
				}
			}
		})
	}
}

func dwarfOf(path string) (*dwarfabi.Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return dwarfabi.Read(f)
}

func types(t *testing.T, path string) *dwarfabi.Info {
	t.Helper()
	info, err := dwarfOf(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return info
}

// TestAbidiffOnCorpus runs Debian's abidiff on the same pairs: where the
// manifest says it agrees with hitch it must, and where it says it
// differs the reason is written down. It holds the manifest's abidiff
// column to the real tool.
func TestAbidiffOnCorpus(t *testing.T) {
	if _, err := exec.LookPath("abidiff"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("abidiff is not installed (.ci/run installs abigail-tools)")
		}
		t.Skip("abidiff not installed (apt-get install abigail-tools)")
	}
	dir := fixture.ABIPairs(t)
	for _, p := range readManifest(t).Pair {
		for _, side := range []struct {
			suffix string
			want   int
		}{{".stripped.so", p.Abidiff.Stripped}, {".so", p.Abidiff.Debug}} {
			cmd := exec.Command("abidiff", filepath.Join(dir, p.Name, "old"+side.suffix), filepath.Join(dir, p.Name, "new"+side.suffix))
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); got != side.want {
				t.Errorf("%s%s: abidiff exits %d, the manifest says %d:\n%s", p.Name, side.suffix, got, side.want, out)
			}
		}
		debug := p.Exit
		if p.Debug != nil {
			debug = *p.Debug
		}
		if (p.Abidiff.Stripped != p.Exit || p.Abidiff.Debug != debug) && p.Why == "" {
			t.Errorf("%s: abidiff (%d) and hitch (%d) differ without a reason in the manifest", p.Name, p.Abidiff.Stripped, p.Exit)
		}
	}
}

// TestCompat: programs built against a pair's old library, judged on its
// new one by what they use — the manifest's verdict for each — and
// abicompat run on the same files as the manifest says.
func TestCompat(t *testing.T) {
	dir := fixture.ABIPairs(t)
	m := readManifest(t)
	if len(m.Compat) < 6 {
		t.Fatalf("%d compat cases", len(m.Compat))
	}
	_, haveAbicompat := exec.LookPath("abicompat")
	for _, c := range m.Compat {
		app := filepath.Join(dir, c.Pair, c.App)
		for _, suffix := range []string{".so", ".stripped.so"} {
			oldPath, newPath := filepath.Join(dir, c.Pair, "old"+suffix), filepath.Join(dir, c.Pair, "new"+suffix)
			appFacts, oldFacts := read(t, app), read(t, oldPath)
			r := abidiff.Compat(app, appFacts, oldPath, oldFacts, newPath, read(t, newPath))
			wantExit, want := c.Exit, append([]string(nil), c.Changes...)
			if suffix == ".so" {
				// With debug info on both sides, the types of what the
				// program uses too.
				oi, err := dwarfOf(oldPath)
				if err != nil {
					t.Fatal(err)
				}
				ni, err := dwarfOf(newPath)
				if err != nil {
					t.Fatal(err)
				}
				r.AddUsedTypes(appFacts, oldFacts, oi, ni)
				if c.Debug != nil {
					wantExit = *c.Debug
				}
				if c.DebugChanges != nil {
					want = append([]string(nil), c.DebugChanges...)
				}
			}
			var kinds []string
			seen := map[string]bool{}
			for _, ch := range r.Changes {
				if !seen[ch.Kind] {
					seen[ch.Kind] = true
					kinds = append(kinds, ch.Kind)
				}
			}
			sort.Strings(kinds)
			sort.Strings(want)
			if r.Exit() != wantExit || strings.Join(kinds, " ") != strings.Join(want, " ") {
				t.Errorf("%s %s%s: exit %d kinds %v, want %d %v:\n%s", c.Pair, c.App, suffix, r.Exit(), kinds, wantExit, want, describe(r))
			}
			if haveAbicompat != nil {
				continue
			}
			cmd := exec.Command("abicompat", app, oldPath, newPath)
			cmd.Run()
			wantAbi := c.Abicompat.Debug
			if suffix == ".stripped.so" {
				wantAbi = c.Abicompat.Stripped
			}
			if got := cmd.ProcessState.ExitCode(); got != wantAbi {
				t.Errorf("%s %s%s: abicompat exits %d, the manifest says %d", c.Pair, c.App, suffix, got, wantAbi)
			}
		}
		debug := c.Exit
		if c.Debug != nil {
			debug = *c.Debug
		}
		if (c.Abicompat.Stripped != c.Exit || c.Abicompat.Debug != debug) && c.Why == "" {
			t.Errorf("%s %s: abicompat and hitch differ without a reason", c.Pair, c.App)
		}
	}
	if haveAbicompat != nil && os.Getenv("CI") != "" {
		t.Error("abicompat is not installed (.ci/run installs abigail-tools)")
	}
}

func describe(r *abidiff.Report) string {
	var b strings.Builder
	for _, c := range r.Changes {
		b.WriteString("  " + c.Kind + ": " + c.Message + "\n")
	}
	return b.String()
}

// TestSuppressions: rules leave changes out and the verdict follows;
// a bad rule is an error naming the file and line.
func TestSuppressions(t *testing.T) {
	dir := fixture.ABIPairs(t)
	diff := func(pair, rules string) *abidiff.Report {
		t.Helper()
		var s abidiff.Suppressions
		if err := s.Parse("rules", strings.NewReader(rules)); err != nil {
			t.Fatal(err)
		}
		o, n := filepath.Join(dir, pair, "old.so"), filepath.Join(dir, pair, "new.so")
		r := abidiff.Diff(o, read(t, o), n, read(t, n))
		s.Apply(r)
		return r
	}
	for _, c := range []struct {
		pair, rules      string
		exit, suppressed int
	}{
		{"version-removed", "", 12, 0},
		{"version-removed", "version PAIR_2  # not part of the ABI", 0, 2},
		{"version-removed", "symbol pair_g", 12, 1},
		{"removed", "symbol pair_?", 0, 1},
		{"needed-added", "kind needed-*", 0, 1},
		{"var-resized", "symbol pair_table@*\nsymbol pair_table", 0, 1},
	} {
		if r := diff(c.pair, c.rules); r.Exit() != c.exit || r.Suppressed != c.suppressed {
			t.Errorf("%s with %q: exit %d, %d suppressed; want %d, %d", c.pair, c.rules, r.Exit(), r.Suppressed, c.exit, c.suppressed)
		}
	}
	for rules, want := range map[string]string{
		"symbol":           "rules:1: want RULE PATTERN",
		"\n\nfunction foo": `rules:3: unknown rule "function"`,
		"function foo bar": "rules:1: want RULE PATTERN",
		"func foo":         `rules:1: unknown rule "func"`,
		"symbol [":         `rules:1: pattern "["`,
	} {
		var s abidiff.Suppressions
		if err := s.Parse("rules", strings.NewReader(rules)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", rules, err, want)
		}
	}
}
