package rootfs_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/hitch-hpc/hitch/rootfs"
)

// tree builds files and symlinks under dir: a value starting with "->" is
// a symlink target, anything else file content; a name ending in / is a
// directory.
func tree(t *testing.T, dir string, entries map[string]string) {
	t.Helper()
	for name, v := range entries {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(v, "->"):
			err = os.Symlink(strings.TrimPrefix(v, "->"), p)
		default:
			err = os.WriteFile(p, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func setup(t *testing.T) (root, host string) {
	base := t.TempDir()
	root, host = filepath.Join(base, "root"), filepath.Join(base, "host")
	entries := map[string]string{
		"usr/lib/x86_64-linux-gnu/libfoo.so.1": "container foo",
		"usr/lib/x86_64-linux-gnu/libfoo.so":   "->libfoo.so.1",
		"lib":                                  "->usr/lib",
		"lib64":                                "->/usr/lib64",
		"usr/lib64/":                           "",
		"usr/lib/libabs.so":                    "->/usr/lib/x86_64-linux-gnu/libfoo.so.1",
		"etc/passwd":                           "container passwd",
		"etc/escape":                           "->../../../../../etc/passwd",
		"etc/hostabs":                          "->/etc/passwd",
		"loop1":                                "->loop2",
		"loop2":                                "->loop1",
		"dirlink":                              "->usr/lib",
		"notdir":                               "plain file",
	}
	// chain/l1 -> l2 -> ... -> l40 -> target: 40 links from l1, 41 from x.
	for i := 1; i < 40; i++ {
		entries["chain/l"+itoa(i)] = "->l" + itoa(i+1)
	}
	entries["chain/l40"] = "->target"
	entries["chain/target"] = "end of chain"
	entries["chain/x"] = "->l1"
	tree(t, root, entries)
	tree(t, host, map[string]string{
		"mpi/lib/libmpi.so.40": "host mpi",
		"mpi/lib/libmpi.so":    "->libmpi.so.40",
		"mpi/lib/libabs.so":    "->/usr/lib/x86_64-linux-gnu/libfoo.so.1",
		"mpi/lib/up":           "->../../../../..",
		"single.so":            "host single",
		"link-to-single.so":    "->single.so",
	})
	return root, host
}

func itoa(i int) string { return strconv.Itoa(i) }

func read(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return string(b)
}

func TestResolve(t *testing.T) {
	root, _ := setup(t)
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tests := []struct {
		name, want string
		err        error
	}{
		{name: "/lib/x86_64-linux-gnu/libfoo.so", want: "/usr/lib/x86_64-linux-gnu/libfoo.so.1"},
		{name: "usr/lib/libabs.so", want: "/usr/lib/x86_64-linux-gnu/libfoo.so.1"},
		{name: "/etc/escape", want: "/etc/passwd"},
		{name: "/../../etc/passwd", want: "/etc/passwd"},
		{name: "/etc/hostabs", want: "/etc/passwd"},
		{name: "/dirlink/../etc", want: "/usr/etc", err: fs.ErrNotExist},
		{name: "/dirlink/x86_64-linux-gnu/./libfoo.so", want: "/usr/lib/x86_64-linux-gnu/libfoo.so.1"},
		{name: "/lib64", want: "/usr/lib64"},
		{name: "/loop1", err: syscall.ELOOP},
		{name: "/chain/l1", want: "/chain/target"},
		{name: "/chain/x", err: syscall.ELOOP},
		{name: "/notdir/x", err: syscall.ENOTDIR},
		{name: "/nosuch/file", err: fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Resolve(tc.name)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Resolve(%q) = %q, %v; want error %v", tc.name, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
			}
		})
	}
	// The kernel agrees on the hop limit (relative links: no chroot needed).
	if _, err := os.ReadFile(filepath.Join(root, "chain/l1")); err != nil {
		t.Errorf("kernel: chain/l1: %v", err)
	}
	if _, err := os.ReadFile(filepath.Join(root, "chain/x")); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("kernel: chain/x: %v, want ELOOP", err)
	}
	// The container's /etc/passwd, never the host's.
	if got := read(t, v, "etc/escape"); got != "container passwd" {
		t.Errorf("etc/escape reads %q", got)
	}
}

