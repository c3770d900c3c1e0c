package plan_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// NVIDIA_REQUIRE_CUDA, the constraint nvidia/cuda images carry, judged
// against Debian's drivers 470, 535 and 550 (CUDA 11.4, 12.2 and 12.4 by
// NVIDIA's tables) as the container toolkit judges it: F7's message when
// no alternative holds, undecided when only a GPU brand could make one
// hold, ok when one holds; NVIDIA_DISABLE_REQUIRE turns it off.
func TestRequireCUDA(t *testing.T) {
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	image, err := rootfs.Dir(fixture.Rootfs(t, "trixie"))
	if err != nil {
		t.Fatal(err)
	}
	defer image.Close()
	const lib = "/usr/lib/x86_64-linux-gnu/nvidia/current"
	// The nvidia/cuda:12.4 images' value, shortened.
	const withBrands = "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=tesla,driver>=535,driver<536"
	cases := []struct {
		host, require, status, message string
	}{
		{"trixie", "cuda>=12.4", "ok", "cuda>=12.4 holds on the host's driver 550.163.01 (CUDA 12.4)"},
		{"bookworm", "cuda>=12.4", "fails", `the host's driver 535.261.03 (CUDA 12.2): "requirement error: unsatisfied condition: cuda>=12.4, please update your driver to a newer version, or use an earlier cuda container"`},
		{"bullseye", "cuda>=11.0", "ok", "(CUDA 11.4)"},
		{"bullseye", "cuda>=11.8", "fails", "unsatisfied condition: cuda>=11.8,"},
		{"bookworm", withBrands, "warning", "only brand=tesla,driver>=535,driver<536 could hold, which depends on the GPU"},
		{"bullseye", withBrands, "warning", "only brand=tesla,driver>=470,driver<471 could hold"},
		{"trixie", withBrands, "ok", "cuda>=12.4 holds"},
		{"bookworm", "cuda>=12.4,driver>=600", "fails", "unsatisfied condition: cuda>=12.4,"},
	}
	for _, c := range cases {
		host, err := rootfs.Dir(fixture.CUDA(t, c.host) + "/driver")
		if err != nil {
			t.Fatal(err)
		}
		for _, disable := range []bool{false, true} {
			env := []string{"NVIDIA_REQUIRE_CUDA=" + c.require}
			if disable {
				env = append(env, "NVIDIA_DISABLE_REQUIRE=true")
			}
			p, err := plan.Make(context.Background(), image, host, set, "cuda", plan.Options{
				Strategy: plan.Prepend, ImageEnv: env, HostEnv: []string{"LD_LIBRARY_PATH=" + lib}})
			if err != nil {
				t.Fatal(err)
			}
			var got *plan.RuleResult
			for i, r := range p.Rules {
				if r.Library == "" {
					got = &p.Rules[i]
				}
			}
			switch {
			case disable && got != nil:
				t.Errorf("%s %q disabled: rule %+v", c.host, c.require, got)
			case disable:
			case got == nil:
				t.Errorf("%s %q: no rule", c.host, c.require)
			case got.Status != c.status || !strings.Contains(got.Message, c.message):
				t.Errorf("%s %q: %s %q; want %s containing %q", c.host, c.require, got.Status, got.Message, c.status, c.message)
			}
		}
		host.Close()
	}
}

// compatLib builds a stand-in for NVIDIA's forward-compatibility libcuda
// (cuda-compat is not in Debian): a shared object carrying the
// .note.cuda.fwd_compatibility note in NVIDIA's format (owner "NVIDIA
// Corporation", a JSON description), as the container toolkit reads it.
func compatLib(t *testing.T, desc string) string {
	t.Helper()
	return compatLibSized(t, desc, len(desc))
}

// compatLibSized writes descsz into the note's header, whatever the
// description's length: a lie the reader must survive.
func compatLibSized(t *testing.T, desc string, descsz int) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	n := (len(desc) + 4) &^ 3
	src := fmt.Sprintf(`struct note { unsigned namesz, descsz, type; char name[20]; char desc[%d]; };
__attribute__((section(".note.cuda.fwd_compatibility"), used, aligned(4)))
static const struct note n = { 19, %d, 1, "NVIDIA Corporation", %q };
int cuInit(unsigned f) { return (int)f; }
`, n, descsz, desc)
	if err := os.WriteFile(filepath.Join(dir, "compat.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libcuda.so.550.54.15")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o", lib, filepath.Join(dir, "compat.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v: %s", err, out)
	}
	return lib
}

