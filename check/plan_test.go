package check_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// TestPlanMatrix: for every container and host release and both MPI
// families, hitch plans the binds itself (both strategies), predicts
// whether the image's MPI program loads and binds with them, and the real
// loader, under a mount namespace with exactly those binds and that
// environment, says the same.
func TestPlanMatrix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed")
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, m := range mpiLibs {
		for _, c := range fixture.Suites {
			croot := fixture.Rootfs(t, c)
			img, err := rootfs.Dir(croot)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range fixture.Suites {
				host, err := rootfs.Dir(fixture.Rootfs(t, h))
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range []plan.Strategy{plan.Replace, plan.Prepend} {
					t.Run(fmt.Sprintf("%s/container=%s/host=%s/%s", m.family, c, h, st), func(t *testing.T) {
						// The image holds both MPIs: plan for the one the
						// program uses.
						fam := map[string]string{"openmpi": "openmpi", "mpich": "mpich-abi"}[m.family]
						p, err := plan.Make(context.Background(), img, host, set, fam, plan.Options{Strategy: st, Dir: "/mnt/hitch"})
						if err != nil {
							t.Fatal(err)
						}
						var binds []rootfs.Bind
						for _, b := range p.Binds {
							binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
						}
						verdict := compareBound(t, croot, m.program, binds, p.Env)
						// A host whose glibc is not newer than the image's
						// has a plan that works; hitch must find it.
						if suiteIndex(h) <= suiteIndex(c) && verdict != "loads" {
							t.Errorf("no working plan found: %s\n%+v", verdict, p.Binds)
						}
						if suiteIndex(h) > suiteIndex(c) && !strings.Contains(strings.Join(p.Notes, "\n"), "use an image with glibc") {
							t.Errorf("no glibc floor note: %q", p.Notes)
						}
						table = append(table, fmt.Sprintf("%-8s %-9s %-9s %-8s %2d binds  %s", m.family, c, h, st, len(p.Binds), verdict))
					})
				}
				host.Close()
			}
			img.Close()
		}
	}
	sort.Strings(table)
	t.Logf("family   container host      strategy binds    verdict (hitch = the real loader)\n%s", strings.Join(table, "\n"))
}

func suiteIndex(s string) int {
	for i, x := range fixture.Suites {
		if x == s {
			return i
		}
	}
	return -1
}

// TestLibfabricOlderHost: the host's libfabric (bullseye, 1.11) is older
// than what trixie's Open MPI was built against: the plan binds it, and
// hitch and the real loader both say FABRIC_1.5 is missing.
func TestLibfabricOlderHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	croot := fixture.Rootfs(t, "trixie")
	img, err := rootfs.Dir(croot)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	host, err := rootfs.Dir(fixture.Rootfs(t, "bullseye"))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	p, err := plan.Make(context.Background(), img, host, set, "libfabric", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var binds []rootfs.Bind
	for _, b := range p.Binds {
		binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
	}
	verdict := compareBound(t, croot, "/opt/hitch/hello_openmpi", binds, p.Env)
	if !strings.Contains(verdict, "version `FABRIC_1.") {
		t.Errorf("verdict %q, want a missing FABRIC_1.x version", verdict)
	}
}
