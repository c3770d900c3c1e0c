package check_test

import (
	"context"
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

// An image whose C library lives in a directory the loader knows only
// from ld.so.conf (through the cache): a host library the image lacks is
// bound beside it, where the loader does not look until ldconfig has
// rebuilt the cache. The plan says ldconfig must run; the real loader,
// with the binds, does not find the library; with the library in place
// and ldconfig run, it does.
func TestPlanNeedsLdconfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot and mount namespaces (root)")
	}
	abi := fixture.ABIPairs(t)
	pair := filepath.Join(abi, "struct-grown")
	// The image: bookworm, hard-linked (nothing written through the
	// links), with libc.so.6 moved to /opt/glibc and the cache rebuilt.
	root := filepath.Join(t.TempDir(), "image")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v: %s", name, args, err, out)
		}
	}
	run("cp", "-al", fixture.Rootfs(t, "bookworm"), root)
	if err := os.MkdirAll(filepath.Join(root, "opt/glibc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "usr/lib/x86_64-linux-gnu/libc.so.6"), filepath.Join(root, "opt/glibc/libc.so.6")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ld.so.conf.d/00-glibc.conf"), []byte("/opt/glibc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "etc/ld.so.cache")); err != nil {
		t.Fatal(err)
	}
	run("ldconfig", "-X", "-r", root)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pair.toml"), []byte("name = \"pair\"\ninterface = \"pair\"\n[[library]]\nsoname = \"libpair.so.1\"\nanchor = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := iface.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	app := rootfs.Bind{Src: filepath.Join(pair, "app-f"), Dst: "/opt/app/app-f"}
	image := withBinds(t, root, app)
	host := withBinds(t, fixture.Rootfs(t, "bookworm"), rootfs.Bind{Src: filepath.Join(pair, "new.so"), Dst: "/opt/pair/libpair.so.1"})
	p, err := plan.Make(context.Background(), image, host, set, "pair", plan.Options{HostLibs: []string{"/opt/pair/libpair.so.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binds %+v\nnotes %q", p.Binds, p.Notes)
	if len(p.Binds) != 1 || p.Binds[0].Dst != "/opt/glibc/libpair.so.1" {
		t.Fatalf("binds %+v: want libpair.so.1 beside the image's libc", p.Binds)
	}
	if !p.Ldconfig || !strings.Contains(strings.Join(p.Notes, "\n"), "run ldconfig") {
		t.Errorf("plan: ldconfig %v, notes %q; want ldconfig", p.Ldconfig, p.Notes)
	}
	binds := []rootfs.Bind{app, {Src: p.Binds[0].Src, Dst: p.Binds[0].Dst}}
	// compareBound holds hitch's load list and messages to the loader's
	// (libpair.so.1 => not found, so pair_f is undefined).
	if v := compareBound(t, root, "/opt/app/app-f", binds, nil); !strings.HasPrefix(v, "fails") {
		t.Errorf("with the binds, before ldconfig: %s; want libpair.so.1 not found", v)
	}
	// The library in place (a file of this test's own copy) and ldconfig
	// run: the loader finds it.
	b, err := os.ReadFile(filepath.Join(pair, "new.so"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "opt/glibc/libpair.so.1"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "etc/ld.so.cache")); err != nil {
		t.Fatal(err)
	}
	run("ldconfig", "-X", "-r", root)
	if v := compareBound(t, root, "/opt/app/app-f", []rootfs.Bind{app}, nil); v != "loads" {
		t.Errorf("after ldconfig: %s", v)
	}
}
