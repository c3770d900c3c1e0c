package loader

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"path"
	"slices"
	"strings"

	"github.com/hitch-hpc/hitch/ldcache"
)

// WithLdconfig makes the loader use the cache ldconfig would write now
// instead of /etc/ld.so.cache: for an image whose cache is missing or
// stale (libraries added after ldconfig last ran, a host directory bound
// in and named in ld.so.conf). The cache is built from /etc/ld.so.conf
// (with its include globs) and the first two trusted directories, as
// glibc's ldconfig does (elf/ldconfig.c).
func WithLdconfig() Option { return func(l *Loader) { l.ldconfig = true } }

// maxConfDepth bounds include nesting; a loop of includes ends there.
const maxConfDepth = 16

// ldconfigDirs lists the directories ldconfig would scan, in order:
// those of ld.so.conf, then the trusted ones, each once.
func (l *Loader) ldconfigDirs(s *system) ([]string, []string) {
	var dirs, warnings []string
	seen := map[string]bool{}
	// A directory is scanned once, under the first name it is given
	// (add_single_dir compares device and inode): on a merged-/usr root
	// /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu are one.
	add := func(d string) {
		d = path.Clean(d)
		id, err := l.view.Resolve(d)
		if err != nil {
			return
		}
		if !seen[id] {
			seen[id] = true
			dirs = append(dirs, d)
		}
	}
	var parse func(file string, depth int)
	parse = func(file string, depth int) {
		if depth > maxConfDepth {
			warnings = append(warnings, fmt.Sprintf("ld.so.conf: includes nested deeper than %d at %s: not read", maxConfDepth, file))
			return
		}
		b, err := readAll(l.view, file)
		if err != nil {
			if depth > 0 || !errors.Is(err, fs.ErrNotExist) {
				warnings = append(warnings, fmt.Sprintf("ld.so.conf: %v", err))
			}
			return
		}
		for n, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			switch {
			case line == "":
			case strings.HasPrefix(line, "include") && len(line) > 7 && (line[7] == ' ' || line[7] == '\t'):
				for _, pat := range strings.Fields(line[8:]) {
					if !path.IsAbs(pat) {
						// Relative to the including file's directory.
						pat = path.Join(path.Dir(file), pat)
					}
					matches, err := fs.Glob(l.view, strings.TrimPrefix(pat, "/"))
					if err != nil {
						warnings = append(warnings, fmt.Sprintf("%s:%d: bad include pattern %q", file, n+1, pat))
						continue
					}
					slices.Sort(matches)
					for _, m := range matches {
						parse("/"+m, depth+1)
					}
				}
			case strings.HasPrefix(line, "hwcap") && len(line) > 5 && (line[5] == ' ' || line[5] == '\t'):
				// Obsolete, ignored by ldconfig since glibc 2.37.
			default:
				// "DIR" or the old "DIR=TYPE".
				if i := strings.IndexByte(line, '='); i >= 0 {
					line = line[:i]
				}
				for _, d := range strings.FieldsFunc(line, func(r rune) bool { return r == ':' || r == ',' || r == ' ' || r == '\t' }) {
					add(d)
				}
			}
		}
	}
	parse("/etc/ld.so.conf", 0)
	for _, d := range s.systemDirs[:min(2, len(s.systemDirs))] {
		add(d)
	}
	return dirs, warnings
}

