package rootfs_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/rootfs"
)

// TestDebianRootfs resolves the loader's own paths in the real Debian
// root filesystems, and every symlink in them, against realpath(1) run in
// a chroot of the same tree: the kernel's root is then the tree's, so
// absolute links resolve inside it, as they must in a View.
func TestDebianRootfs(t *testing.T) {
	for _, suite := range fixture.Suites {
		t.Run(suite, func(t *testing.T) {
			dir := fixture.Rootfs(t, suite)
			v, err := rootfs.Dir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			got, err := v.Resolve("/lib64/ld-linux-x86-64.so.2")
			if err != nil {
				t.Fatal(err)
			}
			// bullseye from mmdebstrap is not usrmerged; the others are.
			want := map[string]string{
				"bullseye": "/lib/x86_64-linux-gnu/ld-2.31.so",
				"bookworm": "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
				"trixie":   "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
			}[suite]
			if got != want {
				t.Errorf("/lib64/ld-linux-x86-64.so.2 resolves to %s, want %s", got, want)
			}

			// Every symlink in the tree, resolved by the View and by
			// realpath run inside a chroot of the same tree.
			var links []string
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.Type()&fs.ModeSymlink == 0 {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				links = append(links, "/"+rel)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			oracle := chrootRealpath(t, dir, links)
			for i, l := range links {
				got, err := v.Resolve(l)
				if err != nil {
					got = "!"
				}
				if got != oracle[i] {
					t.Errorf("%s: View resolves to %q (%v), realpath in a chroot to %q", l, got, err, oracle[i])
				}
			}
			t.Logf("%s: %d symlinks agree with realpath in a chroot", suite, len(links))
			entries, err := fs.ReadDir(v, "opt/hitch")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if diff := cmp.Diff([]string{"hello_mpi.c", "hello_mpich", "hello_openmpi"}, names); diff != "" {
				t.Errorf("/opt/hitch (-want +got):\n%s", diff)
			}
		})
	}
}

// chrootRealpath runs realpath -e for each path inside a chroot of dir
// and returns its answers, "!" where a path does not resolve.
func chrootRealpath(t *testing.T, dir string, paths []string) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	script := `for p; do realpath -e -- "$p" 2>/dev/null || echo '!'; done`
	cmd := exec.Command("chroot", append([]string{dir, "/bin/sh", "-c", script, "sh"}, paths...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("realpath in chroot %s: %v", dir, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("realpath gave %d lines for %d paths", len(lines), len(paths))
	}
	return lines
}
