// Package debrepo reads Debian package indexes — Packages files (plain,
// .gz or .xz) and a dpkg status file — into a package universe, and
// writes it as CUDF: Depends and Pre-Depends as dependencies, Conflicts
// and Breaks as conflicts, Provides (versioned too), Recommends as the
// declared "recommends" property, installed packages from the status
// file, Essential ones kept. Debian versions, ordered as dpkg orders them
// (pault.ag/go/debian), become CUDF's integers name by name: every
// version a name has or is constrained against gets its rank, so each
// constraint keeps its meaning.
//
// One architecture is read (the native one, with "all"); a relation's
// ":any" or ":native" qualifier is dropped. Foreign architectures
// (Multi-Arch: foreign and same across architectures) are not modelled.
package debrepo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"github.com/hitch-hpc/hitch/cudf"
	"github.com/pierrec/lz4/v4"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ulikunitz/xz"
	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// Package is one binary package of an index.
type Package struct {
	Name, Arch string
	Version    version.Version
	// Relations, parsed: Depends (Pre-Depends included), Conflicts
	// (Breaks included), Recommends, Provides.
	Depends, Conflicts, Recommends, Provides []dependency.Relation
	// Replaces, read for what a package takes over (with a conflict):
	// the t64 libraries replacing their predecessors.
	Replaces  []dependency.Relation
	Essential bool
	Installed bool
	// MultiArch is the Multi-Arch field: "same", "foreign", "allowed"
	// or "" (no).
	MultiArch string
	// Auto marks an installed package apt installed as a dependency
	// (APT-Automatic), not by request: one a dist-upgrade may remove.
	Auto bool
	// Keep, when set, is the CUDF keep of an installed package:
	// "version" for dpkg's hold, "package" when it may not be removed
	// (essential packages get "package" without it).
	Keep string
	// ID is APT's identifier of the package in an EDSP scenario.
	ID string
	// Source names where the stanza was read: FILE:LINE.
	Source string
	// Suites are the releases whose indexes hold this version
	// ("bookworm", "trixie"), when known.
	Suites []string
}

// Universe is the packages read, in order.
type Universe struct {
	// Arch is the native architecture; Foreign the others read
	// (dpkg --add-architecture), whose packages are named NAME%3aARCH
	// in CUDF as apt-cudf names them.
	Arch     string
	Foreign  []string
	Packages []*Package
	// byRank maps the last CUDF's integer versions back, name by name;
	// origin its packages.
	byRank map[string]map[int64]string
	origin map[*cudf.Package]*Package
	// parsed holds the relations read so far, by text.
	parsed map[string]dependency.Relation
}

// Open opens an index file, decompressing .gz, .xz and .lz4 (apt's
// lists) by their magic.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return readCloser{zr, f}, nil
	case bytes.HasPrefix(magic, []byte{0x04, 0x22, 0x4d, 0x18}):
		// LZ4 frames: apt keeps its lists so by default.
		return readCloser{lz4.NewReader(br), f}, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return readCloser{xr, f}, nil
	}
	return readCloser{br, f}, nil
}

type readCloser struct {
	io.Reader
	f *os.File
}

func (r readCloser) Close() error { return r.f.Close() }

// New returns an empty universe for an architecture (amd64, arm64 …).
func New(arch string) *Universe { return &Universe{Arch: arch} }

// ReadPackages adds the packages of a Packages index; name names it in
// errors, and the suite it belongs to is read from it when it is an
// archive's path (…/dists/SUITE/… or apt's …_dists_SUITE_…).
func (u *Universe) ReadPackages(r io.Reader, name string) error {
	return u.ReadSuite(r, name, SuiteOf(name))
}

// ReadSuite adds the packages of suite's Packages index.
func (u *Universe) ReadSuite(r io.Reader, name, suite string) error {
	return u.read(r, name, suite, false)
}

// SuiteOf is the suite an index's path names (…/dists/SUITE/… or apt's
// lists/…_dists_SUITE_…), or "".
func SuiteOf(path string) string {
	for _, sep := range []string{"/dists/", "_dists_"} {
		if _, after, ok := strings.Cut(path, sep); ok {
			end := strings.IndexAny(after, "/_")
			if end > 0 {
				return after[:end]
			}
		}
	}
	return ""
}

// ReadStatus adds dpkg's status file: the packages installed ("install ok
// installed") are marked installed, added when the indexes lack them.
func (u *Universe) ReadStatus(r io.Reader, name string) error {
	return u.read(r, name, "", true)
}

