package check_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/loader"
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

// TestCUDA: Debian's CUDA runtimes (11.2, 11.8, 12.4) in images, Debian's
// NVIDIA drivers (470, 535, 550) on hosts modelled by their unpacked
// libraries: the driver rule gives NVIDIA's verdicts, and the driver's
// libraries, bound in, load in every image as the real loader says.
func TestCUDA(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// NVIDIA's tables: 12.x needs ≥ 525.60.13 (≥ 550.54.14 for 12.4
	// fully); 11.x ≥ 450.80.02 (11.8 fully from 520.61.05, 11.2 from
	// 460.27.03).
	want := map[string]string{
		"bullseye/bullseye": "ok", "bullseye/bookworm": "ok", "bullseye/trixie": "ok",
		"bookworm/bullseye": "warning", "bookworm/bookworm": "ok", "bookworm/trixie": "ok",
		"trixie/bullseye": "fails", "trixie/bookworm": "warning", "trixie/trixie": "ok",
	}
	const lib = "/usr/lib/x86_64-linux-gnu/nvidia/current"
	for _, c := range fixture.Suites {
		croot := fixture.Rootfs(t, c)
		cuda := fixture.CUDA(t, c)
		base, err := rootfs.Dir(croot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := base.WithBinds(rootfs.Bind{Src: cuda + "/runtime/usr/lib/x86_64-linux-gnu", Dst: "/opt/cuda/lib"})
		if err != nil {
			t.Fatal(err)
		}
		imageEnv := []string{"LD_LIBRARY_PATH=/opt/cuda/lib"}
		for _, h := range fixture.Suites {
			t.Run(c+"/"+h, func(t *testing.T) {
				host, err := rootfs.Dir(fixture.CUDA(t, h) + "/driver")
				if err != nil {
					t.Fatal(err)
				}
				defer host.Close()
				p, err := plan.Make(context.Background(), img, host, set, "cuda", plan.Options{
					Strategy: plan.Prepend, Dir: "/mnt/hitch", ImageEnv: imageEnv,
					HostEnv: []string{"LD_LIBRARY_PATH=" + lib},
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Rules) != 1 || p.Rules[0].Status != want[c+"/"+h] {
					t.Errorf("rules %+v, want one with status %s", p.Rules, want[c+"/"+h])
				}
				// The driver's libraries load in the image: hitch and the
				// real loader agree, library by library.
				binds := []rootfs.Bind{{Src: cuda + "/runtime/usr/lib/x86_64-linux-gnu", Dst: "/opt/cuda/lib"}}
				for _, b := range p.Binds {
					binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
				}
				for _, b := range p.Binds {
					if v := compareBound(t, croot, b.Dst, binds, p.Env); v != "loads" {
						t.Errorf("%s: %s", b.Dst, v)
					}
				}
			})
		}
		img.Close()
		base.Close()
	}
}

// TestWithHostGlibc: asked to take the floor too, the plan binds the
// host's libc beside the image's own loader; hitch and the real loader
// agree on what that does (the GLIBC_PRIVATE coupling of libc and ld.so).
func TestWithHostGlibc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	croot := fixture.Rootfs(t, "bullseye")
	img, err := rootfs.Dir(croot)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	host, err := rootfs.Dir(fixture.Rootfs(t, "trixie"))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	p, err := plan.Make(context.Background(), img, host, set, "openmpi", plan.Options{WithHostGlibc: true, Strategy: plan.Prepend, Dir: "/mnt/hitch"})
	if err != nil {
		t.Fatal(err)
	}
	libc := false
	var binds []rootfs.Bind
	for _, b := range p.Binds {
		binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
		libc = libc || b.Soname == "libc.so.6"
	}
	if !libc {
		t.Fatalf("the host's libc is not in the plan: %+v", p.Binds)
	}
	verdict := compareBound(t, croot, "/opt/hitch/hello_openmpi", binds, p.Env)
	if !strings.Contains(verdict, "GLIBC_") {
		t.Errorf("verdict %q: want the libc/ld.so mismatch", verdict)
	}
	t.Log(verdict)
}

// TestCUDAGraphicsFloor is F1/F4 with Debian's packages: a trixie host's
// NVIDIA EGL Wayland platform library (libnvidia-egl-wayland1, built by
// Debian against glibc 2.41) and the libwayland it needs, injected into a
// bullseye image (glibc 2.31) when the image asks for the graphics
// capability. The plan says the image's glibc is too old, check fails the
// bound library with the loader's words, and the real loader, with the
// same binds, says the same. Without graphics (NVIDIA's default
// utility,compute) the library is left out and every bind loads.
func TestCUDAGraphicsFloor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	const driverDir = "/usr/lib/x86_64-linux-gnu/nvidia/current"
	imageRoot, imageCUDA := fixture.Rootfs(t, "bullseye"), fixture.CUDA(t, "bullseye")
	hostCUDA := fixture.CUDA(t, "trixie")
	runtime := rootfs.Bind{Src: imageCUDA + "/runtime/usr/lib/x86_64-linux-gnu", Dst: "/opt/cuda/lib"}
	image := withBinds(t, imageRoot, runtime)
	host := withBinds(t, fixture.Rootfs(t, "trixie"),
		rootfs.Bind{Src: hostCUDA + "/driver" + driverDir, Dst: driverDir},
		rootfs.Bind{Src: hostCUDA + "/graphics/usr/lib/x86_64-linux-gnu", Dst: "/opt/graphics/lib"})
	for _, caps := range []string{"", "compute,utility,graphics"} {
		t.Run("caps="+caps, func(t *testing.T) {
			env := []string{"LD_LIBRARY_PATH=/opt/cuda/lib", "NVIDIA_DRIVER_CAPABILITIES=" + caps}
			p, err := plan.Make(context.Background(), image, host, set, "cuda", plan.Options{
				Strategy: plan.Prepend, Dir: "/mnt/hitch", ImageEnv: env,
				HostEnv: []string{"LD_LIBRARY_PATH=" + driverDir + ":/opt/graphics/lib"},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("notes: %q", p.Notes)
			binds := []rootfs.Bind{runtime}
			egl := ""
			for _, b := range p.Binds {
				binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
				if path.Base(b.Dst) == "libnvidia-egl-wayland.so.1" {
					egl = b.Dst
				}
			}
			notes := strings.Join(p.Notes, "\n")
			if caps == "" {
				if egl != "" || !strings.Contains(notes, "libnvidia-egl-wayland.so.1 (graphics)") {
					t.Errorf("default capabilities: egl-wayland bound at %q, notes %q; want it left out, and said so", egl, p.Notes)
				}
				for _, b := range p.Binds {
					if v := compareBound(t, imageRoot, b.Dst, binds, p.Env); v != "loads" {
						t.Errorf("%s: %s", b.Dst, v)
					}
				}
				return
			}
			if egl == "" {
				t.Fatalf("graphics asked for: no egl-wayland bind in %+v", p.Binds)
			}
			if !strings.Contains(notes, "GLIBC_2.38 from libc.so.6") {
				t.Errorf("notes %q do not name the glibc the host's libraries need", p.Notes)
			}
			// The real loader and hitch on the bound library: compareBound
			// holds hitch's load list and every message to the loader's.
			if real := compareBound(t, imageRoot, egl, binds, p.Env); !strings.HasPrefix(real, "fails: ") {
				t.Errorf("real loader: %s; want a failure", real)
			}
			want := "version `GLIBC_2.38' not found (required by " + egl + ")"
			merged, opts, err := check.WithPlan(image, p, check.Options{Loader: []loader.Option{loader.WithEnv(env)}})
			if err != nil {
				t.Fatal(err)
			}
			defer merged.Close()
			var v check.Verdict
			if _, err := check.Run(context.Background(), merged, []string{egl}, opts, func(x check.Verdict) error { v = x; return nil }); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range v.Reasons {
				found = found || strings.Contains(r.Message, want)
			}
			if !slices.ContainsFunc(v.Fixes, func(f string) bool {
				return strings.HasPrefix(f, "or drop libnvidia-egl-wayland.so.1 from the bind list")
			}) {
				t.Errorf("fixes %q: want one to drop the library", v.Fixes)
			}
			if v.Status != check.Fails || !found {
				t.Errorf("check %s: %s %+v; want fails with %q", egl, v.Status, v.Reasons, want)
			}
			t.Logf("check: %s: %s; fixes %q", v.Status, v.Reasons[0].Message, v.Fixes)
		})
	}
}
