package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"pault.ag/go/debian/version"
)

// TestSolve: hitch solve as a CUDF solver — the solution on standard
// output or, called IN OUT CRITERIA, in OUT; FAIL and exit 1 without one;
// errors in the document with file, line and column.
func TestSolve(t *testing.T) {
	corner := filepath.Join("..", "..", "cudf", "testdata", "corner.cudf")
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"solve", corner}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	sol, err := cudf.Parse(bytes.NewReader(out.Bytes()), "solution")
	if err != nil || len(sol.Packages) == 0 || !strings.Contains(errOut.String(), "-count(removed),-count(changed) = [") {
		t.Fatalf("solution %v, %v:\n%s%s", sol, err, out.String(), errOut.String())
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "out.cudf")
	out.Reset()
	if code := cli.Main(t.Context(), []string{"solve", corner, file, "-removed,-notuptodate"}, &out, &errOut); code != cli.ExitOK || out.Len() != 0 {
		t.Fatalf("IN OUT CRITERIA: exit %d, stdout %q", code, out.String())
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "installed: true") {
		t.Fatalf("OUT: %v %q", err, b)
	}
	// MISC 2012 criteria as the third argument, a maximizing one first.
	errOut.Reset()
	if code := cli.Main(t.Context(), []string{"solve", corner, file, "+count(up),-count(removed),-sum(solution,version)"}, &out, &errOut); code != cli.ExitOK ||
		!strings.Contains(errOut.String(), "+count(up),-count(removed),-sum(solution,version) = [") {
		t.Fatalf("MISC 2012 criteria: exit %d: %s", code, errOut.String())
	}
	unsat := filepath.Join(dir, "unsat.cudf")
	os.WriteFile(unsat, []byte("package: a\nversion: 1\ndepends: b\n\nrequest: r\ninstall: a\n"), 0o644)
	out.Reset()
	if code := cli.Main(t.Context(), []string{"solve", unsat}, &out, &errOut); code != cli.ExitNo || out.String() != "FAIL\n" {
		t.Errorf("unsatisfiable: exit %d, %q", code, out.String())
	}
	bad := filepath.Join(dir, "bad.cudf")
	os.WriteFile(bad, []byte("package: a\nversion: x\n"), 0o644)
	errOut.Reset()
	if code := cli.Main(t.Context(), []string{"solve", bad}, &out, &errOut); code != cli.ExitUsage || !strings.Contains(errOut.String(), "bad.cudf:2:10: version: want an integer") {
		t.Errorf("bad document: exit %d: %s", code, errOut.String())
	}
	errOut.Reset()
	if code := cli.Main(t.Context(), []string{"solve", "--criteria", "fastest", corner}, &out, &errOut); code != cli.ExitUsage {
		t.Errorf("bad criteria: exit %d: %s", code, errOut.String())
	}
}

// TestSolveDeb: hitch solve --deb on Debian bookworm main and the test
// root's dpkg status: a readable plan that installs python3-scipy and
// removes nothing; hitch cudf from-deb writes the same problem as CUDF,
// which hitch solve reads back to the same objective.
func TestSolveDeb(t *testing.T) {
	index := fixture.DebIndex(t, "bookworm")
	status := filepath.Join(fixture.Rootfs(t, "bookworm"), "var/lib/dpkg/status")
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"solve", "--deb", index, "--status", status, "--install", "python3-scipy"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "  python3-scipy ") || !strings.Contains(out.String(), " to remove\n") || strings.Contains(out.String(), "remove (") {
		t.Errorf("plan:\n%s", out.String())
	}
	summary := errOut.String()
	out.Reset()
	errOut.Reset()
	if code := cli.Main(t.Context(), []string{"cudf", "from-deb", index, "--status", status, "--install", "python3-scipy"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("from-deb: exit %d: %s", code, errOut.String())
	}
	file := filepath.Join(t.TempDir(), "p.cudf")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"solve", file}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("solve the CUDF: exit %d: %s", code, errOut.String())
	}
	obj := func(s string) string {
		_, after, _ := strings.Cut(s, " = [")
		v, _, _ := strings.Cut(after, "]")
		return v
	}
	if obj(summary) == "" || obj(summary) != obj(errOut.String()) {
		t.Errorf("objective from Debian %q, from its CUDF %q", summary, errOut.String())
	}
	if code := cli.Main(t.Context(), []string{"solve", file, "--install", "x"}, &out, &errOut); code != cli.ExitUsage {
		t.Errorf("--install without --deb: exit %d", code)
	}
}

