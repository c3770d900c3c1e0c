package check_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// mpiLibs are the MPI families of scripts/testdata.sh: the program built
// in each root and the library a host would bind in.
var mpiLibs = []struct{ family, program, lib string }{
	{"openmpi", "/opt/hitch/hello_openmpi", "libmpi.so.40"},
	{"mpich", "/opt/hitch/hello_mpich", "libmpich.so.12"},
}

const multiarch = "/usr/lib/x86_64-linux-gnu/"

// hostSide is what a host offers to bind: its MPI library's file and a
// directory holding the library's dependency closure (the loader's view
// of it on the host, without the host's ld.so), named by the names the
// loader asked for.
type hostSide struct {
	lib     string // host path of the library
	libDir  string // a directory with only the library
	closure string // a directory with the library and its closure
}

func offer(t *testing.T, suite, lib string) hostSide {
	t.Helper()
	root := fixture.Rootfs(t, suite)
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	g, err := loader.New(v).Load(context.Background(), multiarch+lib)
	if err != nil {
		t.Fatalf("%s: %v", suite, err)
	}
	h := hostSide{lib: v.HostPath(g.Objects[0].File), libDir: t.TempDir(), closure: t.TempDir()}
	// Copies, not symlinks: a symlink to a host path would not
	// resolve inside the container.
	link := func(dir, name, file string) {
		b, err := os.ReadFile(v.HostPath(file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link(h.libDir, lib, g.Objects[0].File)
	for _, o := range g.Objects {
		if !o.Found() {
			t.Fatalf("%s: %s is incomplete on its own host: %s not found", suite, lib, o.Name)
		}
		if o.Rule == loader.RuleInterp {
			continue // the container's PT_INTERP names its own loader
		}
		name := o.Name
		if o.Rule == loader.RuleMain {
			name = lib
		}
		link(h.closure, name, o.File)
	}
	return h
}

// TestBindMatrix binds a host's MPI library into a container of another
// Debian release, alone or with its dependency closure, at the
// container's library path or through LD_LIBRARY_PATH, and compares
// hitch's load list and complaints with the real loader's under a mount
// namespace with the same binds (ldd -r mode: every symbol bound now).
func TestBindMatrix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed")
	}
	suites := fixture.Suites
	var table []string
	for _, m := range mpiLibs {
		offers := map[string]hostSide{}
		for _, h := range suites {
			offers[h] = offer(t, h, m.lib)
		}
		for _, c := range suites {
			croot := fixture.Rootfs(t, c)
			for _, h := range suites {
				o := offers[h]
				scenarios := []struct {
					name  string
					binds []rootfs.Bind
					env   []string
				}{
					{"lib at library path", []rootfs.Bind{{Src: o.lib, Dst: multiarch + m.lib}}, nil},
					{"lib via LD_LIBRARY_PATH", []rootfs.Bind{{Src: o.libDir, Dst: "/mnt"}}, []string{"LD_LIBRARY_PATH=/mnt"}},
					{"closure via LD_LIBRARY_PATH", []rootfs.Bind{{Src: o.closure, Dst: "/mnt"}}, []string{"LD_LIBRARY_PATH=/mnt"}},
				}
				for _, sc := range scenarios {
					name := fmt.Sprintf("%s/container=%s/host=%s/%s", m.family, c, h, sc.name)
					t.Run(name, func(t *testing.T) {
						verdict := compareBound(t, croot, m.program, sc.binds, sc.env)
						table = append(table, fmt.Sprintf("%-8s %-9s %-9s %-28s %s", m.family, c, h, sc.name, verdict))
					})
				}
			}
		}
	}
	sort.Strings(table)
	t.Logf("family   container host      binds                        verdict\n%s", strings.Join(table, "\n"))
}

// compareBound runs both and returns a one-line verdict for the table.
func compareBound(t *testing.T, root, program string, binds []rootfs.Bind, env []string) string {
	t.Helper()
	var obinds []oracle.Bind
	for _, b := range binds {
		src, err := filepath.EvalSymlinks(b.Src)
		if err != nil {
			t.Fatal(err)
		}
		obinds = append(obinds, oracle.Bind{Src: src, Dst: b.Dst})
	}
	real, err := oracle.Run{Root: root, File: program, Env: env, Binds: obinds, Bind: true, ChrootExec: fixture.ChrootExec(t)}.Do()
	if err != nil {
		t.Fatal(err)
	}
	base, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	v, err := base.WithBinds(binds...)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	g, err := loader.New(v, loader.WithEnv(env)).Load(context.Background(), program)
	if err != nil {
		t.Fatal(err)
	}
	got := g.Ldd()
	if diff := cmp.Diff(real.List, got); diff != "" {
		t.Errorf("load list (-loader +hitch):\n%s", diff)
	}
	var msgs []string
	seen := map[string]bool{}
	for _, p := range link.NewChecker().Check(g) {
		if !seen[p.Message] {
			seen[p.Message] = true
			msgs = append(msgs, p.Message)
		}
	}
	sort.Strings(msgs)
	if diff := cmp.Diff(real.Messages, msgs); diff != "" {
		t.Errorf("loader messages (-loader +hitch):\n%s\nloader stderr:\n%s", diff, real.Stderr)
	}
	switch {
	case len(msgs) == 0:
		for _, l := range got {
			if strings.HasSuffix(l, "not found") {
				return "fails: " + strings.TrimSpace(l)
			}
		}
		return "loads"
	default:
		return fmt.Sprintf("fails: %s (+%d more)", msgs[0], len(msgs)-1)
	}
}
