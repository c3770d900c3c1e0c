package debrepo_test

import (
	"bytes"
	"context"
	"github.com/pierrec/lz4/v4"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/solve"
)

const packages = `Package: app
Version: 1:2.0~rc1-1
Architecture: amd64
Depends: libfoo (>= 1.10), libbar:any | libbaz (<< 3)
Pre-Depends: dpkg (>= 1.17)
Breaks: old-app (<< 1:1.0)
Recommends: app-doc
Description: an application
 over two lines

Package: libfoo
Version: 1.9
Architecture: amd64

Package: libfoo
Version: 1.10
Architecture: amd64
Provides: libfoo-abi-1 (= 1.10), libfoo-any

Package: libfoo
Version: 1.10
Architecture: arm64

Package: dpkg
Version: 1.21.22
Architecture: amd64
Essential: yes

Package: libbaz
Version: 2.99
Architecture: all

Package: app-doc
Version: 1:2.0~rc1-1
Architecture: all
`

const status = `Package: dpkg
Status: install ok installed
Version: 1.21.22
Architecture: amd64
Essential: yes

Package: local-only
Status: install ok installed
Version: 0.1
Architecture: amd64

Package: gone
Status: deinstall ok config-files
Version: 1
Architecture: amd64
`

// TestSmall: a hand-written index and status: versions ranked as dpkg
// orders them (1.9 < 1.10, epochs, ~), relations as CUDF, Breaks as
// conflicts, versioned provides, the other architecture left out, the
// installed and essential ones marked, config-files-only ones not.
func TestSmall(t *testing.T) {
	u := debrepo.New("amd64")
	if err := u.ReadPackages(strings.NewReader(packages), "Packages"); err != nil {
		t.Fatal(err)
	}
	if err := u.ReadStatus(strings.NewReader(status), "status"); err != nil {
		t.Fatal(err)
	}
	doc, err := u.CUDF(debrepo.Request{Install: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cudf.Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"package: libfoo\nversion: 1\n", // 1.9
		"package: libfoo\nversion: 2\nconflicts: libfoo\nprovides: --provided-libfoo-abi-1 = 1, --virtual-libfoo-any\n", // 1.10; provisions under names of their own; one version at a time
		"depends: dpkg >= 1, libfoo >= 2, libbar | libbaz < 2\n",
		"conflicts: old-app < 1, app\n",
		"package: dpkg\nversion: 2\nconflicts: dpkg\ninstalled: true\nkeep: package\n", // 1.17 (a constraint) is 1
		"package: local-only\nversion: 1\nconflicts: local-only\ninstalled: true\n",
		"recommends: app-doc\n",
		"number: 1:2.0~rc1-1\n",
		"install: app\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("CUDF lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "package: gone") || strings.Count(text, "package: libfoo\n") != 2 {
		t.Errorf("config-files-only or other-architecture packages written:\n%s", text)
	}
	res, err := solve.Solve(context.Background(), doc, solve.Options{Criteria: solve.Paranoid})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(debrepo.Names(doc, res.Installed), " ")
	for _, want := range []string{"app=1:2.0~rc1-1", "libfoo=1.10", "libbaz=2.99", "dpkg=1.21.22"} {
		if !strings.Contains(got, want) {
			t.Errorf("solution %s lacks %s", got, want)
		}
	}
}

// TestBookworm: Debian bookworm main (amd64) with the bookworm test
// root's dpkg status, and a request to install python3-scipy: the CUDF
// hitch writes is what libCUDF reads, with the installed set consistent;
// hitch's answer is a solution by cudf-check, at aspcud's paranoid
// optimum.
func TestBookworm(t *testing.T) {
	index := fixture.DebIndex(t, "bookworm")
	root := fixture.Rootfs(t, "bookworm")
	u := debrepo.New("amd64")
	r, err := debrepo.Open(index)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := u.ReadPackages(r, index); err != nil {
		t.Fatal(err)
	}
	r.Close()
	sf, err := os.Open(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.ReadStatus(sf, "status"); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	doc, err := u.CUDF(debrepo.Request{Install: []string{"python3-scipy"}})
	if err != nil {
		t.Fatal(err)
	}
	installed := 0
	for _, p := range doc.Packages {
		if p.Installed {
			installed++
		}
	}
	t.Logf("%d packages (%d installed), read in %v", len(doc.Packages), installed, time.Since(start))
	if len(doc.Packages) < 50000 || installed < 100 {
		t.Fatalf("%d packages, %d installed: not a Debian universe", len(doc.Packages), installed)
	}
	start = time.Now()
	res, err := solve.Solve(context.Background(), doc, solve.Options{Criteria: solve.Paranoid})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("solved in %v: %d installed, objective %v, %d variables", time.Since(start), len(res.Installed), res.Objective, res.Vars)
	found := false
	for _, n := range debrepo.Names(doc, res.Installed) {
		found = found || strings.HasPrefix(n, "python3-scipy=")
	}
	if !found {
		t.Error("python3-scipy is not in the solution")
	}
	// The slice (Request.Slice) gives the same answer, from fewer
	// packages.
	sliced, err := u.CUDF(debrepo.Request{Install: []string{"python3-scipy"}, Slice: true})
	if err != nil {
		t.Fatal(err)
	}
	fromSlice, err := solve.Solve(context.Background(), sliced, solve.Options{Criteria: solve.Paranoid})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(debrepo.Names(doc, res.Installed), " "), strings.Join(debrepo.Names(sliced, fromSlice.Installed), " "); a != b || len(sliced.Packages) >= len(doc.Packages) {
		t.Errorf("the slice of %d packages (of %d) answers otherwise:\n%s\n%s", len(sliced.Packages), len(doc.Packages), a, b)
	}
	t.Logf("sliced: %d packages of %d", len(sliced.Packages), len(doc.Packages))
	// The same answer whatever the order of the stanzas.
	shuffled := *doc
	shuffled.Packages = append([]*cudf.Package(nil), doc.Packages...)
	rand.New(rand.NewSource(1)).Shuffle(len(shuffled.Packages), func(i, j int) {
		shuffled.Packages[i], shuffled.Packages[j] = shuffled.Packages[j], shuffled.Packages[i]
	})
	again, err := solve.Solve(context.Background(), &shuffled, solve.Options{Criteria: solve.Paranoid})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(debrepo.Names(doc, res.Installed), " "), strings.Join(debrepo.Names(doc, again.Installed), " "); a != b {
		t.Errorf("shuffled stanzas, another answer:\n%s\n%s", a, b)
	}
	if _, err := exec.LookPath("aspcud"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("aspcud not installed")
		}
		return
	}
	dir := t.TempDir()
	in, ours, theirs := filepath.Join(dir, "in.cudf"), filepath.Join(dir, "hitch.sol"), filepath.Join(dir, "aspcud.sol")
	var buf bytes.Buffer
	if err := cudf.Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, buf.Bytes(), 0o644)
	buf.Reset()
	cudf.WriteSolution(&buf, res.Installed)
	os.WriteFile(ours, buf.Bytes(), 0o644)
	out, _ := exec.Command("cudf-check", "-cudf", in, "-sol", ours).CombinedOutput()
	if !strings.Contains(string(out), "is_solution: true") {
		t.Errorf("cudf-check:\n%s", out)
	}
	// The test root's own installation is consistent, as dpkg left it:
	// it is, once unversioned Provides are told from versioned ones
	// (perl-base Breaks perl-modules (<< …), which perl provides
	// unversioned).
	if !strings.Contains(string(out), "original installation status consistent") {
		t.Errorf("the installed set is inconsistent in hitch's CUDF:\n%s", out)
	}
	if b, err := exec.Command("aspcud", in, theirs, "-removed,-changed").CombinedOutput(); err != nil {
		t.Fatalf("aspcud: %v: %s", err, b)
	}
	af, err := os.Open(theirs)
	if err != nil {
		t.Fatal(err)
	}
	asol, err := cudf.Parse(af, theirs)
	af.Close()
	if err != nil {
		t.Fatal(err)
	}
	obj, err := solve.Evaluate(doc, asol.Packages, solve.Paranoid)
	if err != nil {
		t.Fatal(err)
	}
	if obj[0] != res.Objective[0] || obj[1] != res.Objective[1] {
		t.Errorf("objective %v, aspcud's %v", res.Objective, obj)
	}
}

