package solve_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/solve"
)

func parse(t *testing.T, name, text string) *cudf.Document {
	t.Helper()
	doc, err := cudf.Parse(strings.NewReader(text), name)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// reference checks a solution with libCUDF's cudf-check and returns
// aspcud's objective on the same instance and criteria, or nil when the
// tools are missing (CI installs them).
func reference(t *testing.T, text string, sol []*cudf.Package, criteria []solve.Criterion) []int {
	t.Helper()
	if _, err := exec.LookPath("aspcud"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("aspcud not installed (.ci/run installs it)")
		}
		return nil
	}
	dir := t.TempDir()
	in, out, ours := filepath.Join(dir, "in.cudf"), filepath.Join(dir, "aspcud.sol"), filepath.Join(dir, "hitch.sol")
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cudf.WriteSolution(&buf, sol); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ours, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	check, _ := exec.Command("cudf-check", "-cudf", in, "-sol", ours).CombinedOutput()
	if sol != nil && !strings.Contains(string(check), "is_solution: true") {
		t.Errorf("cudf-check rejects hitch's solution:\n%s\n%s", check, buf.String())
	}
	cmd := exec.Command("aspcud", in, out, solve.FormatCriteria(criteria))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aspcud: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "FAIL") {
		return []int{-1}
	}
	asol, err := cudf.Parse(bytes.NewReader(b), "aspcud.sol")
	if err != nil {
		t.Fatalf("aspcud's answer: %v\n%s", err, b)
	}
	doc := parse(t, "in", text)
	obj, err := solve.Evaluate(doc, asol.Packages, criteria)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestCorner: the hand-written corner cases of the CUDF specification
// (self-conflict, several versions and an upgrade, virtual packages at
// a version, keep, names with digits and symbols, false!): a solution
// cudf-check accepts, at aspcud's paranoid optimum.
func TestCorner(t *testing.T) {
	b, err := os.ReadFile("../cudf/testdata/corner.cudf")
	if err != nil {
		t.Fatal(err)
	}
	doc := parse(t, "corner.cudf", string(b))
	res, err := solve.Solve(context.Background(), doc, solve.Options{Criteria: solve.Paranoid})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Installed {
		names = append(names, p.String())
	}
	t.Logf("installed %v, objective %v", names, res.Objective)
	for _, want := range []string{"needs-virtual 1", "0ad 1", "feature-provider 4"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("solution %v lacks %s", names, want)
		}
	}
	if ref := reference(t, string(b), res.Installed, solve.Paranoid); ref != nil && fmt.Sprint(ref) != fmt.Sprint(res.Objective) {
		t.Errorf("objective %v, aspcud's %v", res.Objective, ref)
	}
}

// TestUnsat: a request no installation satisfies is ErrUnsat.
func TestUnsat(t *testing.T) {
	for name, text := range map[string]string{
		"missing dependency": "package: a\nversion: 1\ndepends: b\n\nrequest: r\ninstall: a\n",
		"conflict":           "package: a\nversion: 1\nconflicts: b\n\npackage: b\nversion: 1\n\nrequest: r\ninstall: a, b\n",
		"keep and remove":    "package: a\nversion: 1\ninstalled: true\nkeep: version\n\nrequest: r\nremove: a\n",
		"unknown":            "package: a\nversion: 1\n\nrequest: r\ninstall: nosuch\n",
		"false!":             "package: a\nversion: 1\ndepends: false!\n\nrequest: r\ninstall: a\n",
	} {
		_, err := solve.Solve(context.Background(), parse(t, name, text), solve.Options{Criteria: solve.Paranoid})
		if !errors.Is(err, solve.ErrUnsat) {
			t.Errorf("%s: %v, want ErrUnsat", name, err)
		}
	}
	// Why, in a minimal set of statements.
	for _, c := range []struct {
		doc  string
		want []string
	}{
		{"package: a\nversion: 1\ndepends: b\n\nrequest: r\ninstall: a\n",
			[]string{"the request installs a", "a 1 depends on b (which no package is or provides)"}},
		{"package: a\nversion: 1\nconflicts: b\n\npackage: b\nversion: 1\n\npackage: c\nversion: 1\n\nrequest: r\ninstall: a, b, c\n",
			[]string{"the request installs a", "the request installs b", "a 1 conflicts with b"}},
		{"package: a\nversion: 1\ninstalled: true\nkeep: version\n\nrequest: r\nremove: a\n",
			[]string{"the request removes a", "a 1 must stay installed (keep: version)"}},
		{"package: a\nversion: 1\ndepends: b | c\n\npackage: b\nversion: 1\nconflicts: d\n\npackage: c\nversion: 1\ndepends: e\n\npackage: d\nversion: 1\n\npackage: f\nversion: 1\ndepends: d\n\nrequest: r\ninstall: a, f\n",
			[]string{"the request installs a", "the request installs f", "a 1 depends on b or c", "b 1 conflicts with d", "c 1 depends on e (which no package is or provides)", "f 1 depends on d"}},
		{"package: a\nversion: 1\ndepends: b >= 2\n\npackage: b\nversion: 1\nconflicts: b\n\npackage: b\nversion: 2\nconflicts: b\n\nrequest: r\ninstall: a, b = 1\n",
			[]string{"the request installs a", "the request installs b = 1", "a 1 depends on b >= 2", "only one version of b can be installed at a time"}},
	} {
		_, err := solve.Solve(context.Background(), parse(t, "why", c.doc), solve.Options{Criteria: solve.Paranoid})
		var ue *solve.UnsatError
		if !errors.As(err, &ue) || strings.Join(ue.Reasons, "; ") != strings.Join(c.want, "; ") {
			t.Errorf("explanation %v:\n got %q\nwant %q", err, ue, c.want)
		}
		t.Log(err)
	}
	// A package that conflicts with itself (and only with itself) is
	// installable: packup 0.6 says UNSAT here.
	doc := parse(t, "self", "package: a\nversion: 1\nconflicts: a\nprovides: a\n\nrequest: r\ninstall: a\n")
	if res, err := solve.Solve(context.Background(), doc, solve.Options{}); err != nil || len(res.Installed) != 1 {
		t.Errorf("self-conflict: %+v %v", res, err)
	}
}