func (u *Universe) read(r io.Reader, name, suite string, status bool) error {
	index := map[string]*Package{}
	for _, p := range u.Packages {
		index[p.key()] = p
	}
	return stanzas(r, name, func(f fields, line int) error {
		src := fmt.Sprintf("%s:%d", name, line)
		pkgName := f["Package"]
		if pkgName == "" {
			return fmt.Errorf("%s: a stanza without Package", src)
		}
		if status && !strings.HasSuffix(f["Status"], " installed") {
			return nil
		}
		p, err := u.parsePackage(f, src)
		if err != nil || p == nil {
			return err
		}
		key := p.key()
		if old := index[key]; old != nil {
			if status {
				old.Installed = true
			}
			if suite != "" && !slices.Contains(old.Suites, suite) {
				old.Suites = append(old.Suites, suite)
			}
			return nil
		}
		p.Installed = status
		if suite != "" {
			p.Suites = []string{suite}
		}
		index[key] = p
		u.Packages = append(u.Packages, p)
		return nil
	})
}

// parsePackage reads a package stanza: nil for another architecture.
func (u *Universe) parsePackage(f fields, src string) (*Package, error) {
	pkgName := f["Package"]
	arch := strings.TrimSpace(f["Architecture"])
	if arch != u.Arch && arch != "all" && !slices.Contains(u.Foreign, arch) {
		return nil, nil
	}
	v, err := version.Parse(f["Version"])
	if err != nil {
		return nil, fmt.Errorf("%s: %s: version %q: %w", src, pkgName, f["Version"], err)
	}
	p := &Package{Name: pkgName, Arch: arch, Version: v, Essential: f["Essential"] == "yes", Source: src,
		MultiArch: strings.TrimSpace(f["Multi-Arch"])}
	if p.MultiArch == "no" {
		p.MultiArch = ""
	}
	for _, rel := range []struct {
		into   *[]dependency.Relation
		fields []string
	}{
		{&p.Depends, []string{"Pre-Depends", "Depends"}},
		{&p.Conflicts, []string{"Conflicts", "Breaks"}},
		{&p.Recommends, []string{"Recommends"}},
		{&p.Provides, []string{"Provides"}},
		{&p.Replaces, []string{"Replaces"}},
	} {
		for _, fl := range rel.fields {
			text := strings.TrimSpace(f[fl])
			if text == "" {
				continue
			}
			// Relation by relation, each distinct text parsed once: most
			// recur ("libc6 (>= 2.34)") across a suite, and the parsed
			// ones are shared, read only.
			for _, one := range strings.Split(text, ",") {
				one = strings.TrimSpace(one)
				if one == "" {
					continue
				}
				r, ok := u.parsed[one]
				if !ok {
					d, err := dependency.Parse(one)
					if err != nil {
						return nil, fmt.Errorf("%s: %s: %s: %w", src, pkgName, fl, err)
					}
					if len(d.Relations) != 1 {
						return nil, fmt.Errorf("%s: %s: %s: %q is not one relation", src, pkgName, fl, one)
					}
					r = d.Relations[0]
					if u.parsed == nil {
						u.parsed = map[string]dependency.Relation{}
					}
					u.parsed[one] = r
				}
				*rel.into = append(*rel.into, r)
			}
		}
	}
	return p, nil
}

// key identifies a package version: name, architecture, version.
func (p *Package) key() string { return p.Name + ":" + p.Arch + " " + p.Version.String() }

// fields are a stanza's fields, continuation lines joined.
type fields map[string]string

// maxStanza bounds a stanza.
const maxStanza = 16 << 20

// stanzas calls fn for each deb822 stanza of r.
func stanzas(r io.Reader, name string, fn func(fields, int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), maxStanza)
	cur := fields{}
	last, start, lineNo, size := "", 0, 0, 0
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		err := fn(cur, start)
		cur, last, size = fields{}, "", 0
		return err
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if size += len(line); size > maxStanza {
			return fmt.Errorf("%s:%d: stanza longer than %d bytes", name, lineNo, maxStanza)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return fmt.Errorf("%s:%d: continuation line outside a field", name, lineNo)
			}
			cur[last] += "\n" + strings.TrimSpace(line)
			continue
		}
		if line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("%s:%d: not a field: %q", name, lineNo, clip(line))
		}
		if len(cur) == 0 {
			start = lineNo
		}
		cur[k], last = strings.TrimSpace(v), k
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, lineNo, err)
	}
	return flush()
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
