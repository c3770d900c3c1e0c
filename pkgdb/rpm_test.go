package pkgdb_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/pkgdb"
	"github.com/hitch-hpc/hitch/rootfs"
)

const spec = `Name: hitchtest
Version: 1.0
Release: 3
Epoch: 2
Summary: hitch test package
License: MIT
BuildArch: x86_64
%%description
A library for hitch's rpm database test.
%%install
mkdir -p %%{buildroot}/usr/lib64
cp %s %%{buildroot}/usr/lib64/libver.so.1
%%files
/usr/lib64/libver.so.1
`

// TestRpm builds an rpm with rpmbuild, installs it with rpm into an empty
// root, and reads that root's database: the package, its epoch:version-
// release and the file it owns, found through a /lib64 -> usr/lib64 link
// as on RHEL. (Debian's rpm keeps its own database in ~/.rpmdb: the
// test names the standard place.)
func TestRpm(t *testing.T) {
	for _, tool := range []string{"rpm", "rpmbuild"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package rpm)", tool)
		}
	}
	lib := filepath.Join(fixture.ELF(t), "lib", "libver.so.1")
	base := t.TempDir()
	specFile := filepath.Join(base, "hitchtest.spec")
	if err := os.WriteFile(specFile, []byte(fmt.Sprintf(spec, lib)), 0o644); err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(base, "rpmbuild")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("rpmbuild", "--define", "_topdir "+top, "--define", "debug_package %{nil}",
		"--define", "__os_install_post %{nil}", "-bb", specFile)
	root := filepath.Join(base, "root")
	os.MkdirAll(filepath.Join(root, "usr/lib64"), 0o755)
	os.Symlink("usr/lib64", filepath.Join(root, "lib64"))
	run("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--initdb")
	run("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts", "--nosignature", "--ignorearch",
		filepath.Join(top, "RPMS", "x86_64", "hitchtest-1.0-3.x86_64.rpm"))

	v, err := rootfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, err := pkgdb.Read(v)
	if err != nil {
		t.Fatal(err)
	}
	if db.Manager != "rpm" || len(db.Packages) != 1 {
		t.Fatalf("manager %q, packages %v", db.Manager, db.Packages)
	}
	want := pkgdb.Package{Name: "hitchtest", Version: "2:1.0-3", Arch: "x86_64"}
	if db.Packages[0] != want {
		t.Errorf("package %+v, want %+v", db.Packages[0], want)
	}
	if p := db.OwnerOf("/usr/lib64/libver.so.1"); p == nil || p.Name != "hitchtest" {
		t.Errorf("owner of /usr/lib64/libver.so.1: %v", p)
	}
	entries, _ := filepath.Glob(filepath.Join(root, "var/lib/rpm/*"))
	t.Logf("rpm database files: %v", entries)
}
