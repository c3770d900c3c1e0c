package plan_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// without is a copy of a Debian test root (hard links: cheap, and nothing
// is ever written through them) without the files of dir whose names
// start with one of prefixes, as if those packages were removed; the
// ld.so.cache keeps its now stale entries, as after a removal without
// ldconfig.
func without(t *testing.T, suite, dir string, prefixes ...string) *rootfs.View {
	t.Helper()
	root := filepath.Join(t.TempDir(), suite)
	if out, err := exec.Command("cp", "-al", fixture.Rootfs(t, suite), root).CombinedOutput(); err != nil {
		t.Skipf("cp -al (the test roots and the temp dir on one file system): %v: %s", err, out)
	}
	ents, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, e := range ents {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Name(), p) {
				// Unlinking removes the copy's name only.
				if err := os.Remove(filepath.Join(root, dir, e.Name())); err != nil {
					t.Fatal(err)
				}
				removed++
				break
			}
		}
	}
	if removed == 0 {
		t.Fatalf("%s: nothing named %v in %s", suite, prefixes, dir)
	}
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// An Open MPI image on a host that has only MPICH (F9): no plan, and an
// error that names what the host has and what the image uses — not a
// plan that binds MPICH under Open MPI's programs.
func TestHostLacksImageFamily(t *testing.T) {
	const lib = "usr/lib/x86_64-linux-gnu"
	image := without(t, "bookworm", lib, "libmpich")
	host := without(t, "bookworm", lib, "libmpi.so.40", "libmpi_", "libopen-", "libmpi++")
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Make(context.Background(), image, host, set, "mpi", plan.Options{})
	if !errors.Is(err, plan.ErrNoInterface) {
		t.Fatalf("Make = %v, %v; want ErrNoInterface", p, err)
	}
	for _, want := range []string{"the host has", "mpich", "the image uses openmpi"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Log(err)
	if p == nil || len(p.Binds) != 0 {
		t.Fatalf("plan %+v: want the candidates and no binds", p)
	}
	for _, c := range p.Candidates {
		if c.Chosen {
			t.Errorf("candidate %s chosen", c.Path)
		}
	}

	// Asked for the family by name, the same: the host has none of it.
	if _, err := plan.Make(context.Background(), image, host, set, "openmpi", plan.Options{}); !errors.Is(err, plan.ErrNoInterface) {
		t.Errorf("openmpi on an MPICH-only host: %v, want ErrNoInterface", err)
	}
}

// NCCL's network plugin is dlopen'ed, so no load graph names it: the
// interface data does, and the plan binds the host's (here a stand-in
// shared object at the plugin's name) into an image that has none.
func TestNCCLNetPlugin(t *testing.T) {
	root := fixture.Rootfs(t, "bookworm")
	image, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer image.Close()
	base, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	// Any real shared object will do as the plugin: the loader's libm.
	libm, err := filepath.EvalSymlinks(filepath.Join(root, "usr/lib/x86_64-linux-gnu/libm.so.6"))
	if err != nil {
		t.Fatal(err)
	}
	host, err := base.WithBinds(rootfs.Bind{Src: libm, Dst: "/opt/ofi-nccl/lib/libnccl-net.so"})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Make(context.Background(), image, host, set, "nccl", plan.Options{
		Strategy: plan.Prepend, HostEnv: []string{"LD_LIBRARY_PATH=/opt/ofi-nccl/lib"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range p.Binds {
		found = found || (b.Soname == "libnccl-net.so" && b.Dst == plan.DefaultDir+"/libnccl-net.so")
	}
	if !found || p.Family != "nccl-net" {
		t.Errorf("plan %s %+v: want the host's libnccl-net.so bound", p.Family, p.Binds)
	}
}
