package ldcache_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/internal/oracle"
	"github.com/hitch-hpc/hitch/ldcache"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		sign int
	}{
		{"libc.so.6", "libc.so.6", 0},
		{"libfoo.so.10", "libfoo.so.9", 1},
		{"libfoo.so.9", "libfoo.so.10", -1},
		{"libfoo.so.1", "libfoo.so", 1},
		{"libfoo.so", "libfoo.so.1", -1},
		{"lib2", "libz", 1}, // a digit sorts after a letter
		{"liba", "libb", -1},
		{"libx007", "libx7", 0}, // numbers, not strings
		{"", "a", -1},
	}
	for _, tt := range tests {
		got := ldcache.Compare(tt.a, tt.b)
		if sign(got) != tt.sign {
			t.Errorf("Compare(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.sign)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// miniRoot builds a root with the host's loader and libc, a program that
// needs libz.so.1, and libz in two directories of ld.so.conf, one of
// them also in a glibc-hwcaps subdirectory.
func miniRoot(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"ldconfig", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	host := "/usr/lib/x86_64-linux-gnu"
	if _, err := os.Stat(filepath.Join(host, "libz.so.1")); err != nil {
		t.Skip("host has no x86-64 libz.so.1")
	}
	root := t.TempDir()
	copyTo := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst = filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(filepath.Join(host, "libz.so.1"), "opt/a/libz.so.1")
	copyTo(filepath.Join(host, "libz.so.1"), "opt/a/glibc-hwcaps/x86-64-v3/libz.so.1")
	copyTo(filepath.Join(host, "libz.so.1"), "opt/b/libz.so.1")
	copyTo(filepath.Join(host, "libm.so.6"), "opt/b/libm.so.6")
	copyTo(filepath.Join(host, "libc.so.6"), "lib/x86_64-linux-gnu/libc.so.6")
	copyTo("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "ld.so.conf"), []byte("/opt/a\n/opt/b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("gcc", "-x", "c", "-", "-o", filepath.Join(root, "prog"), "-L"+host, "-l:libz.so.1")
	cmd.Stdin = strings.NewReader("int zlibVersion(void); int main(void){return zlibVersion()!=0;}\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return root
}

// ldconfigEntry is one line of ldconfig -p.
var ldconfigLine = regexp.MustCompile(`^\t(\S+) \(([^)]*)\) => (.*)$`)

// ldconfigP runs ldconfig -p on a cache file and returns its entries.
func ldconfigP(t *testing.T, args ...string) []ldcache.Entry {
	t.Helper()
	out, err := exec.Command("ldconfig", append(args, "-p")...).CombinedOutput()
	if err != nil {
		t.Fatalf("ldconfig %s -p: %v\n%s", strings.Join(args, " "), err, out)
	}
	var es []ldcache.Entry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := ldconfigLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		e := ldcache.Entry{Name: m[1], Path: m[3]}
		if _, h, ok := strings.Cut(m[2], `hwcap: "`); ok {
			e.HWCaps = strings.TrimSuffix(h, `"`)
		}
		es = append(es, e)
	}
	return es
}

func namesAndPaths(c *ldcache.Cache) []ldcache.Entry {
	var es []ldcache.Entry
	for _, e := range c.Entries {
		es = append(es, ldcache.Entry{Name: e.Name, Path: e.Path, HWCaps: e.HWCaps})
	}
	return es
}

func parseFile(t *testing.T, name string) *ldcache.Cache {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ldcache.Parse(b)
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return c
}

// TestAgreesWithLdconfig writes caches in every format with the host's
// ldconfig, reads them back with ldconfig -p and with Parse, and checks
// that the loader's own lookup picks what Lookup picks.
func TestAgreesWithLdconfig(t *testing.T) {
	root := miniRoot(t)
	levels := hostLevels(t)
	for _, format := range []ldcache.Format{ldcache.FormatOld, ldcache.FormatCompat, ldcache.FormatNew} {
		t.Run(string(format), func(t *testing.T) {
			if out, err := exec.Command("ldconfig", "-r", root, "-c", string(format)).CombinedOutput(); err != nil {
				t.Fatalf("ldconfig: %v\n%s", err, out)
			}
			c := parseFile(t, filepath.Join(root, "etc", "ld.so.cache"))
			if c.Format != format {
				t.Errorf("Format = %q, want %q", c.Format, format)
			}
			want := ldconfigP(t, "-r", root)
			if diff := cmp.Diff(want, namesAndPaths(c)); diff != "" {
				t.Errorf("entries differ from ldconfig -p (-want +got):\n%s", diff)
			}
			if os.Geteuid() != 0 {
				t.Skip("the loader oracle needs chroot (root)")
			}
			out, err := exec.Command("chroot", root, "/lib64/ld-linux-x86-64.so.2", "--list", "/prog").CombinedOutput()
			if err != nil {
				t.Fatalf("ld.so --list: %v\n%s", err, out)
			}
			m := regexp.MustCompile(`libz\.so\.1 => (\S+)`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("no libz in ld.so --list output:\n%s", out)
			}
			w, _ := ldcache.WantFor("ELF64", "x86_64")
			w.HWCaps = levels
			got, _ := c.Lookup("libz.so.1", w)
			t.Logf("the loader and Lookup (hwcaps %v): %s", levels, m[1])
			if got != string(m[1]) {
				t.Errorf("Lookup(libz.so.1) = %q, the loader opened %q", got, m[1])
			}
		})
	}
}

// hostLevels asks the machine's loader which glibc-hwcaps subdirectories this
// CPU uses; the test is skipped where it cannot say.
func hostLevels(t testing.TB) []string {
	t.Helper()
	levels, err := oracle.HostHWCaps()
	if err != nil {
		t.Skip(err)
	}
	return levels
}

// TestDebianCaches reads the caches of the Debian root filesystems and
// compares them with what their own ldconfig prints.
func TestDebianCaches(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs chroot (root)")
	}
	for _, suite := range []string{"bullseye", "bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			root := fixture.Rootfs(t, suite)
			c := parseFile(t, filepath.Join(root, "etc", "ld.so.cache"))
			out, err := exec.Command("chroot", root, "ldconfig", "-p").CombinedOutput()
			if err != nil {
				t.Fatalf("ldconfig -p: %v\n%s", err, out)
			}
			var want []ldcache.Entry
			for _, l := range strings.Split(string(out), "\n") {
				if m := ldconfigLine.FindStringSubmatch(l); m != nil {
					want = append(want, ldcache.Entry{Name: m[1], Path: m[3]})
				}
			}
			if diff := cmp.Diff(want, namesAndPaths(c)); diff != "" {
				t.Errorf("entries differ from ldconfig -p (-want +got):\n%s", diff)
			}
			if len(want) < 100 {
				t.Errorf("only %d entries; is the cache built?", len(want))
			}
		})
	}
}
