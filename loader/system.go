package loader

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/hitch-hpc/hitch/ldcache"
	"github.com/hitch-hpc/hitch/rootfs"
)

// system is what one dynamic loader of a View was built with and reads at
// start: its version, trusted directories, $LIB, the cache and
// /etc/ld.so.preload. glibc compiles the directories and $LIB in
// (SYSTEM_DIRS, DL_DST_LIB); hitch derives them from where the loader
// lives, the distribution's layout, when the loader's file does not say.
type system struct {
	interp  string // PT_INTERP as written
	class   string
	machine string
	file    string // interp resolved in the View; "" when missing
	// glibc version as major*1000+minor, e.g. 2036; 0 when unknown.
	version    int
	systemDirs []string // each ends in "/"
	lib        string   // $LIB
	platform   string   // $PLATFORM
	cache      *ldcache.Cache
	want       ldcache.Want
	preload    []string // /etc/ld.so.preload
	warnings   []string
}

// Interp is what hitch learns from a glibc loader's file: its release
// and the trusted directories compiled into it.
type Interp struct {
	// Version is major*1000+minor (2036 for glibc 2.36); 0 when unknown.
	Version int `json:"version,omitempty"`
	// Dirs are the trusted directories (SYSTEM_DIRS), each ending in
	// "/"; nil when the file does not say.
	Dirs []string `json:"dirs,omitempty"`
}

// ReadInterp reads the loader file at the resolved View path file (and,
// for its release when the loader does not name it, the libc.so.6 beside
// it).
func ReadInterp(v *rootfs.View, file string) Interp {
	if file == "" {
		return Interp{}
	}
	bin, _ := readAll(v, file)
	return Interp{Version: glibcVersion(v, file, bin), Dirs: compiledDirs(bin)}
}

var releaseVersion = regexp.MustCompile(`release version 2\.([0-9]+)`)
var ldSoVersion = regexp.MustCompile(`^ld-2\.([0-9]+)\.so$`)

// newSystem describes the glibc loader at interp for objects of the given
// class and machine. A missing loader is not an error here: the caller
// reports it; the search rules still apply.
func newSystem(v *rootfs.View, src Source, interp, class, machine string) *system {
	s := &system{interp: interp, class: class, machine: machine, platform: platformFor(machine)}
	if f, err := v.Resolve(interp); err == nil {
		if fi, err := v.Stat(strings.TrimPrefix(f, "/")); err == nil && fi.Mode().IsRegular() {
			s.file = f
		}
	}
	var in Interp
	ok := false
	if src != nil && s.file != "" {
		in, ok = src.Interp(v.HostPath(s.file))
	}
	if !ok {
		in = ReadInterp(v, s.file)
	}
	s.version = in.Version
	s.systemDirs, s.lib = layout(s.file, machine)
	if in.Dirs != nil {
		s.systemDirs, s.lib = in.Dirs, dstLib(in.Dirs[0])
	}
	if w, ok := ldcache.WantFor(class, machine); ok {
		s.want = w
		if s.version != 0 && s.version <= 2036 && machine == "x86_64" {
			s.want.LegacyHWCaps = ldcache.HWCapX8664
		}
		if b, err := readAll(v, "/etc/ld.so.cache"); err == nil {
			c, err := ldcache.Parse(b)
			if err != nil {
				s.warnings = append(s.warnings, "ignoring /etc/ld.so.cache: "+err.Error())
			} else {
				s.cache = c
				for _, w := range c.Warnings {
					s.warnings = append(s.warnings, "/etc/ld.so.cache: "+w)
				}
			}
		}
	}
	if b, err := readAll(v, "/etc/ld.so.preload"); err == nil {
		s.preload = strings.FieldsFunc(string(b), func(r rune) bool { return strings.ContainsRune(": \t\n", r) })
	}
	return s
}

// maxConfigFile bounds what is read of /etc/ld.so.cache and similar files.
const maxConfigFile = 64 << 20

func readAll(v *rootfs.View, name string) ([]byte, error) {
	f, err := v.OpenPath(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	if fi.Size() > maxConfigFile {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("file too large")}
	}
	return io.ReadAll(io.LimitReader(f, maxConfigFile))
}