// The image's CUDA 12.4 runtime with a forward-compatibility libcuda for
// drivers 470 and 535: on those hosts the toolkit puts it first, so the
// runtime runs (datacenter GPUs only) where it would fail or run under
// minor version compatibility; on 550 it is not used.
func TestForwardCompat(t *testing.T) {
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	lib := compatLib(t, `{"Format":1,"CUDA Version":"12.4","Driver":[470,535],"Device":[]}`)
	base, err := rootfs.Dir(fixture.Rootfs(t, "trixie"))
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	image, err := base.WithBinds(
		rootfs.Bind{Src: fixture.CUDA(t, "trixie") + "/runtime/usr/lib/x86_64-linux-gnu", Dst: "/opt/cuda/lib"},
		rootfs.Bind{Src: lib, Dst: "/usr/local/cuda/compat/libcuda.so.550.54.15"})
	if err != nil {
		t.Fatal(err)
	}
	defer image.Close()
	const driverDir = "/usr/lib/x86_64-linux-gnu/nvidia/current"
	for _, c := range []struct {
		host, status, note string
		used               bool
	}{
		{"bullseye", "warning", "takes the place of the host's 470.256.02", true},
		{"bookworm", "warning", "takes the place of the host's 535.261.03", true},
		{"trixie", "ok", "is not used with the host's driver 550.163.01", false},
	} {
		host, err := rootfs.Dir(fixture.CUDA(t, c.host) + "/driver")
		if err != nil {
			t.Fatal(err)
		}
		p, err := plan.Make(context.Background(), image, host, set, "cuda", plan.Options{
			Strategy: plan.Prepend, Dir: "/mnt/hitch", ImageEnv: []string{"LD_LIBRARY_PATH=/opt/cuda/lib"},
			HostEnv: []string{"LD_LIBRARY_PATH=" + driverDir}})
		host.Close()
		if err != nil {
			t.Fatal(err)
		}
		var rule *plan.RuleResult
		for i, r := range p.Rules {
			if r.Library != "" {
				rule = &p.Rules[i]
			}
		}
		if rule == nil || rule.Status != c.status {
			t.Errorf("%s: rule %+v, want %s", c.host, rule, c.status)
		}
		if !strings.Contains(strings.Join(p.Notes, "\n"), c.note) {
			t.Errorf("%s: notes %q lack %q", c.host, p.Notes, c.note)
		}
		wantEnv := "LD_LIBRARY_PATH=/mnt/hitch:/opt/cuda/lib"
		if c.used {
			wantEnv = "LD_LIBRARY_PATH=/usr/local/cuda/compat:/mnt/hitch:/opt/cuda/lib"
		}
		if !slices.Contains(p.Env, wantEnv) {
			t.Errorf("%s: env %q, want %s", c.host, p.Env, wantEnv)
		}
		t.Logf("%s: %s: %s", c.host, rule.Status, rule.Message)
	}
}

// A note that lies about its size, or holds no JSON, is no evidence: the
// plan goes on without the compat library, no panic.
func TestForwardCompatBadNote(t *testing.T) {
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range []string{
		compatLibSized(t, `{"Format":1,"CUDA Version":"12.4","Driver":[470]}`, 1<<30),
		compatLib(t, `not json`),
	} {
		base, err := rootfs.Dir(fixture.Rootfs(t, "trixie"))
		if err != nil {
			t.Fatal(err)
		}
		image, err := base.WithBinds(rootfs.Bind{Src: lib, Dst: "/usr/local/cuda/compat/libcuda.so.550.54.15"})
		if err != nil {
			t.Fatal(err)
		}
		host, err := rootfs.Dir(fixture.CUDA(t, "bullseye") + "/driver")
		if err != nil {
			t.Fatal(err)
		}
		p, err := plan.Make(context.Background(), image, host, set, "cuda", plan.Options{
			HostEnv: []string{"LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/nvidia/current"}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(p.Notes, "\n"), "forward-compatibility") {
			t.Errorf("a bad note was read: %q", p.Notes)
		}
		host.Close()
		image.Close()
		base.Close()
	}
}
