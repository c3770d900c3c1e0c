package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/internal/fixture"
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
	if err != nil || len(sol.Packages) == 0 || !strings.Contains(errOut.String(), "[removed changed] = [") {
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
		_, after, _ := strings.Cut(s, "] = [")
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
