// Package ldcache reads glibc's /etc/ld.so.cache and looks names up in it
// the way the dynamic loader does (glibc elf/dl-cache.c).
//
// Three layouts exist and all are read: the old libc5 format
// ("ld.so-1.7.0"), the new format ("glibc-ld.so.cache1.1", written alone
// by ldconfig since glibc 2.32) and the compat layout, an old table
// followed by a new one, which glibc 2.31 wrote by default. When both are
// present the loader uses the new table, and so does Lookup. The new
// format's extension directory names the glibc-hwcaps subdirectories
// (x86-64-v2, x86-64-v3, …) that entries may belong to.
package ldcache

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Flags of a cache entry (glibc sysdeps/generic/ldconfig.h). The low byte
// is the file type; the next byte the architecture.
const (
	FlagTypeMask   = 0x00ff
	FlagLibc5      = 0x0000
	FlagELF        = 0x0001
	FlagELFLibc5   = 0x0002
	FlagELFLibc6   = 0x0003
	FlagArchMask   = 0xff00
	FlagSPARCLib64 = 0x0100
	FlagIA64Lib64  = 0x0200
	FlagX8664Lib64 = 0x0300
	FlagS390Lib64  = 0x0400
	FlagPOWERPC64  = 0x0500
	FlagMIPS64N32  = 0x0600
	FlagMIPS64N64  = 0x0700
	FlagX8664X32   = 0x0800
	FlagARMHF      = 0x0900
	FlagAArch64    = 0x0a00
	FlagARMSF      = 0x0b00
	FlagMIPSLib32  = 0x0c00
	FlagMIPS64Lib  = 0x0d00
	FlagRISCVFloat = 0x0f00
	FlagRISCV64    = 0x1000
)

// hwcapExtension marks an entry whose hwcap's low 32 bits index the
// glibc-hwcaps subdirectory names (DL_CACHE_HWCAP_EXTENSION). Bits 32-41
// once held an ISA level (glibc 2.33) and are ignored in the test.
const (
	hwcapExtension     = uint64(1) << 62
	hwcapISALevelCount = 10
)

const (
	magicOld = "ld.so-1.7.0"
	magicNew = "glibc-ld.so.cache1.1"

	oldHeaderSize = 16 // magic[11], padding to 12, nlibs
	oldEntrySize  = 12 // flags, key, value
	newHeaderSize = 48
	newEntrySize  = 24 // flags, key, value, osversion, hwcap

	extensionMagic      = 0xeaa42174
	extensionGenerator  = 0
	extensionHWCaps     = 1
	extensionHeaderSize = 8
	extensionSectSize   = 16
)

// Format names the layout a cache file has.
type Format string

const (
	FormatOld    Format = "old"
	FormatNew    Format = "new"
	FormatCompat Format = "compat" // an old table followed by a new one
)

// Entry is one library in the cache.
type Entry struct {
	Name  string // the key: a soname, e.g. "libc.so.6"
	Path  string // the file the loader opens
	Flags int32
	// OSVersion is the minimum kernel version, 0 for none (new format).
	OSVersion uint32
	// HWCap is the raw hwcap word (new format).
	HWCap uint64
	// HWCaps is the glibc-hwcaps subdirectory the entry was found in, such
	// as "x86-64-v3", or "" for an ordinary entry.
	HWCaps string
}

// Cache is a parsed ld.so.cache. Entries are in file order, which is the
// order ldconfig sorted them in and the loader's binary search relies on.
type Cache struct {
	Format  Format
	Entries []Entry
	// Generator is the text ldconfig left in the extension directory,
	// such as "ldconfig (GNU libc) stable release version 2.36".
	Generator string
	// BigEndian is set for a new-format table that says it is big-endian.
	BigEndian bool
	// Warnings say what the loader would ignore: an unreadable extension
	// directory disables glibc-hwcaps entries, not the cache.
	Warnings []string
}

// FormatError reports a malformed cache file: what is wrong and at which
// byte offset.
type FormatError struct {
	Off int64
	Msg string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("malformed ld.so.cache at offset %#x: %s", e.Off, e.Msg)
}

