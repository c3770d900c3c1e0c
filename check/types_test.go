package check_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// A library the plan binds loads and binds cleanly but passes a struct
// that grew (the ABI corpus's struct-grown pair): with debug info in both
// files the verdict warns, naming the path to the change, and says its
// evidence is DWARF; with stripped files it is ok on the loader's
// evidence alone. abicompat, run on the same files, sees a change only
// with the debug info too.
func TestTypeEvidence(t *testing.T) {
	abi := fixture.ABIPairs(t)
	root := fixture.Rootfs(t, "bookworm")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pair.toml"), []byte(`name = "pair"
interface = "pair"
summary = "the ABI corpus's libpair"

[[library]]
soname = "libpair.so.1"
anchor = true
`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := iface.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	const lib = "/usr/lib/x86_64-linux-gnu/libpair.so.1"
	for _, stripped := range []bool{false, true} {
		suffix := ".so"
		if stripped {
			suffix = ".stripped.so"
		}
		pair := filepath.Join(abi, "struct-grown")
		image := withBinds(t, root, rootfs.Bind{Src: filepath.Join(pair, "app-f"), Dst: "/usr/bin/app"},
			rootfs.Bind{Src: filepath.Join(pair, "old"+suffix), Dst: lib})
		host := withBinds(t, root, rootfs.Bind{Src: filepath.Join(pair, "new"+suffix), Dst: "/opt/pair/libpair.so.1"})
		p, err := plan.Make(context.Background(), image, host, set, "pair", plan.Options{HostLibs: []string{"/opt/pair/libpair.so.1"}})
		if err != nil {
			t.Fatal(err)
		}
		merged, opts, err := check.WithPlan(image, p, check.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer merged.Close()
		var v check.Verdict
		if _, err := check.Run(context.Background(), merged, []string{"/usr/bin/app"}, opts, func(x check.Verdict) error { v = x; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(v.Shadowed) != 1 || v.Shadowed[0].Soname != "libpair.so.1" {
			t.Fatalf("%s: shadowed %+v, want libpair.so.1 from the host", suffix, v.Shadowed)
		}
		var msgs []string
		for _, r := range v.Reasons {
			if r.Kind == "type-changed" {
				msgs = append(msgs, r.Message)
			}
		}
		dwarf := slices.Contains(v.Evidence, "DWARF")
		t.Logf("%s: %s %v %q", suffix, v.Status, v.Evidence, msgs)
		if stripped {
			if v.Status != check.OK || dwarf || len(msgs) > 0 {
				t.Errorf("stripped: %s, evidence %v, %q; want ok on the loader's evidence", v.Status, v.Evidence, msgs)
			}
		} else {
			want := "libpair.so.1 (bound from the host): pair_f() parameter 1 → * → struct pair_point: size changed from 8 to 12 bytes"
			if v.Status != check.Warning || !dwarf || !slices.Contains(msgs, want) {
				t.Errorf("debug info: %s, evidence %v, %q; want a warning %q backed by DWARF", v.Status, v.Evidence, msgs, want)
			}
		}
		if _, err := exec.LookPath("abicompat"); err != nil {
			continue
		}
		cmd := exec.Command("abicompat", filepath.Join(pair, "app-f"), filepath.Join(pair, "old"+suffix), filepath.Join(pair, "new"+suffix))
		out, _ := cmd.CombinedOutput()
		if got, want := cmd.ProcessState.ExitCode(), map[bool]int{false: 4, true: 0}[stripped]; got != want {
			t.Errorf("abicompat %s: exit %d, want %d:\n%s", suffix, got, want, out)
		} else if !stripped && !strings.Contains(string(out), "pair_point") {
			t.Errorf("abicompat does not name pair_point:\n%s", out)
		}
	}
}

// withBinds is the tree at root with binds (files of the ABI corpus: the
// tree itself is never written).
func withBinds(t *testing.T, root string, binds ...rootfs.Bind) *rootfs.View {
	t.Helper()
	base, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	v, err := base.WithBinds(binds...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
