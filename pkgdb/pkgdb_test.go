package pkgdb_test

import (
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/pkgdb"
	"github.com/hitch-hpc/hitch/rootfs"
)

// TestDebian reads the dpkg database of each Debian test rootfs: the
// installed packages are those dpkg-query lists, and every ELF object
// that a package shipped is attributed to one, usrmerge aliases
// included.
func TestDebian(t *testing.T) {
	for _, suite := range fixture.Suites {
		t.Run(suite, func(t *testing.T) {
			dir := fixture.Rootfs(t, suite)
			v, err := rootfs.Dir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			osr, err := pkgdb.OSRelease(v)
			if err != nil || osr["ID"] != "debian" || osr["VERSION_CODENAME"] != suite {
				t.Errorf("os-release: %v, %v", osr, err)
			}
			db, err := pkgdb.Read(v)
			if err != nil {
				t.Fatal(err)
			}
			if db.Manager != "dpkg" {
				t.Fatalf("manager %q", db.Manager)
			}
			if _, err := exec.LookPath("dpkg-query"); err == nil {
				out, err := exec.Command("dpkg-query", "--admindir="+dir+"/var/lib/dpkg", "-W", "-f", "${db:Status-Abbrev} ${Package}\n").Output()
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, l := range strings.Split(string(out), "\n") {
					if name, ok := strings.CutPrefix(l, "ii  "); ok {
						want = append(want, name)
					}
				}
				if diff := cmp.Diff(want, db.Names()); diff != "" {
					t.Errorf("packages (-dpkg-query +hitch):\n%s", diff)
				}
			}
			owners := map[string]string{}
			unowned := 0
			_, err = elfwalk.Walk(t.Context(), v, ".", func(o elfwalk.Object) error {
				p := "/" + o.Path
				pkg := db.OwnerOf(p)
				switch {
				case strings.HasPrefix(p, "/opt/hitch/"):
					if pkg != nil {
						t.Errorf("%s: owned by %s, but the test script built it", p, pkg)
					}
				case strings.HasPrefix(p, "/var/lib/dpkg/info/"):
					// Maintainer scripts (bash.preinst is an ELF
					// program in bullseye): dpkg's own, in no list.
				case pkg == nil:
					unowned++
					t.Errorf("%s: no package owns it", p)
				default:
					owners[p] = pkg.Name
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			libc := "/usr/lib/x86_64-linux-gnu/libc.so.6"
			if suite == "bullseye" {
				libc = "/lib/x86_64-linux-gnu/libc-2.31.so"
			}
			if owners[libc] != "libc6" {
				t.Errorf("%s owned by %q, want libc6", libc, owners[libc])
			}
			t.Logf("%s: %d packages, %d ELF objects attributed", suite, len(db.Packages), len(owners))
		})
	}
}

func TestApk(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/apk/db/installed": {Data: []byte("C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:zlib\nV:1.3.1-r0\nA:x86_64\nF:lib\nR:libz.so.1.3.1\n")},
		"etc/os-release":       {Data: []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n")},
	}
	db, err := pkgdb.Read(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []pkgdb.Package{{Name: "musl", Version: "1.2.4-r2", Arch: "x86_64"}, {Name: "zlib", Version: "1.3.1-r0", Arch: "x86_64"}}
	if diff := cmp.Diff(want, db.Packages); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p := db.OwnerOf("/lib/libz.so.1.3.1"); p == nil || p.Name != "zlib" {
		t.Errorf("owner of libz: %v", p)
	}
	osr, _ := pkgdb.OSRelease(fsys)
	if osr["NAME"] != "Alpine Linux" || osr["ID"] != "alpine" {
		t.Errorf("os-release: %v", osr)
	}
}

func TestBrokenStatus(t *testing.T) {
	fsys := fstest.MapFS{"var/lib/dpkg/status": {Data: []byte("Package: a\nStatus: install ok installed\n continuation\nno colon here\n")}}
	_, err := pkgdb.Read(fsys)
	if err == nil || !strings.Contains(err.Error(), "/var/lib/dpkg/status: line 4") {
		t.Errorf("error %v, want one naming the file and line 4", err)
	}
}