func formatErr(off int, format string, args ...any) error {
	return &FormatError{Off: int64(off), Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a cache file's bytes. It checks what the loader checks and
// more: every string index must point inside the file and end in a NUL.
// The loader silently ignores a cache it cannot read; a caller that wants
// that behaviour treats an error as "no cache".
func Parse(b []byte) (*Cache, error) {
	switch {
	case bytes.HasPrefix(b, []byte(magicNew)):
		c, err := parseNew(b, 0)
		if err != nil {
			return nil, err
		}
		c.Format = FormatNew
		return c, nil
	case bytes.HasPrefix(b, []byte(magicOld)):
		return parseOld(b)
	default:
		n := min(len(b), len(magicNew))
		return nil, formatErr(0, "unknown magic %q", b[:n])
	}
}

func parseOld(b []byte) (*Cache, error) {
	if len(b) < oldHeaderSize {
		return nil, formatErr(0, "file too short for the header (%d bytes)", len(b))
	}
	// The old table has no byte-order mark; ldconfig writes it in the
	// machine's order, which is little-endian on every target hitch reads.
	le := binary.LittleEndian
	n := le.Uint32(b[12:])
	if uint64(n) > uint64(len(b)-oldHeaderSize)/oldEntrySize {
		return nil, formatErr(12, "%d entries do not fit in %d bytes", n, len(b))
	}
	end := oldHeaderSize + int(n)*oldEntrySize
	// The new table, if any, starts at the next 8-byte boundary and is
	// also where the old table's strings start (glibc dl-cache.h).
	newOff := (end + 7) &^ 7
	if newOff+newHeaderSize <= len(b) && bytes.HasPrefix(b[newOff:], []byte(magicNew)) {
		c, err := parseNew(b, newOff)
		if err != nil {
			return nil, err
		}
		c.Format = FormatCompat
		return c, nil
	}
	c := &Cache{Format: FormatOld, Entries: make([]Entry, 0, n)}
	strs := b[end:]
	for i := 0; i < int(n); i++ {
		off := oldHeaderSize + i*oldEntrySize
		e := Entry{Flags: int32(le.Uint32(b[off:]))}
		var err error
		if e.Name, err = cstring(strs, le.Uint32(b[off+4:]), end, off+4); err != nil {
			return nil, err
		}
		if e.Path, err = cstring(strs, le.Uint32(b[off+8:]), end, off+8); err != nil {
			return nil, err
		}
		c.Entries = append(c.Entries, e)
	}
	return c, nil
}

// parseNew reads the new-format table at offset base of file. Entry
// string indices count from the start of the table; the extension offset
// and the glibc-hwcaps name indices count from the start of the file, as
// the loader reads them (glibc_hwcaps_compare). In a compat file these
// differ, so glibc 2.33+ finds no usable hwcaps entry in one; Parse names
// the subdirectory the loader would see, and ldconfig -p agrees.
func parseNew(file []byte, base int) (*Cache, error) {
	b := file[base:]
	if len(b) < newHeaderSize {
		return nil, formatErr(base, "file too short for the header (%d bytes)", len(b))
	}
	c := &Cache{}
	var bo binary.ByteOrder = binary.LittleEndian
	switch b[28] & 3 {
	case 0, 2: // unset (an old ldconfig) or little
	case 3:
		bo, c.BigEndian = binary.BigEndian, true
	default:
		return nil, formatErr(base+28, "flags %#x mark the cache invalid", b[28])
	}
	n := bo.Uint32(b[20:])
	if uint64(n) > uint64(len(b)-newHeaderSize)/newEntrySize {
		return nil, formatErr(base+20, "%d entries do not fit in %d bytes", n, len(b))
	}
	var hwcaps []uint32
	if ext := bo.Uint32(b[32:]); ext != 0 {
		var err error
		if hwcaps, c.Generator, err = parseExtension(file, int(ext), bo); err != nil {
			// The loader then uses no glibc-hwcaps entry but keeps
			// the cache (cache_extension_load).
			c.Warnings = append(c.Warnings, err.Error())
		}
	}
	c.Entries = make([]Entry, 0, n)
	for i := 0; i < int(n); i++ {
		off := newHeaderSize + i*newEntrySize
		e := Entry{
			Flags:     int32(bo.Uint32(b[off:])),
			OSVersion: bo.Uint32(b[off+12:]),
			HWCap:     bo.Uint64(b[off+16:]),
		}
		var err error
		if e.Name, err = cstring(b, bo.Uint32(b[off+4:]), base, base+off+4); err != nil {
			return nil, err
		}
		if e.Path, err = cstring(b, bo.Uint32(b[off+8:]), base, base+off+8); err != nil {
			return nil, err
		}
		// A subdirectory index or name the loader cannot use leaves
		// HWCaps empty: such an entry is never chosen.
		if idx := uint32(e.HWCap); isExtension(e.HWCap) && int(idx) < len(hwcaps) {
			e.HWCaps, _ = cstring(file, hwcaps[idx], 0, 0)
		}
		c.Entries = append(c.Entries, e)
	}
	return c, nil
}

// isExtension reports whether only DL_CACHE_HWCAP_EXTENSION is set in the
// upper half, ISA level bits aside (dl_cache_hwcap_extension).
func isExtension(hwcap uint64) bool {
	return (hwcap>>32)&^(1<<hwcapISALevelCount-1) == hwcapExtension>>32
}

// parseExtension reads the extension directory at file offset off: the
// glibc-hwcaps name indices and the generator string.
func parseExtension(b []byte, off int, bo binary.ByteOrder) (hwcaps []uint32, generator string, err error) {
	if off%4 != 0 || off > len(b)-extensionHeaderSize {
		return nil, "", formatErr(off, "extension directory offset %#x is misaligned or past the end", off)
	}
	if m := bo.Uint32(b[off:]); m != extensionMagic {
		return nil, "", formatErr(off, "extension magic %#x, want %#x", m, extensionMagic)
	}
	count := bo.Uint32(b[off+4:])
	if uint64(count) > uint64(len(b)-off-extensionHeaderSize)/extensionSectSize {
		return nil, "", formatErr(off+4, "%d extension sections do not fit", count)
	}
	for i := 0; i < int(count); i++ {
		s := off + extensionHeaderSize + i*extensionSectSize
		tag, so, size := bo.Uint32(b[s:]), bo.Uint32(b[s+8:]), bo.Uint32(b[s+12:])
		if uint64(so)+uint64(size) > uint64(len(b)) {
			return nil, "", formatErr(s, "extension section %d (%d bytes at %#x) runs past the end", i, size, so)
		}
		data := b[so : so+size]
		switch tag {
		case extensionGenerator:
			generator = string(data)
		case extensionHWCaps:
			// The loader ignores a misaligned or empty section.
			if size == 0 || so%4 != 0 || size%4 != 0 {
				continue
			}
			hwcaps = make([]uint32, size/4)
			for j := range hwcaps {
				hwcaps[j] = bo.Uint32(data[4*j:])
			}
		}
	}
	return hwcaps, generator, nil
}

// cstring returns the NUL-terminated string at index idx of strs; base is
// added to error offsets, at is the offset of the field holding idx.
func cstring(strs []byte, idx uint32, base, at int) (string, error) {
	if uint64(idx) >= uint64(len(strs)) {
		return "", formatErr(at, "string index %#x is past the end of the file", uint64(idx)+uint64(base))
	}
	s := strs[idx:]
	n := bytes.IndexByte(s, 0)
	if n < 0 {
		return "", formatErr(at, "string at %#x has no terminating NUL", uint64(idx)+uint64(base))
	}
	return string(s[:n]), nil
}

// Want says which entries a loader accepts: the flags it was built for and
// the glibc-hwcaps subdirectories the CPU supports.
type Want struct {
	// Flags is the loader's _DL_CACHE_DEFAULT_ID, e.g. FlagELFLibc6|FlagX8664Lib64.
	Flags int32
	// AlsoELF accepts entries flagged plain FlagELF too, as the generic
	// _dl_cache_check_flags does (32-bit x86 and others); x86-64 and
	// AArch64 accept only their exact flags.
	AlsoELF bool
	// HWCaps are the active glibc-hwcaps subdirectories, most preferred
	// first, e.g. ["x86-64-v4", "x86-64-v3", "x86-64-v2"]. Entries from
	// other subdirectories are not used.
	HWCaps []string
	// LegacyHWCaps are the legacy hwcap bits the loader accepts in an
	// entry (glibc 2.36 and older: its hwcap word under its mask; on
	// x86-64 the "x86_64" bit, which ldconfig gives everything in a
	// directory named x86_64). Entries with other bits are skipped.
	LegacyHWCaps uint64
}

// HWCapX8664 is the legacy "x86_64" hwcap bit (HWCAP_X86_64).
const HWCapX8664 = 1 << 1

// WantFor returns what glibc's loader for the given ELF class and machine
// (as elffacts names them) accepts, and false for machines hitch does not
// know the cache flags of.
func WantFor(class, machine string) (Want, bool) {
	switch {
	case class == "ELF64" && machine == "x86_64":
		return Want{Flags: FlagELFLibc6 | FlagX8664Lib64}, true
	case class == "ELF32" && machine == "x86_64":
		return Want{Flags: FlagELFLibc6 | FlagX8664X32}, true
	case class == "ELF32" && machine == "386":
		return Want{Flags: FlagELFLibc6, AlsoELF: true}, true
	case class == "ELF64" && machine == "aarch64":
		return Want{Flags: FlagELFLibc6 | FlagAArch64}, true
	case class == "ELF64" && machine == "ppc64":
		return Want{Flags: FlagELFLibc6 | FlagPOWERPC64}, true
	case class == "ELF64" && machine == "s390":
		return Want{Flags: FlagELFLibc6 | FlagS390Lib64}, true
	case class == "ELF64" && machine == "riscv":
		return Want{Flags: FlagELFLibc6 | FlagRISCV64 | 0x0500 /* double float */}, true
	}
	return Want{}, false
}

func (w Want) accepts(flags int32) bool {
	return flags == w.Flags || (w.AlsoELF && flags == FlagELF)
}

// priority is the preference of a glibc-hwcaps subdirectory: 1 is best,
// 0 means not active.
func (w Want) priority(name string) int {
	for i, h := range w.HWCaps {
		if h == name {
			return i + 1
		}
	}
	return 0
}

// legacyTLS is the one legacy hwcap bit every loader accepts
// (_DL_HWCAP_TLS_MASK).
const legacyTLS = uint64(1) << 63

// Lookup returns the path the loader would try for name, as
// _dl_load_cache_lookup does: a binary search over the entries in file
// order under _dl_cache_libcmp, back to the first entry with that name,
// then the best glibc-hwcaps entry if one is active, else the first
// ordinary entry whose flags the loader accepts. A cache that is not
// sorted misleads the loader's search, and Lookup's too, in the same way.
//
// Entries with legacy hwcap bits (tls/x86_64/haswell/… subdirectories)
// are used only when Want.LegacyHWCaps has their bits.
func (c *Cache) Lookup(name string, w Want) (string, bool) {
	es := c.Entries
	left, right := 0, len(es)-1
	for left <= right {
		mid := (left + right) / 2
		// ldconfig sorts the table in descending order.
		cmp := Compare(name, es[mid].Name)
		if cmp < 0 {
			left = mid + 1
			continue
		}
		if cmp > 0 {
			right = mid - 1
			continue
		}
		for mid > 0 && Compare(name, es[mid-1].Name) == 0 {
			mid--
		}
		best, bestPrio := "", 0
		for ; mid <= right && Compare(name, es[mid].Name) == 0; mid++ {
			e := es[mid]
			if !w.accepts(e.Flags) {
				continue
			}
			named := c.Format != FormatOld && isExtension(e.HWCap)
			if named {
				p := w.priority(e.HWCaps)
				if p == 0 || (best != "" && p >= bestPrio) {
					continue
				}
				best, bestPrio = e.Path, p
				continue
			}
			// Named entries come first; an ordinary one after a
			// named match does not beat it. The old format has
			// no hwcaps, and a later entry with exact flags wins.
			if best != "" && c.Format != FormatOld {
				break
			}
			if e.HWCap&^(legacyTLS|w.LegacyHWCaps) != 0 {
				continue
			}
			best = e.Path
			if e.Flags == w.Flags {
				break
			}
		}
		return best, best != ""
	}
	return "", false
}

// Compare orders library names as ldconfig sorts them and the loader
// searches them (_dl_cache_libcmp): runs of digits compare as numbers, so
// "libfoo.so.10" sorts after "libfoo.so.9". ldconfig writes the table in
// descending order of Compare, so higher versions come first.
func Compare(a, b string) int {
	i, j := 0, 0
	for i < len(a) {
		ca := a[i]
		if isDigit(ca) {
			if j >= len(b) || !isDigit(b[j]) {
				return 1
			}
			va, vb := 0, 0
			for i < len(a) && isDigit(a[i]) {
				va = va*10 + int(a[i]-'0')
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				vb = vb*10 + int(b[j]-'0')
				j++
			}
			if va != vb {
				return va - vb
			}
			continue
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if j >= len(b) {
			return int(ca)
		}
		if ca != b[j] {
			return int(ca) - int(b[j])
		}
		i++
		j++
	}
	if j < len(b) {
		return -int(b[j])
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
