package ldcache_test

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/hitch-hpc/hitch/ldcache"
)

// newCache builds a new-format cache with the given entries, string
// indices and counts as given, so tests can make it lie.
func newCache(nlibs uint32, entries [][3]uint32, strs string) []byte {
	b := make([]byte, 48, 48+24*len(entries)+len(strs))
	copy(b, "glibc-ld.so.cache1.1")
	le := binary.LittleEndian
	le.PutUint32(b[20:], nlibs)
	le.PutUint32(b[24:], uint32(len(strs)))
	b[28] = 2
	for _, e := range entries {
		var ent [24]byte
		le.PutUint32(ent[0:], e[0])
		le.PutUint32(ent[4:], e[1])
		le.PutUint32(ent[8:], e[2])
		b = append(b, ent[:]...)
	}
	return append(b, strs...)
}

func TestMalformed(t *testing.T) {
	strBase := uint32(48 + 24)
	good := newCache(1, [][3]uint32{{0x303, strBase, strBase + 10}}, "libz.so.1\x00/lib/libz.so.1\x00")
	if c, err := ldcache.Parse(good); err != nil || len(c.Entries) != 1 || c.Entries[0].Path != "/lib/libz.so.1" {
		t.Fatalf("Parse(good) = %+v, %v", c, err)
	}
	tests := map[string][]byte{
		"empty":          nil,
		"unknown magic":  []byte("not a cache at all, really not"),
		"short header":   []byte("glibc-ld.so.cache1.1\x01\x00"),
		"too many libs":  newCache(1<<30, nil, ""),
		"key past end":   newCache(1, [][3]uint32{{0x303, 1 << 20, strBase}}, "x\x00"),
		"no NUL":         newCache(1, [][3]uint32{{0x303, strBase, strBase}}, "libz"),
		"old short":      []byte("ld.so-1.7.0\x00"),
		"old too many":   append([]byte("ld.so-1.7.0\x00"), 0xff, 0xff, 0xff, 0x0f),
		"invalid endian": func() []byte { b := append([]byte(nil), good...); b[28] = 1; return b }(),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ldcache.Parse(b)
			var fe *ldcache.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, want a FormatError", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	strBase := uint32(48 + 24)
	f.Add(newCache(1, [][3]uint32{{0x303, strBase, strBase + 10}}, "libz.so.1\x00/lib/libz.so.1\x00"))
	f.Add([]byte("ld.so-1.7.0\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00a\x00b\x00"))
	if b, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
		f.Add(b)
	}
	w, _ := ldcache.WantFor("ELF64", "x86_64")
	w.HWCaps = []string{"x86-64-v3", "x86-64-v2"}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ldcache.Parse(b)
		if err != nil {
			return
		}
		for _, e := range c.Entries {
			if p, ok := c.Lookup(e.Name, w); ok && p == "" {
				t.Fatalf("Lookup(%q) found an empty path", e.Name)
			}
		}
	})
}
