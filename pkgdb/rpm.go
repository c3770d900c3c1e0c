package pkgdb

import (
	"fmt"
	"io/fs"
	"path"

	rpmdb "github.com/anchore/go-rpmdb/pkg"
	// The sqlite database/sql driver that go-rpmdb opens rpmdb.sqlite
	// with (pure Go; the catalog will use it too).
	_ "modernc.org/sqlite"
)

// hostPather gives the host path of a canonical path inside the file
// system, as rootfs.View does: the rpm reader needs a file.
type hostPather interface {
	HostPath(p string) string
}

// rpmDatabases are where rpm keeps its database, newest layout first:
// sqlite (rpm >= 4.16, Fedora 33+, RHEL 9), ndb (SUSE), Berkeley DB
// (RHEL 7/8, CentOS).
var rpmDatabases = []string{
	"usr/lib/sysimage/rpm/rpmdb.sqlite",
	"var/lib/rpm/rpmdb.sqlite",
	"usr/lib/sysimage/rpm/Packages.db",
	"var/lib/rpm/Packages.db",
	"var/lib/rpm/Packages",
}

// readRpm reads the first rpm database found. The sqlite one is opened
// read-only and immutable, so nothing is written beside it.
func readRpm(fsys fs.FS, r Resolver) (*DB, error) {
	db := &DB{Manager: "rpm", owner: map[string]int{}}
	hp, ok := fsys.(hostPather)
	if !ok || r == nil {
		return db, fmt.Errorf("rpm: %w: the file system has no host paths", ErrUnsupported)
	}
	var file string
	for _, name := range rpmDatabases {
		if rp, err := r.Resolve("/" + name); err == nil {
			if fi, err := fs.Stat(fsys, name); err == nil && fi.Mode().IsRegular() {
				file = hp.HostPath(rp)
				break
			}
		}
	}
	if file == "" {
		return db, nil
	}
	rdb, err := rpmdb.Open(file)
	if err != nil {
		return db, fmt.Errorf("opening rpm database %s: %w", file, err)
	}
	defer rdb.Close()
	pkgs, err := rdb.ListPackages()
	if err != nil {
		return db, fmt.Errorf("reading rpm database %s: %w", file, err)
	}
	c := &canon{r: r, dirs: map[string]string{}}
	for _, p := range pkgs {
		version := p.Version + "-" + p.Release
		if p.Epoch != nil && *p.Epoch != 0 {
			version = fmt.Sprintf("%d:%s", *p.Epoch, version)
		}
		db.Packages = append(db.Packages, Package{Name: p.Name, Version: version, Arch: p.Arch})
		i := len(db.Packages) - 1
		names, err := p.InstalledFileNames()
		if err != nil {
			return db, fmt.Errorf("reading the files of rpm %s: %w", p.Name, err)
		}
		for _, n := range names {
			cp := c.path(path.Clean(n))
			if _, dup := db.owner[cp]; !dup {
				db.owner[cp] = i
			}
		}
	}
	return db, nil
}