// glibcVersion reads the loader's version from its banner ("… stable
// release version 2.36."), present in ld.so since glibc 2.33, else from
// the old file name ld-2.31.so, else from libc.so.6 beside it.
func glibcVersion(v *rootfs.View, file string, bin []byte) int {
	if file == "" {
		return 0
	}
	if m := releaseVersion.FindSubmatch(bin); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return 2000 + n
	}
	if m := ldSoVersion.FindStringSubmatch(path.Base(file)); m != nil {
		n, _ := strconv.Atoi(m[1])
		return 2000 + n
	}
	if b, err := readAll(v, path.Join(path.Dir(file), "libc.so.6")); err == nil {
		if m := releaseVersion.FindSubmatch(b); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			return 2000 + n
		}
	}
	return 0
}

// compiledDirs finds the trusted directories compiled into a glibc
// loader: SYSTEM_DIRS (elf/dl-load.c system_dirs) is one array of
// NUL-terminated directory names, each ending in "/", the first run of
// two or more such names in the file. It returns nil when there is none.
func compiledDirs(bin []byte) []string {
	for i := 0; i < len(bin); i++ {
		if bin[i] != 0 || i+1 >= len(bin) || bin[i+1] != '/' {
			continue
		}
		var dirs []string
		j := i + 1
		for j < len(bin) && bin[j] == '/' {
			end := bytes.IndexByte(bin[j:], 0)
			if end < 2 || end > 256 || bin[j+end-1] != '/' || bytes.ContainsAny(bin[j:j+end], " \t\n%$") {
				break
			}
			dirs = append(dirs, string(bin[j:j+end]))
			j += end + 1
		}
		if len(dirs) >= 2 && (strings.HasPrefix(dirs[0], "/lib") || strings.HasPrefix(dirs[0], "/usr/lib")) {
			return dirs
		}
	}
	return nil
}

// dstLib is $LIB for a loader whose first trusted directory is dir:
// Debian's "lib/x86_64-linux-gnu", or the directory's name ("lib64").
func dstLib(dir string) string {
	d := strings.Trim(dir, "/")
	if strings.HasPrefix(d, "lib/") && strings.Contains(d, "-linux-") {
		return d
	}
	return path.Base(d)
}

// layout returns the trusted directories and $LIB of a loader installed
// at file: Debian's multiarch layout when it lives in a triplet
// directory, the lib64 layout of Red Hat and SUSE when it lives in lib64,
// else its own directory.
func layout(file, machine string) (dirs []string, lib string) {
	dir := path.Dir(file)
	base := path.Base(dir)
	switch {
	case file == "":
		if t := triplet(machine); t != "" {
			return multiarch(t), "lib/" + t
		}
		return []string{"/lib/", "/usr/lib/"}, "lib"
	case strings.Contains(base, "-linux-"):
		return multiarch(base), "lib/" + base
	case base == "lib64":
		return []string{"/lib64/", "/usr/lib64/"}, "lib64"
	default:
		return []string{dir + "/"}, base
	}
}

func multiarch(t string) []string {
	return []string{"/lib/" + t + "/", "/usr/lib/" + t + "/", "/lib/", "/usr/lib/"}
}

func triplet(machine string) string {
	switch machine {
	case "x86_64":
		return "x86_64-linux-gnu"
	case "386":
		return "i386-linux-gnu"
	case "aarch64":
		return "aarch64-linux-gnu"
	}
	return ""
}

func platformFor(machine string) string {
	switch machine {
	case "386":
		return "i686"
	case "ppc64":
		return "powerpc64"
	}
	return machine
}

// hwcapsSubdirs are the subdirectories the loader tries before each
// search directory, in order, ending with "" for the directory itself:
// glibc-hwcaps/<level>/ for the active levels (glibc 2.33 and later), then
// the legacy tls/platform/hwcap combinations (glibc 2.36 and older, x86-64
// only: the platform and the one hwcap name are both "x86_64" on the CPUs
// these glibc versions run on).
func (s *system) hwcapsSubdirs(levels []string) []string {
	var subs []string
	if s.version == 0 || s.version >= 2033 {
		for _, l := range levels {
			subs = append(subs, "glibc-hwcaps/"+l+"/")
		}
	}
	if s.version != 0 && s.version <= 2036 && s.platform == "x86_64" {
		subs = append(subs, "tls/x86_64/x86_64/", "tls/x86_64/", "tls/", "x86_64/x86_64/", "x86_64/")
	}
	return append(subs, "")
}

// inSystemDir reports whether p starts with one of the trusted
// directories, which DF_1_NODEFLIB excludes from the cache.
func (s *system) inSystemDir(p string) bool {
	for _, d := range s.systemDirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}
