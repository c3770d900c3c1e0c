package elffacts

import (
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
)

// Note types and GNU property types, from binutils include/elf/common.h.
const (
	ntGNUBuildID       = 3
	ntGNUPropertyType0 = 5

	gnuPropertyX86Feature1And = 0xc0000002
	gnuPropertyX86ISA1Needed  = 0xc0008002

	// maxNotes bounds how much of one note segment is read: real ones are
	// a few hundred bytes.
	maxNotes = 1 << 20
)

var x86ISALevels = []string{"x86-64-baseline", "x86-64-v2", "x86-64-v3", "x86-64-v4"}

var x86Features = []string{"IBT", "SHSTK", "LAM_U48", "LAM_U57"}

// notes reads the build-id and the GNU property note. Like the loader it
// reads PT_NOTE segments; objects without program headers (relocatable
// files) fall back to SHT_NOTE sections.
func (x *extractor) notes() error {
	found := false
	for _, p := range x.f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		found = true
		if err := x.noteBlock(p.Open(), p.Filesz, p.Align, p.Off); err != nil {
			return err
		}
	}
	if found {
		return nil
	}
	for _, s := range x.f.Sections {
		if s.Type != elf.SHT_NOTE || s.Flags&elf.SHF_COMPRESSED != 0 {
			continue
		}
		if err := x.noteBlock(s.Open(), s.Size, s.Addralign, s.Offset); err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) noteBlock(r io.Reader, size, align, off uint64) error {
	if size > maxNotes {
		x.warnf("note block at offset %d is %d bytes: skipped", off, size)
		return nil
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("reading notes at offset %d: %w", off, err)
	}
	// gABI: 4-byte alignment; GNU property notes in ELF64 use 8.
	if align != 8 {
		align = 4
	}
	bo := x.f.ByteOrder
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		nameEnd := 12 + namesz
		descStart := alignUp(nameEnd, align)
		descEnd := descStart + descsz
		if descEnd > uint64(len(b)) || descEnd < descStart {
			x.warnf("truncated note at offset %d", off)
			return nil
		}
		name := string(b[12:nameEnd])
		desc := b[descStart:descEnd]
		if name == "GNU\x00" {
			switch typ {
			case ntGNUBuildID:
				x.facts.BuildID = hex.EncodeToString(desc)
			case ntGNUPropertyType0:
				x.properties(desc)
			}
		}
		next := alignUp(descEnd, align)
		if next > uint64(len(b)) {
			break
		}
		b = b[next:]
		off += next
	}
	return nil
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// properties reads the array of GNU properties in a
// NT_GNU_PROPERTY_TYPE_0 note: type, size, data padded to the word size.
func (x *extractor) properties(desc []byte) {
	bo := x.f.ByteOrder
	pad := uint64(4)
	if x.f.Class == elf.ELFCLASS64 {
		pad = 8
	}
	for len(desc) >= 8 {
		typ, sz := bo.Uint32(desc), uint64(bo.Uint32(desc[4:]))
		end := 8 + sz
		if end > uint64(len(desc)) {
			x.warnf("truncated GNU property 0x%x", typ)
			return
		}
		if sz == 4 {
			v := bo.Uint32(desc[8:])
			switch typ {
			case gnuPropertyX86ISA1Needed:
				x.facts.X86ISANeeded = bitNames(v, x86ISALevels)
			case gnuPropertyX86Feature1And:
				x.facts.X86Features = bitNames(v, x86Features)
			}
		}
		next := alignUp(end, pad)
		if next > uint64(len(desc)) {
			return
		}
		desc = desc[next:]
	}
}

func bitNames(v uint32, names []string) []string {
	var out []string
	for i := 0; i < 32; i++ {
		if v&(1<<i) == 0 {
			continue
		}
		if i < len(names) {
			out = append(out, names[i])
		} else {
			out = append(out, fmt.Sprintf("bit%d", i))
		}
	}
	return out
}
