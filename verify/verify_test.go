package verify_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/verify"
)

func TestMain(m *testing.M) {
	verify.Main()
	os.Exit(m.Run())
}

// TestAgainstOracle plans each Debian release's Open MPI and MPICH into
// each release's image, with both strategies, runs verify, and compares
// what it observed with the test oracle (the same loader, run by other
// means) and with hitch's prediction: the acceptance matrix.
func TestAgainstOracle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	agree, cells := 0, 0
	for _, fam := range []struct{ name, prog string }{{"openmpi", "/opt/hitch/hello_openmpi"}, {"mpich-abi", "/opt/hitch/hello_mpich"}} {
		for _, st := range []plan.Strategy{plan.Replace, plan.Prepend} {
			prog := fam.prog
			for _, c := range fixture.Suites {
				croot := fixture.Rootfs(t, c)
				img, err := rootfs.Dir(croot)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range fixture.Suites {
					cells++
					t.Run(fam.name+"/"+string(st)+"/"+c+"/"+h, func(t *testing.T) {
						host, err := rootfs.Dir(fixture.Rootfs(t, h))
						if err != nil {
							t.Fatal(err)
						}
						defer host.Close()
						p, err := plan.Make(context.Background(), img, host, set, fam.name, plan.Options{Strategy: st})
						if err != nil {
							t.Fatal(err)
						}
						var binds []rootfs.Bind
						var obinds []oracle.Bind
						for _, b := range p.Binds {
							binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
							obinds = append(obinds, oracle.Bind{Src: b.Src, Dst: b.Dst})
						}
						obs, err := verify.Run(context.Background(), croot, []string{prog}, verify.Options{Binds: binds, Env: p.Env})
						if err != nil {
							t.Fatal(err)
						}
						if len(obs) != 1 || len(obs[0].List) == 0 {
							t.Fatalf("observations: %+v", obs)
						}
						real, err := oracle.Run{Root: croot, File: prog, Env: p.Env, Binds: obinds, Bind: true, ChrootExec: fixture.ChrootExec(t)}.Do()
						if err != nil {
							t.Fatal(err)
						}
						if d := verify.Agree(verify.Observation{List: real.List, Messages: real.Messages}, obs[0]); d != "" {
							t.Errorf("verify and the oracle disagree:\n%s", d)
						}
						merged, err := img.WithBinds(binds...)
						if err != nil {
							t.Fatal(err)
						}
						defer merged.Close()
						pred, err := verify.Predict(context.Background(), merged, prog, loader.WithEnv(p.Env))
						if err != nil {
							t.Fatal(err)
						}
						if d := verify.Agree(pred, obs[0]); d != "" {
							t.Errorf("hitch's prediction and verify disagree:\n%s", d)
						} else {
							agree++
						}
					})
				}
				img.Close()
			}
		}
	}
	t.Logf("%d of %d cells: prediction = observation", agree, cells)
}

// TestPlugins: Open MPI's MCA components, bound with their directory
// and their own dependencies, load in the image as predicted.
func TestPlugins(t *testing.T) {
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
	host, err := rootfs.Dir(fixture.Rootfs(t, "bookworm"))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	p, err := plan.Make(context.Background(), img, host, set, "openmpi", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var binds []rootfs.Bind
	var files []string
	for _, b := range p.Binds {
		binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
		if !b.Dir {
			continue
		}
		entries, err := os.ReadDir(b.Src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".so") {
				files = append(files, b.Dst+"/"+e.Name())
			}
		}
	}
	if len(files) < 50 {
		t.Fatalf("%d plugins in the plan's directories", len(files))
	}
	obs, err := verify.Run(context.Background(), croot, files, verify.Options{Binds: binds, Env: p.Env})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := img.WithBinds(binds...)
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	bad := 0
	for i, f := range files {
		pred, err := verify.Predict(context.Background(), merged, f, loader.WithEnv(p.Env))
		if err != nil {
			t.Fatal(err)
		}
		if d := verify.Agree(pred, obs[i]); d != "" {
			bad++
			t.Errorf("%s:\n%s", f, d)
		}
		for _, l := range obs[i].List {
			if strings.HasSuffix(l, "not found") {
				t.Errorf("%s: the plan leaves %s", f, l)
			}
		}
	}
	t.Logf("%d plugins, %d disagree", len(files), bad)
}