func TestBinds(t *testing.T) {
	root, host := setup(t)
	base, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	v, err := base.WithBinds(
		rootfs.Bind{Src: filepath.Join(host, "mpi"), Dst: "/opt/mpi"},
		// Through the usrmerge link, onto the container's libfoo; the
		// source is itself a host symlink.
		rootfs.Bind{Src: filepath.Join(host, "link-to-single.so"), Dst: "/lib/x86_64-linux-gnu/libfoo.so.1"},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	wantBinds := []rootfs.Bind{
		{Src: filepath.Join(host, "mpi"), Dst: "/opt/mpi"},
		{Src: filepath.Join(host, "single.so"), Dst: "/usr/lib/x86_64-linux-gnu/libfoo.so.1"},
	}
	if diff := cmp.Diff(wantBinds, v.Binds()); diff != "" {
		t.Errorf("binds (-want +got):\n%s", diff)
	}
	for name, want := range map[string]string{
		"opt/mpi/lib/libmpi.so":              "host mpi",
		"usr/lib/x86_64-linux-gnu/libfoo.so": "host single",
		"lib/x86_64-linux-gnu/libfoo.so.1":   "host single",
		"usr/lib/libabs.so":                  "host single",
		"opt/mpi/lib/libabs.so":              "host single", // absolute link inside a bind: resolved in the View
		"opt/mpi/lib/up/etc/passwd":          "container passwd",
	} {
		if got := read(t, v, name); got != want {
			t.Errorf("%s reads %q, want %q", name, got, want)
		}
	}
	// The View it came from is unchanged.
	if got := read(t, base, "usr/lib/libabs.so"); got != "container foo" {
		t.Errorf("base view reads %q", got)
	}
	if _, err := base.Stat("opt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("base view has /opt: %v", err)
	}

	names := func(dir string) []string {
		entries, err := v.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if diff := cmp.Diff([]string{"chain", "dirlink", "etc", "lib", "lib64", "loop1", "loop2", "notdir", "opt", "usr"}, names(".")); diff != "" {
		t.Errorf("ReadDir(.) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"mpi"}, names("opt")); diff != "" {
		t.Errorf("ReadDir(opt) (-want +got):\n%s", diff)
	}
	fi, err := v.Lstat("usr/lib/x86_64-linux-gnu/libfoo.so.1")
	if err != nil || fi.Size() != int64(len("host single")) || fi.Name() != "libfoo.so.1" {
		t.Errorf("Lstat of the bound file: %v, %v", fi, err)
	}
	if got, want := v.HostPath("/opt/mpi/lib/libmpi.so.40"), filepath.Join(host, "mpi/lib/libmpi.so.40"); got != want {
		t.Errorf("HostPath = %q, want %q", got, want)
	}
	if got, want := v.HostPath("/etc/passwd"), filepath.Join(root, "etc/passwd"); got != want {
		t.Errorf("HostPath = %q, want %q", got, want)
	}

	// The io/fs conformance tests, binds included, on the subtrees free of
	// symlink loops (which no fs.FS can open).
	for dir, want := range map[string]string{"usr": "lib/x86_64-linux-gnu/libfoo.so.1", "opt": "mpi/lib/libmpi.so.40"} {
		sub, err := fs.Sub(v, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(sub, want); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

func TestBindErrors(t *testing.T) {
	root, host := setup(t)
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, b := range []rootfs.Bind{
		{Src: filepath.Join(host, "nosuch"), Dst: "/opt/x"},
		{Src: host, Dst: "/"},
		{Src: host, Dst: "/loop1/x"},
	} {
		if _, err := v.WithBinds(b); err == nil {
			t.Errorf("WithBinds(%v) succeeded", b)
		} else if !strings.Contains(err.Error(), b.String()) {
			t.Errorf("error %q does not name the bind", err)
		}
	}
}

func TestParseBind(t *testing.T) {
	for in, want := range map[string]rootfs.Bind{
		"/opt/mpi":             {Src: "/opt/mpi", Dst: "/opt/mpi"},
		"/opt/mpi:/usr/mpi":    {Src: "/opt/mpi", Dst: "/usr/mpi"},
		"/opt/mpi:/usr/mpi:ro": {Src: "/opt/mpi", Dst: "/usr/mpi"},
		"relative:/x":          {Src: "relative", Dst: "/x"},
	} {
		got, err := rootfs.ParseBind(in)
		if err != nil || got != want {
			t.Errorf("ParseBind(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", ":/x", "/a:rel", "/a:/b:ro:x"} {
		if _, err := rootfs.ParseBind(in); err == nil {
			t.Errorf("ParseBind(%q) succeeded", in)
		}
	}
}

func TestReadDirFile(t *testing.T) {
	root, _ := setup(t)
	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	f, err := v.Open("chain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := f.(fs.ReadDirFile)
	n := 0
	for {
		list, err := d.ReadDir(5)
		n += len(list)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 42 { // l1 … l40, target, x
		t.Errorf("read %d entries, want 42", n)
	}
}