// buildCache is what ldconfig would write: for each directory, every
// library (a file named lib*.so* or ld-*.so* that is an ELF shared object
// for this loader) under its soname, then the same for the directory's
// glibc-hwcaps subdirectories; sorted as ldconfig sorts.
func (l *Loader) buildCache(s *system) (*ldcache.Cache, []string) {
	dirs, warnings := l.ldconfigDirs(s)
	c := &ldcache.Cache{Format: ldcache.FormatNew, Generator: "hitch (as if ldconfig ran)"}
	type lib struct {
		name, key string
		isLink    bool
	}
	scan := func(dir, hwcaps string) {
		entries, err := l.view.ReadDir(strings.TrimPrefix(dir, "/"))
		if err != nil {
			return
		}
		var libs []*lib
		byKey := map[string]*lib{}
		for _, e := range entries {
			name := e.Name()
			// _dl_is_dso: lib*.so* or ld-*.so*.
			if !(strings.HasPrefix(name, "lib") || strings.HasPrefix(name, "ld-")) || !strings.Contains(name, ".so") {
				continue
			}
			isLink := e.Type()&fs.ModeSymlink != 0
			if !isLink && !e.Type().IsRegular() {
				continue
			}
			file, err := l.view.Resolve(path.Join(dir, name))
			if err != nil {
				continue // a dangling link
			}
			f, err := l.Facts(file)
			if err != nil || (f.Type != "dyn" && f.Type != "pie") || f.Class != s.class || f.Machine != s.machine {
				continue
			}
			key := f.Soname
			if key == "" {
				key = name
			}
			// A link keeps its own name only when it is the soname or
			// the linker's libfoo.so pointing at it; any other link is
			// taken as a file with that soname (search_dir).
			if isLink && name != key && !(strings.HasSuffix(name, ".so") && strings.HasPrefix(key, name)) {
				isLink = false
			}
			if isLink {
				key = name
			}
			if old := byKey[key]; old != nil {
				// Prefer a file to a link, else the newer name.
				if (!isLink && old.isLink) || (isLink == old.isLink && ldcache.Compare(old.name, name) < 0) {
					old.name, old.isLink = name, isLink
				}
				continue
			}
			lb := &lib{name: name, key: key, isLink: isLink}
			byKey[key] = lb
			libs = append(libs, lb)
		}
		legacy := uint64(0)
		if hwcaps == "" && s.version != 0 && s.version <= 2036 && s.machine == "x86_64" {
			legacy = legacyHWCap(dir)
		}
		for _, lb := range libs {
			en := ldcache.Entry{Name: lb.key, Path: path.Join(dir, lb.key), Flags: s.want.Flags, HWCap: legacy}
			if hwcaps != "" {
				// glibc-hwcaps entries name the file itself.
				en.Path, en.HWCaps, en.HWCap = path.Join(dir, lb.name), hwcaps, 1<<62 // DL_CACHE_HWCAP_EXTENSION
			}
			c.Entries = append(c.Entries, en)
		}
	}
	for _, d := range dirs {
		scan(d, "")
		if subs, err := l.view.ReadDir(strings.TrimPrefix(path.Join(d, "glibc-hwcaps"), "/")); err == nil {
			for _, sub := range subs {
				if sub.IsDir() {
					scan(path.Join(d, "glibc-hwcaps", sub.Name()), sub.Name())
				}
			}
		}
	}
	// As ldconfig sorts (cache.c compare): descending by name as the
	// loader's binary search expects; for one name, glibc-hwcaps entries
	// first by subdirectory, then the most legacy hwcap bits, then in
	// directory order.
	slices.SortStableFunc(c.Entries, func(a, b ldcache.Entry) int {
		if r := ldcache.Compare(b.Name, a.Name); r != 0 {
			return r
		}
		switch {
		case a.HWCaps != "" && b.HWCaps == "":
			return -1
		case a.HWCaps == "" && b.HWCaps != "":
			return 1
		case a.HWCaps != b.HWCaps:
			return strings.Compare(a.HWCaps, b.HWCaps)
		}
		if a.HWCaps == "" {
			if d := bits.OnesCount64(b.HWCap) - bits.OnesCount64(a.HWCap); d != 0 {
				return d
			}
			return cmp.Compare(b.HWCap, a.HWCap)
		}
		return 0
	})
	return c, warnings
}

// legacyHWCaps are the x86-64 hwcap and platform names that ldconfig up to
// glibc 2.36 reads in a directory's path (path_hwcap): a library in
// /opt/x86_64 is filed under the "x86_64" hwcap, which such a loader
// prefers to a plain entry of the same name.
var legacyHWCaps = map[string]uint64{
	"x86_64":   1 << 1,
	"avx512_1": 1 << 2,
	"haswell":  1 << 48,
	"xeon_phi": 1 << 49,
	"tls":      1 << 63,
}

// legacyHWCap ORs the bits of the hwcap names that end dir's path.
func legacyHWCap(dir string) uint64 {
	var bits uint64
	for d := path.Clean(dir); d != "/" && d != "."; d = path.Dir(d) {
		b, ok := legacyHWCaps[path.Base(d)]
		if !ok {
			break
		}
		bits |= b
	}
	return bits
}