// TestMultiArch: a universe of amd64 and i386 (Multi-Arch as dpkg has
// it), solved: a foreign tool serves both architectures, a library of
// the other architecture does not; Multi-Arch: same installs in both at
// one version; :any takes an allowed package; conflicts bind both; the
// index may be lz4-compressed, as apt keeps its lists.
func TestMultiArch(t *testing.T) {
	const index = `Package: tool
Version: 1
Architecture: i386
Multi-Arch: foreign

Package: libx
Version: 1
Architecture: amd64
Multi-Arch: same

Package: libx
Version: 1
Architecture: i386
Multi-Arch: same

Package: libx
Version: 2
Architecture: i386
Multi-Arch: same

Package: libonly32
Version: 1
Architecture: i386

Package: py
Version: 1
Architecture: i386
Multi-Arch: allowed

Package: needs-tool
Version: 1
Architecture: amd64
Depends: tool

Package: needs-lib32
Version: 1
Architecture: amd64
Depends: libonly32

Package: needs-py
Version: 1
Architecture: amd64
Depends: py:any

Package: enemy
Version: 1
Architecture: amd64
Conflicts: libonly32
`
	var buf bytes.Buffer
	zw := lz4.NewWriter(&buf)
	zw.Write([]byte(index))
	zw.Close()
	path := filepath.Join(t.TempDir(), "Packages.lz4")
	os.WriteFile(path, buf.Bytes(), 0o644)
	solveFor := func(install ...string) (string, error) {
		u := debrepo.New("amd64")
		u.Foreign = []string{"i386"}
		r, err := debrepo.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := u.ReadPackages(r, path); err != nil {
			t.Fatal(err)
		}
		doc, err := u.CUDF(debrepo.Request{Install: install})
		if err != nil {
			t.Fatal(err)
		}
		res, err := solve.Solve(context.Background(), doc, solve.Options{Criteria: solve.Paranoid, Terms: u})
		if err != nil {
			return "", err
		}
		names := debrepo.Names(doc, res.Installed)
		sort.Strings(names)
		return strings.Join(names, " "), nil
	}
	for _, c := range []struct {
		install []string
		want    string // "" for no solution
	}{
		{[]string{"needs-tool"}, "needs-tool=1 tool:i386=1"},
		{[]string{"needs-lib32"}, ""},
		{[]string{"needs-py"}, "needs-py=1 py:i386=1"},
		{[]string{"libx", "libx:i386"}, "libx:i386=1 libx=1"},
		{[]string{"libx", "libx:i386 (= 2)"}, ""},
		{[]string{"enemy", "libonly32:i386"}, ""},
	} {
		got, err := solveFor(c.install...)
		if c.want == "" && err == nil || c.want != "" && got != c.want {
			t.Errorf("install %v: %q (%v), want %q", c.install, got, err, c.want)
		}
	}
}
