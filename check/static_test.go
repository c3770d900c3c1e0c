package check_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// Programs with their MPI linked in (here a stand-in: a program that
// defines MPI_Init and PMPI_Init itself, built static and dynamic; no
// Debian suite ships the static libraries a real static MPI program
// needs) are told apart from the image's MPI programs under an MPI plan:
// the host's MPI cannot be swapped in under them. A stripped one has no
// symbol table to say so, and is not flagged.
func TestStaticInterface(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "app.c")
	if err := os.WriteFile(src, []byte("int PMPI_Init(int *c, char ***v) { return c == 0 && v == 0 ? 0 : 1; }\n"+
		"int MPI_Init(int *c, char ***v) { return PMPI_Init(c, v); }\n"+
		"int main(void) { return MPI_Init(0, 0); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]string{
		{"-static", "-o", filepath.Join(dir, "static")},
		{"-o", filepath.Join(dir, "dynamic")},
		{"-s", "-o", filepath.Join(dir, "stripped")},
	} {
		if out, err := exec.Command("gcc", append(b, src)...).CombinedOutput(); err != nil {
			t.Skipf("gcc %v: %v: %s", b, err, out)
		}
	}
	root := fixture.Rootfs(t, "bookworm")
	var binds []rootfs.Bind
	for _, n := range []string{"static", "dynamic", "stripped"} {
		binds = append(binds, rootfs.Bind{Src: filepath.Join(dir, n), Dst: "/opt/app/" + n})
	}
	image := withBinds(t, root, binds...)
	host := withBinds(t, root)
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Make(context.Background(), image, host, set, "mpi", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	merged, opts, err := check.WithPlan(image, p, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	got := map[string]check.Verdict{}
	paths := []string{"/opt/app/static", "/opt/app/dynamic", "/opt/app/stripped", "/opt/hitch/hello_mpich"}
	if _, err := check.Run(context.Background(), merged, paths, opts, func(v check.Verdict) error { got[v.Path] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		v := got[p]
		static := false
		for _, r := range v.Reasons {
			if r.Kind == "static-interface" {
				static = true
				if !strings.Contains(r.Message, "defines MPI_Init itself") && !strings.Contains(r.Message, "defines PMPI_Init itself") {
					t.Errorf("%s: %s", p, r.Message)
				}
			}
		}
		want := p == "/opt/app/static" || p == "/opt/app/dynamic"
		if static != want || (want && v.Status != check.Warning) {
			t.Errorf("%s: %s %+v; static-interface %v, want %v", p, v.Status, v.Reasons, static, want)
		}
		t.Logf("%s: %s %v", p, v.Status, v.Fixes)
	}
}