// randomInstance writes a universe of n packages over names with up to
// three versions, random or-dependencies and conflicts, some installed,
// and a request to install and remove a few.
func randomInstance(r *rand.Rand, n int) string {
	var b strings.Builder
	b.WriteString("preamble: \nproperty: recommends: vpkgformula = [true!], size: int = [0]\n\n")
	names := n / 2
	version := map[int]int{}
	for i := 0; i < n; i++ {
		name := r.Intn(names)
		version[name]++
		fmt.Fprintf(&b, "package: p%d\nversion: %d\n", name, version[name])
		var deps []string
		for d := 0; d < r.Intn(3); d++ {
			alts := []string{}
			for a := 0; a <= r.Intn(2); a++ {
				dep := fmt.Sprintf("p%d", r.Intn(names))
				if r.Intn(3) == 0 {
					dep += fmt.Sprintf(" >= %d", 1+r.Intn(2))
				}
				alts = append(alts, dep)
			}
			deps = append(deps, strings.Join(alts, " | "))
		}
		if len(deps) > 0 {
			fmt.Fprintf(&b, "depends: %s\n", strings.Join(deps, ", "))
		}
		if r.Intn(4) == 0 {
			fmt.Fprintf(&b, "conflicts: p%d\n", r.Intn(names))
		}
		if r.Intn(3) == 0 {
			fmt.Fprintf(&b, "provides: v%d\n", r.Intn(3))
		}
		if r.Intn(3) == 0 {
			b.WriteString("installed: true\n")
		}
		if r.Intn(2) == 0 {
			fmt.Fprintf(&b, "size: %d\n", r.Intn(30)-5)
		}
		if r.Intn(3) == 0 {
			fmt.Fprintf(&b, "recommends: p%d | p%d, v%d\n", r.Intn(names), r.Intn(names), r.Intn(3))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "request: random\ninstall: p%d, v%d\nremove: p%d\n", r.Intn(names), r.Intn(3), r.Intn(names))
	return b.String()
}

// TestAgainstAspcud: random instances (or-dependencies, conflicts,
// virtual packages, several versions, recommendations); wherever aspcud
// finds a solution hitch does too, at the same optimum under paranoid,
// trendy and user criteria, cudf-check accepting each; where aspcud finds
// none, hitch says ErrUnsat.
func TestAgainstAspcud(t *testing.T) {
	if _, err := exec.LookPath("aspcud"); err != nil && os.Getenv("CI") == "" {
		t.Skip("aspcud not installed")
	}
	criteria := [][]solve.Criterion{solve.Paranoid, solve.Trendy, {solve.Removed, solve.Changed, solve.New}, {solve.New, solve.Removed},
		{solve.NotUpToDate, solve.Changed}, {solve.UnsatRecommends, solve.Removed}}
	againstAspcud(t, 42, 60, criteria)
}

// TestUserCriteria: MISC 2012's user criteria (count, sum, notuptodate
// and unsat_recommends over every set, minimized and maximized, sums of
// a property that may be negative) at aspcud's optimum on random
// instances.
func TestUserCriteria(t *testing.T) {
	if _, err := exec.LookPath("aspcud"); err != nil && os.Getenv("CI") == "" {
		t.Skip("aspcud not installed")
	}
	var criteria [][]solve.Criterion
	for _, s := range []string{
		"-sum(solution,size)",
		"+sum(solution,size),-count(changed)",
		"-count(down),-count(changed)",
		"+count(up),-count(removed),-count(changed)",
		"-removed,-notuptodate(changed),-count(new)",
		"-unsat_recommends(new),-removed,-changed",
		"-count(installrequest),-changed",
		"+count(request),-sum(changed,size),-changed",
		"-sum(removed,size),-count(new),-changed",
		"-notuptodate(up),+count(new)",
		"-sum(size),-count(upgraderequest)",
		"-removed,+unsat_recommends(solution),-changed",
	} {
		c, err := solve.ParseCriteria(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := solve.ParseCriteria(solve.FormatCriteria(c))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(c) || len(c) != strings.Count(s, "-")+strings.Count(s, "+") {
			t.Fatalf("%s read as %v, written as %s, read back as %v (%v)", s, c, solve.FormatCriteria(c), again, err)
		}
		criteria = append(criteria, c)
	}
	againstAspcud(t, 7, 72, criteria)
}

func againstAspcud(t *testing.T, seed int64, n int, criteria [][]solve.Criterion) {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	sat, unsat := 0, 0
	for i := 0; i < n; i++ {
		text := randomInstance(r, 12+r.Intn(30))
		if i%5 == 4 {
			// An upgrade request now and then.
			text = strings.Replace(text, "remove: ", fmt.Sprintf("upgrade: p%d\nremove: ", r.Intn(6)), 1)
		}
		crit := criteria[i%len(criteria)]
		doc := parse(t, "random", text)
		res, err := solve.Solve(context.Background(), doc, solve.Options{Criteria: crit})
		var sol []*cudf.Package
		if err == nil {
			sol = res.Installed
		} else if !errors.Is(err, solve.ErrUnsat) {
			t.Fatalf("instance %d: %v", i, err)
		}
		ref := reference(t, text, sol, crit)
		switch {
		case err != nil && fmt.Sprint(ref) != "[-1]":
			t.Errorf("instance %d: hitch says unsat, aspcud finds %v:\n%s", i, ref, text)
		case err == nil && fmt.Sprint(ref) != fmt.Sprint(res.Objective):
			t.Errorf("instance %d (%v): objective %v, aspcud's %v:\n%s", i, solve.FormatCriteria(crit), res.Objective, ref, text)
		case err == nil:
			sat++
		default:
			unsat++
		}
	}
	t.Logf("%d solved at aspcud's optimum, %d unsatisfiable for both", sat, unsat)
	if sat < n/6 {
		t.Errorf("only %d satisfiable instances: the generator says little", sat)
	}
}

// TestShuffledStanzas: the same answer whatever the order of the
// package stanzas in the document.
func TestShuffledStanzas(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	solved := 0
	for i := 0; i < 40; i++ {
		text := randomInstance(r, 20+r.Intn(30))
		crit := [][]solve.Criterion{solve.Paranoid, solve.Trendy}[i%2]
		want, werr := solve.Solve(context.Background(), parse(t, "random", text), solve.Options{Criteria: crit})
		stanzas := strings.Split(strings.TrimSpace(text), "\n\n")
		body := stanzas[1 : len(stanzas)-1] // the preamble first, the request last
		for k := 0; k < 3; k++ {
			r.Shuffle(len(body), func(a, b int) { body[a], body[b] = body[b], body[a] })
			shuffled := stanzas[0] + "\n\n" + strings.Join(body, "\n\n") + "\n\n" + stanzas[len(stanzas)-1] + "\n"
			got, err := solve.Solve(context.Background(), parse(t, "shuffled", shuffled), solve.Options{Criteria: crit})
			switch {
			case (err == nil) != (werr == nil):
				t.Fatalf("instance %d: %v, shuffled %v", i, werr, err)
			case err != nil && err.Error() != werr.Error():
				t.Errorf("instance %d: why %q, shuffled %q", i, werr, err)
			case err == nil && names(got) != names(want):
				t.Errorf("instance %d: %s, shuffled %s", i, names(want), names(got))
			}
		}
		if werr == nil {
			solved++
		}
	}
	if solved < 10 {
		t.Errorf("only %d of 40 instances solvable", solved)
	}
}

// TestChangedCountsVersions: -changed counts package versions, as aspcud
// (the reference) does: installing three new packages (three versions)
// beats moving two installed ones to new versions (four versions); mccs,
// counting names, takes the other.
func TestChangedCountsVersions(t *testing.T) {
	b, err := os.ReadFile("testdata/changed-versions.cudf")
	if err != nil {
		t.Fatal(err)
	}
	doc := parse(t, "changed-versions.cudf", string(b))
	res, err := solve.Solve(context.Background(), doc, solve.Options{Criteria: []solve.Criterion{solve.Changed}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Installed {
		got = append(got, p.String())
	}
	if strings.Join(got, ",") != "p 1,q 1,r 1,s 1,t 1" || res.Objective[0] != 3 {
		t.Errorf("installed %v, changed %v; want p 1, r 1 kept and q, s, t new (3)", got, res.Objective)
	}
	if ref := reference(t, string(b), res.Installed, []solve.Criterion{solve.Changed}); ref != nil && ref[0] != 3 {
		t.Errorf("aspcud's changed: %v", ref)
	}
}
