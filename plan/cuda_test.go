package plan_test

import (
	"context"
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
