// Package pkgdb reads what a root filesystem says about itself: its
// os-release, and its package manager's database of installed packages
// and the files they own (dpkg, apk, and rpm's sqlite, ndb and Berkeley DB
// databases through github.com/anchore/go-rpmdb), so that every ELF
// object can be traced to the package it came from.
//
// Everything is read from an fs.FS, normally a rootfs.View; paths are
// compared after resolving their directories in that View, so a file that
// dpkg lists as /lib/x86_64-linux-gnu/libc.so.6 is found at
// /usr/lib/x86_64-linux-gnu/libc.so.6 on a usrmerged system.
package pkgdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Package is one installed package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
}

func (p Package) String() string { return p.Name + " " + p.Version }

// DB is the package database of a root filesystem.
type DB struct {
	// Manager is "dpkg", "apk", "rpm" or "" when none was found.
	Manager  string
	Packages []Package
	owner    map[string]int // canonical path -> index in Packages
}

// OwnerOf returns the package that installed the file at the canonical
// path p (absolute, symlink-free), or nil.
func (db *DB) OwnerOf(p string) *Package {
	if db == nil {
		return nil
	}
	i, ok := db.owner[p]
	if !ok {
		return nil
	}
	return &db.Packages[i]
}

// Resolver canonicalises a directory path inside the file system, as
// rootfs.View.Resolve does.
type Resolver interface {
	Resolve(name string) (string, error)
}

// ErrUnsupported is returned with a DB whose Manager was recognised but
// whose database hitch cannot read.
var ErrUnsupported = errors.New("package database not supported")

// Read finds and reads the package database of fsys. A root filesystem
// without one gives an empty DB and no error.
func Read(fsys fs.FS) (*DB, error) {
	r, _ := fsys.(Resolver)
	switch {
	case exists(fsys, "var/lib/dpkg/status"):
		return readDpkg(fsys, r)
	case exists(fsys, "lib/apk/db/installed"):
		return readApk(fsys, r)
	case exists(fsys, "var/lib/rpm") || exists(fsys, "usr/lib/sysimage/rpm"):
		return readRpm(fsys, r)
	}
	return &DB{}, nil
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// canon maps listed paths to canonical ones, resolving each directory
// once.
type canon struct {
	r    Resolver
	dirs map[string]string
}

func (c *canon) path(p string) string {
	p = path.Clean("/" + p)
	if c.r == nil {
		return p
	}
	dir, base := path.Split(p)
	cd, ok := c.dirs[dir]
	if !ok {
		cd = dir
		if rd, err := c.r.Resolve(dir); err == nil {
			cd = rd
		}
		c.dirs[dir] = cd
	}
	return path.Join(cd, base)
}

// stanzas splits a deb822 file into its paragraphs of Field: value.
func stanzas(r io.Reader, fn func(map[string]string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	cur := map[string]string{}
	last := ""
	line := 0
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		err := fn(cur)
		cur, last = map[string]string{}, ""
		return err
	}
	for sc.Scan() {
		line++
		s := sc.Text()
		switch {
		case strings.TrimSpace(s) == "":
			if err := flush(); err != nil {
				return err
			}
		case s[0] == ' ' || s[0] == '\t':
			if last == "" {
				return fmt.Errorf("line %d: continuation without a field", line)
			}
			cur[last] += "\n" + s[1:]
		default:
			k, v, ok := strings.Cut(s, ":")
			if !ok {
				return fmt.Errorf("line %d: %q is not Field: value", line, s)
			}
			last = strings.TrimSpace(k)
			cur[last] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}

// readDpkg reads var/lib/dpkg/status and the info/*.list file of every
// installed package.
func readDpkg(fsys fs.FS, r Resolver) (*DB, error) {
	db := &DB{Manager: "dpkg", owner: map[string]int{}}
	f, err := fsys.Open("var/lib/dpkg/status")
	if err != nil {
		return db, err
	}
	defer f.Close()
	var lists []string
	err = stanzas(f, func(st map[string]string) error {
		if !strings.HasSuffix(st["Status"], " installed") {
			return nil
		}
		db.Packages = append(db.Packages, Package{Name: st["Package"], Version: st["Version"], Arch: st["Architecture"]})
		// Multi-Arch: same packages keep their list as NAME:ARCH.list.
		list := st["Package"] + ".list"
		if st["Multi-Arch"] == "same" {
			list = st["Package"] + ":" + st["Architecture"] + ".list"
		}
		lists = append(lists, list)
		return nil
	})
	if err != nil {
		return db, fmt.Errorf("reading /var/lib/dpkg/status: %w", err)
	}
	c := &canon{r: r, dirs: map[string]string{}}
	for i, list := range lists {
		b, err := fs.ReadFile(fsys, "var/lib/dpkg/info/"+list)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a package with no files (virtual, or metapackage)
			}
			return db, fmt.Errorf("reading dpkg file list %s: %w", list, err)
		}
		for _, p := range strings.Split(string(b), "\n") {
			if p == "" || p == "/." {
				continue
			}
			cp := c.path(p)
			// The first owner wins, as dpkg -S lists a shared directory
			// under every package but a file under one.
			if _, dup := db.owner[cp]; !dup {
				db.owner[cp] = i
			}
		}
	}
	return db, nil
}

// readApk reads lib/apk/db/installed: one paragraph per package, P: name,
// V: version, A: arch, F: a directory, R: a file in the last directory.
func readApk(fsys fs.FS, r Resolver) (*DB, error) {
	db := &DB{Manager: "apk", owner: map[string]int{}}
	f, err := fsys.Open("lib/apk/db/installed")
	if err != nil {
		return db, err
	}
	defer f.Close()
	c := &canon{r: r, dirs: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	cur := -1
	dir := ""
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			cur, dir = -1, ""
			continue
		}
		switch k {
		case "P":
			db.Packages = append(db.Packages, Package{Name: v})
			cur = len(db.Packages) - 1
		case "V":
			if cur >= 0 {
				db.Packages[cur].Version = v
			}
		case "A":
			if cur >= 0 {
				db.Packages[cur].Arch = v
			}
		case "F":
			dir = v
		case "R":
			if cur >= 0 {
				cp := c.path(path.Join(dir, v))
				if _, dup := db.owner[cp]; !dup {
					db.owner[cp] = cur
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return db, fmt.Errorf("reading /lib/apk/db/installed: %w", err)
	}
	return db, nil
}

// OSRelease reads /etc/os-release, or /usr/lib/os-release as the
// os-release(5) fallback, into its KEY=value pairs with quotes removed.
func OSRelease(fsys fs.FS) (map[string]string, error) {
	b, err := fs.ReadFile(fsys, "etc/os-release")
	if errors.Is(err, fs.ErrNotExist) {
		b, err = fs.ReadFile(fsys, "usr/lib/os-release")
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
		}
		out[k] = v
	}
	return out, nil
}

// Names returns the package names sorted, for messages and tests.
func (db *DB) Names() []string {
	var out []string
	for _, p := range db.Packages {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}
