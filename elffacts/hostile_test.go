package elffacts_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// TestTruncated reads a real library cut at many lengths. ld puts the
// section headers last, so every cut copy must give an error, and none
// may come from a recovered panic.
func TestTruncated(t *testing.T) {
	lib, err := os.ReadFile(filepath.Join(fixture.ELF(t), "lib", "libver.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(lib); n += 31 {
		_, err := elffacts.Read(bytes.NewReader(lib[:n]), int64(n))
		switch {
		case err == nil:
			t.Errorf("cut at %d: no error", n)
		case strings.Contains(err.Error(), "parser failed"):
			t.Errorf("cut at %d: debug/elf panicked: %v", n, err)
		}
	}
}

// TestHostileHeaders patches header fields of a real library with
// absurd values.
func TestHostileHeaders(t *testing.T) {
	lib, err := os.ReadFile(filepath.Join(fixture.ELF(t), "lib", "libver.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(lib))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	dyn := f.SectionByType(elf.SHT_DYNAMIC)
	verneed := f.SectionByType(elf.SHT_GNU_VERDEF)
	// Section header i starts at e_shoff + i*64; sh_size is at +32.
	shoff := le.Uint64(lib[0x28:])
	shIndex := func(s *elf.Section) int {
		for i, x := range f.Sections {
			if x == s {
				return i
			}
		}
		t.Fatal("section not found")
		return 0
	}
	// want is a substring of the error, or of a warning when the facts
	// can still be read; "" means the facts are read as if nothing
	// happened (the loader would not notice either).
	tests := []struct {
		name  string
		patch func(b []byte)
		want  string
	}{
		{"e_shoff past the end", func(b []byte) { le.PutUint64(b[0x28:], 1<<40) }, "truncated"},
		{"e_phoff past the end", func(b []byte) { le.PutUint64(b[0x20:], 1<<40) }, "truncated"},
		{"e_shnum huge", func(b []byte) { le.PutUint16(b[0x3c:], 0xffff) }, "truncated"},
		{"e_phnum huge", func(b []byte) { le.PutUint16(b[0x38:], 0xffff) }, "truncated"},
		{"e_shstrndx out of range", func(b []byte) { le.PutUint16(b[0x3e:], 0xfff0) }, "invalid ELF shstrndx"},
		{"dynamic section huge", func(b []byte) {
			le.PutUint64(b[shoff+uint64(shIndex(dyn))*64+32:], 1<<50)
		}, "reading dynamic section at offset"},
		{"dynamic string table link out of range", func(b []byte) {
			le.PutUint32(b[shoff+uint64(shIndex(dyn))*64+40:], 0xffff)
		}, "dynamic section links to no string table"},
		{"verdef count huge", func(b []byte) {
			// vd_cnt of the first entry: the aux chain ends first.
			le.PutUint16(b[verneed.Offset+6:], 0xffff)
		}, ""},
		{"verdef version 2", func(b []byte) { le.PutUint16(b[verneed.Offset:], 2) }, "unexpected dynamic version"},
		{"all section types GNU_VERSYM", func(b []byte) {
			for i := 1; i < len(f.Sections); i++ {
				le.PutUint32(b[shoff+uint64(i)*64+4:], uint32(elf.SHT_GNU_VERSYM))
			}
		}, "invalid ELF section name string table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), lib...)
			tc.patch(b)
			facts, err := elffacts.Read(bytes.NewReader(b), int64(len(b)))
			var said string
			switch {
			case err != nil:
				said = err.Error()
			case facts == nil:
				t.Fatal("no facts and no error")
			default:
				said = strings.Join(facts.Warnings, "; ")
			}
			if strings.Contains(said, "parser failed") {
				t.Errorf("debug/elf panicked: %s", said)
			}
			if tc.want == "" && said != "" || !strings.Contains(said, tc.want) {
				t.Errorf("got %q, want it to say %q", said, tc.want)
			}
		})
	}
}