// aptReady skips unless apt can simulate installing openmpi-bin here
// (root, package lists).
func aptReady(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (apt's solver is run as root here)")
	}
	out, err := exec.Command("apt-cache", "policy", "openmpi-bin").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Candidate:") || strings.Contains(string(out), "Candidate: (none)") {
		t.Skipf("apt has no candidate for openmpi-bin (apt-get update?): %s", out)
	}
}

// buildSolver builds hitch into a directory of the test's own and makes
// a solvers directory beside it (for apt's or apt-cudf's solver files).
func buildSolver(t *testing.T) (bin, solvers string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "hitch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	solvers = filepath.Join(dir, "solvers")
	if err := os.MkdirAll(solvers, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, solvers
}

// edspDump is the EDSP scenario apt writes for a request (its dump
// solver).
func edspDump(t *testing.T, args ...string) []byte {
	t.Helper()
	dump := filepath.Join(t.TempDir(), "scenario.edsp")
	cmd := exec.Command("apt-get", append([]string{"-s", "-o", "APT::Solver::RunAsUser=root", "--solver", "dump"}, args...)...)
	cmd.Env = append(os.Environ(), "APT_EDSP_DUMP_FILENAME="+dump)
	cmd.Run() // the dump solver answers nothing: apt fails after dumping
	b, err := os.ReadFile(dump)
	if err != nil || !bytes.HasPrefix(b, []byte("Request: EDSP 0.5")) {
		t.Fatalf("no scenario dumped for %v: %v", args, err)
	}
	return b
}

// TestPeerAptCudfTrendy: apt-cudf, the bridge from apt to CUDF solvers,
// passes MISC's trendy criterion on as "-unsatrecommends(solution)",
// which aspcud rejects, so apt-cudf with aspcud answers trendy requests
// with an Error. hitch, registered as a CUDF solver of apt-cudf's
// (CUDFSOLVERS), reads the mangled name and answers.
func TestPeerAptCudfTrendy(t *testing.T) {
	aptReady(t)
	if _, err := exec.LookPath("apt-cudf"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("apt-cudf not installed (.ci/run installs it)")
		}
		t.Skip("apt-cudf not installed")
	}
	scenario := edspDump(t, "install", "openmpi-bin")
	bin, solvers := buildSolver(t)
	spec := "description: hitch\nexec: " + bin + " solve \"$in\" \"$out\" \"$pref\"\ncudf-version: 2.0\n"
	if err := os.WriteFile(filepath.Join(solvers, "hitch"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("/usr/share/cudf/solvers/aspcud"); err == nil {
		os.WriteFile(filepath.Join(solvers, "aspcud"), b, 0o644)
	}
	trendy := "-removed,-notuptodate,-unsat_recommends,-new"
	run := func(solver string) string {
		cmd := exec.Command("apt-cudf", "-s", solver, "-c", trendy)
		cmd.Stdin = bytes.NewReader(scenario)
		cmd.Env = append(os.Environ(), "CUDFSOLVERS="+solvers)
		out, _ := cmd.Output()
		return string(out)
	}
	if answer := run("aspcud"); strings.Contains(answer, "\nError: ") || strings.HasPrefix(answer, "Error: ") {
		_, msg, _ := strings.Cut(answer, "Message: ")
		t.Logf("apt-cudf with aspcud, as known: %.200s", msg)
	} else {
		t.Logf("apt-cudf with aspcud answers trendy now")
	}
	answer := run("hitch")
	if strings.Contains(answer, "Error: ") || !strings.Contains(answer, "Install: ") || !strings.Contains(answer, "\nPackage: openmpi-bin\n") {
		t.Errorf("apt-cudf with hitch:\n%.2000s", answer)
	}
}

// TestEDSP: a scenario apt dumps for "install openmpi-bin" (its dump
// solver), answered by hitch solve --edsp: Install stanzas naming APT's
// identifiers, openmpi-bin among them, no Remove; a scenario cut short
// is an Error stanza and exit 0, as the protocol wants.
func TestEDSP(t *testing.T) {
	aptReady(t)
	b := edspDump(t, "install", "openmpi-bin")
	var out, errOut bytes.Buffer
	if code := cli.MainInput(t.Context(), []string{"solve", "--edsp"}, bytes.NewReader(b), &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	answer := out.String()
	if !strings.Contains(answer, "Install: ") || !strings.Contains(answer, "\nPackage: openmpi-bin\n") || strings.Contains(answer, "Remove: ") || strings.Contains(answer, "Error: ") {
		t.Errorf("answer:\n%s", answer)
	}
	if !strings.HasPrefix(answer, "Progress: ") {
		t.Errorf("no progress stanza first:\n%.200s", answer)
	}
	out.Reset()
	if code := cli.MainInput(t.Context(), []string{"solve", "--edsp"}, bytes.NewReader(b[:len(b)/2]), &out, &errOut); code != cli.ExitOK || !strings.Contains(out.String(), "\nError: hitch\nMessage: ") {
		t.Errorf("a scenario cut short: exit %d:\n%s", code, out.String())
	}
	// Preferences (apt's APT::Solver::Preferences) choose the criteria:
	// paranoid installs no more than the dependencies need; one hitch
	// cannot read is an Error stanza.
	installs := func(answer string) int {
		return strings.Count(answer, "\nInstall: ") + strings.Count(answer[:min(len(answer), 9)], "Install: ")
	}
	withPrefs := func(p string) []byte {
		return bytes.Replace(b, []byte("Request: EDSP 0.5\n"), []byte("Request: EDSP 0.5\nPreferences: "+p+"\n"), 1)
	}
	out.Reset()
	cli.MainInput(t.Context(), []string{"solve", "--edsp"}, bytes.NewReader(withPrefs("paranoid")), &out, &errOut)
	if n, all := installs(out.String()), installs(answer); n == 0 || n > all || strings.Contains(out.String(), "Error: ") {
		t.Errorf("paranoid: %d installs, %d with recommendations:\n%.300s", n, all, out.String())
	}
	out.Reset()
	cli.MainInput(t.Context(), []string{"solve", "--edsp"}, bytes.NewReader(withPrefs("-count(nosuch)")), &out, &errOut)
	if !strings.Contains(out.String(), "\nError: hitch\nMessage: Preferences: ") {
		t.Errorf("bad Preferences:\n%.300s", out.String())
	}
}

// TestAptSolver: apt-get -s --solver hitch install openmpi-bin, with
// hitch as apt's external solver (the documented wrapper, in a solvers
// directory of the test's own): apt takes the answer, and hitch's actions
// are those of apt's own solver, recommendations of the newly installed
// packages included.
func TestAptSolver(t *testing.T) {
	aptReady(t)
	bin, solvers := buildSolver(t)
	if err := os.WriteFile(filepath.Join(solvers, "hitch"), []byte("#!/bin/sh\nexec "+bin+" solve --edsp\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	upgrades := map[string]bool{}
	actions := func(args ...string) []string {
		cmd := exec.Command("apt-get", append([]string{"-s", "-o", "Dir::Bin::Solvers::=" + solvers, "-o", "APT::Solver::RunAsUser=root"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("apt-get %v: %v\n%s", args, err, out)
		}
		var acts []string
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) > 1 && (f[0] == "Inst" || f[0] == "Remv") {
				acts = append(acts, f[0]+" "+f[1])
				// "Inst libevent-2.1-7 [2.1.12-stable-8] (…)": an upgrade.
				// apt's solver upgrades a sibling of a library it must
				// upgrade (the same source), which no criterion of
				// hitch's asks for.
				if len(f) > 2 && strings.HasPrefix(f[2], "[") {
					upgrades[f[0]+" "+f[1]] = true
				}
			}
		}
		return acts
	}
	hitch := actions("--solver", "hitch", "install", "openmpi-bin")
	internal := actions("install", "openmpi-bin")
	t.Logf("hitch %d actions, apt's own solver %d", len(hitch), len(internal))
	in := map[string]bool{}
	for _, a := range internal {
		in[a] = true
	}
	found := false
	for _, a := range hitch {
		found = found || a == "Inst openmpi-bin"
		if !in[a] {
			t.Errorf("hitch's %q is not what apt's solver does", a)
		}
	}
	if !found {
		t.Errorf("apt with hitch does not install openmpi-bin: %v", hitch)
	}
	// And the other way round: with the recommendations of what it
	// installs met, as apt's solver does by default, the same actions.
	ours := map[string]bool{}
	for _, a := range hitch {
		ours[a] = true
	}
	for _, a := range internal {
		if !ours[a] && !upgrades[a] {
			t.Errorf("apt's solver does %q, hitch does not", a)
		}
	}
}

// TestDistcheck: hitch distcheck on bookworm main: exit 1, the broken
// packages with a reason each (a missing dependency for thunderbird's
// extensions, with Debian's versions), a dose-shaped YAML and JSON.
func TestDistcheck(t *testing.T) {
	index := fixture.DebIndex(t, "bookworm")
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"distcheck", index}, &out, &errOut); code != cli.ExitNo {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"webext-tbsync ", "depends on thunderbird (<= 1:", "which no package satisfies", " broken ("} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	cli.Main(t.Context(), []string{"distcheck", "--format", "yaml", index}, &out, &errOut)
	if y := out.String(); !strings.HasPrefix(y, "output-version: 1.2\nnative-architecture: amd64\nreport:\n -\n  package: ") || !strings.Contains(y, "      unsat-dependency: ") {
		t.Errorf("yaml:\n%.600s", y)
	}
	out.Reset()
	cli.Main(t.Context(), []string{"distcheck", "--format", "json", index}, &out, &errOut)
	var doc struct {
		Packages int
		Broken   []struct{ Package string }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Packages < 50000 || len(doc.Broken) == 0 {
		t.Errorf("json: %v %+v", err, doc)
	}
}

// TestSolveSuites: bookworm and trixie read together, the bookworm test
// root installed. A request for trixie's openmpi-bin ("openmpi-bin/trixie")
// gets trixie's version; with bookworm's libc6 asked for as well
// ("libc6=VERSION") it cannot be, and the explanation says why in
// Debian's terms; a suite no index holds is a usage error. A removal is
// done (libfabric1 and what needs it) or refused aloud (perl-base,
// essential), never dropped.
func TestSolveSuites(t *testing.T) {
	bookworm, trixie := fixture.DebIndex(t, "bookworm"), fixture.DebIndex(t, "trixie")
	status := filepath.Join(fixture.Rootfs(t, "bookworm"), "var/lib/dpkg/status")
	newest := func(index, name string) string {
		u := debrepo.New("amd64")
		r, err := debrepo.Open(index)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := u.ReadPackages(r, index); err != nil {
			t.Fatal(err)
		}
		var best *debrepo.Package
		for _, p := range u.Packages {
			if p.Name == name && (best == nil || version.Compare(p.Version, best.Version) > 0) {
				best = p
			}
		}
		if best == nil {
			t.Fatalf("no %s in %s", name, index)
		}
		return best.Version.String()
	}
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		argv := append([]string{"solve", "--deb", "--status", status}, args...)
		argv = append(argv, "bookworm="+bookworm, "trixie="+trixie)
		code := cli.Main(t.Context(), argv, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	ompi := newest(trixie, "openmpi-bin")
	code, plan, errs := run("--install", "openmpi-bin/trixie")
	if code != cli.ExitOK || !strings.Contains(plan, "openmpi-bin 4.") || !strings.Contains(plan, "→ "+ompi) {
		t.Errorf("openmpi-bin/trixie (%s): exit %d\n%s%s", ompi, code, plan, errs)
	}
	var libc6 string
	b, err := os.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range strings.Split(string(b), "\n\n") {
		if strings.HasPrefix(st, "Package: libc6\n") {
			_, rest, _ := strings.Cut(st, "\nVersion: ")
			libc6, _, _ = strings.Cut(rest, "\n")
		}
	}
	code, plan, errs = run("--install", "openmpi-bin/trixie", "--install", "libc6="+libc6)
	for _, want := range []string{"the request installs openmpi-bin (= " + ompi + ")", "the request installs libc6 (= " + libc6 + ")",
		"openmpi-bin " + ompi + " depends on libc6 (>= ", "only one version of libc6 can be installed at a time"} {
		if code != cli.ExitNo || !strings.Contains(errs, want) {
			t.Errorf("openmpi-bin/trixie with libc6=%s: exit %d, want %q:\n%s%s", libc6, code, want, plan, errs)
		}
	}
	if strings.Contains(errs, "not narrowed down") {
		t.Errorf("explanation not minimal: %s", errs)
	}
	if code, _, errs = run("--install", "openmpi-bin/sid"); code != cli.ExitUsage || !strings.Contains(errs, `no index of suite "sid"`) {
		t.Errorf("openmpi-bin/sid: exit %d: %s", code, errs)
	}
	code, plan, errs = run("--remove", "libfabric1")
	if code != cli.ExitOK || !strings.Contains(plan, "remove (") || !strings.Contains(plan, "  libfabric1 ") || !strings.Contains(plan, "  openmpi-bin ") {
		t.Errorf("remove libfabric1: exit %d\n%s%s", code, plan, errs)
	}
	code, plan, errs = run("--remove", "perl-base")
	if code != cli.ExitNo || !strings.Contains(plan, "FAIL") || !strings.Contains(errs, "the request removes perl-base") {
		t.Errorf("remove perl-base: exit %d\n%s%s", code, plan, errs)
	}
}

// TestCudfCheck: hitch cudf check measures answers to one problem: a
// solution with its objective, an answer that breaks a dependency and
// the request (with the statements it breaks), FAIL; exit 1 unless all
// are solutions.
func TestCudfCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	problem := write("p.cudf", "package: a\nversion: 1\ndepends: b\n\npackage: b\nversion: 1\n\npackage: c\nversion: 1\ninstalled: true\n\nrequest: r\ninstall: a\n")
	good := write("good.sol", "package: a\nversion: 1\ninstalled: true\n\npackage: b\nversion: 1\ninstalled: true\n\npackage: c\nversion: 1\ninstalled: true\n")
	bad := write("bad.sol", "package: b\nversion: 1\ninstalled: true\n\npackage: a\nversion: 2\ninstalled: true\n")
	fail := write("fail.sol", "FAIL\n")
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"cudf", "check", problem, good}, &out, &errOut); code != cli.ExitOK ||
		!strings.Contains(out.String(), "good.sol: a solution, 3 installed; -count(removed),-count(changed) = [0 2]") {
		t.Errorf("good: exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	code := cli.Main(t.Context(), []string{"cudf", "check", "--criteria", "-count(new)", problem, good, bad, fail}, &out, &errOut)
	for _, want := range []string{"good.sol: a solution, 3 installed; -count(new) = [2]", "bad.sol: not a solution", "  a 2 is not in the universe", "  the request installs a", "fail.sol: FAIL"} {
		if code != cli.ExitNo || !strings.Contains(out.String(), want) {
			t.Errorf("exit %d, want %q:\n%s", code, want, out.String())
		}
	}
	if strings.Contains(out.String(), "c 1 ") {
		t.Errorf("c's removal is no broken statement:\n%s", out.String())
	}
}

// aptRoot is an apt of the test's own: the bookworm test root's dpkg
// status, suite's lists (main) fetched from the mirror for the
// architectures given (the first native); it returns apt-get's options.
func aptRoot(t *testing.T, suite string, archs ...string) []string {
	t.Helper()
	aptReady(t)
	if os.Getenv("HITCH_NO_MIRROR") != "" {
		t.Skip("HITCH_NO_MIRROR set")
	}
	root := t.TempDir()
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	status, err := os.ReadFile(filepath.Join(fixture.Rootfs(t, "bookworm"), "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), status, 0o644)
	// apt's marks of what it installed as a dependency.
	if marks, err := os.ReadFile(filepath.Join(fixture.Rootfs(t, "bookworm"), "var/lib/apt/extended_states")); err == nil {
		os.WriteFile(filepath.Join(root, "var/lib/apt/extended_states"), marks, 0o644)
	}
	mirror := os.Getenv("HITCH_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "+mirror+" "+suite+" main\n"), 0o644)
	base := []string{"-o", "Dir=" + root, "-o", "Dir::State::status=" + filepath.Join(root, "var/lib/dpkg/status"),
		"-o", "Debug::NoLocking=1", "-o", "APT::Architecture=" + archs[0], "-o", "APT::Solver::RunAsUser=root"}
	for _, a := range archs {
		base = append(base, "-o", "APT::Architectures::="+a)
	}
	if out, err := exec.Command("apt-get", append(base, "update")...).CombinedOutput(); err != nil {
		t.Fatalf("apt-get update (%s %v): %v\n%s", suite, archs, err, out)
	}
	return base
}

// TestMultiArch: apt with amd64 and i386 (bookworm), the test root
// installed; for requests across the two architectures (libraries of
// i386 beside amd64's, Multi-Arch: same at one version, foreign tools
// serving both, gcc-multilib) hitch's answer, through apt, is apt's own.
func TestMultiArch(t *testing.T) {
	base := aptRoot(t, "bookworm", "amd64", "i386")
	bin, solvers := buildSolver(t)
	os.WriteFile(filepath.Join(solvers, "hitch"), []byte("#!/bin/sh\nexec "+bin+" solve --edsp\n"), 0o755)
	actions := func(args ...string) string {
		out, err := exec.Command("apt-get", append(append(base, "-s"), args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("apt-get %v: %v\n%.2000s", args, err, out)
		}
		var acts []string
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) > 1 && (f[0] == "Inst" || f[0] == "Remv") {
				acts = append(acts, f[0]+" "+f[1])
			}
		}
		sort.Strings(acts)
		return strings.Join(acts, "\n")
	}
	for _, req := range [][]string{{"libstdc++6:i386"}, {"zlib1g-dev:i386"}, {"libc6-dev:i386", "libx11-6:i386"}, {"python3:i386"}, {"gcc-multilib"}} {
		apt := actions(append([]string{"install"}, req...)...)
		ours := actions(append([]string{"-o", "Dir::Bin::Solvers::=" + solvers, "--solver", "hitch", "install"}, req...)...)
		if apt != ours || strings.Contains(req[0], ":i386") && !strings.Contains(ours, ":i386") {
			t.Errorf("install %v:\napt's solver:\n%s\nhitch:\n%s", req, apt, ours)
		}
	}
}

// TestPeerAptCudfDistUpgrade: the bookworm test root's installed set
// dist-upgraded to trixie (apt in a directory of the test's own, trixie's
// lists fetched from the mirror). apt-cudf, the bridge to every CUDF
// solver, answers with aspcud that there is no solution ("UNSAT"), an
// artefact of its encoding; hitch, reading EDSP itself, answers what
// apt's own solver does, action for action.
func TestPeerAptCudfDistUpgrade(t *testing.T) {
	base := aptRoot(t, "trixie", "amd64")
	dump := filepath.Join(t.TempDir(), "dist-upgrade.edsp")
	cmd := exec.Command("apt-get", append(base, "-s", "--solver", "dump", "dist-upgrade")...)
	cmd.Env = append(os.Environ(), "APT_EDSP_DUMP_FILENAME="+dump)
	cmd.Run()
	scenario, err := os.ReadFile(dump)
	if err != nil || !bytes.Contains(scenario, []byte("\nDist-Upgrade: yes\n")) {
		t.Fatalf("no dist-upgrade scenario: %v", err)
	}
	if _, err := exec.LookPath("apt-cudf"); err == nil {
		c := exec.Command("apt-cudf", "-s", "aspcud")
		c.Stdin = bytes.NewReader(scenario)
		out, _ := c.Output()
		if bytes.Contains(out, []byte("Error: ")) {
			_, msg, _ := strings.Cut(string(out), "Message: ")
			t.Logf("apt-cudf with aspcud, as known: %.120s", msg)
		} else {
			t.Logf("apt-cudf with aspcud answers this dist-upgrade now")
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("apt-cudf not installed (.ci/run installs it)")
	}
	bin, solvers := buildSolver(t)
	os.WriteFile(filepath.Join(solvers, "hitch"), []byte("#!/bin/sh\nexec "+bin+" solve --edsp\n"), 0o755)
	acts := func(out []byte) string {
		var a []string
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) > 1 && (f[0] == "Inst" || f[0] == "Remv") {
				a = append(a, f[0]+" "+f[1])
			}
		}
		sort.Strings(a)
		return strings.Join(a, "\n")
	}
	out, err := exec.Command("apt-get", append(base, "-s", "-o", "Dir::Bin::Solvers::="+solvers, "--solver", "hitch", "dist-upgrade")...).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get --solver hitch dist-upgrade: %v\n%.2000s", err, out)
	}
	own, err := exec.Command("apt-get", append(base, "-s", "dist-upgrade")...).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get dist-upgrade: %v\n%.2000s", err, own)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, " upgraded, ") {
			t.Log(l)
		}
	}
	// What apt does: every package up to date, those installed as
	// dependencies and replaced by their successors (the t64 libraries)
	// removed, nothing asked for removed.
	if a, b := acts(own), acts(out); a != b || !strings.Contains(b, "Remv ") || bytes.Contains(out, []byte("\nE: ")) {
		t.Errorf("apt's dist-upgrade:\n%s\nhitch's:\n%s", a, b)
	}
}
