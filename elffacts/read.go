package elffacts

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// ErrNotELF is returned by Read for input that does not start with the
// ELF magic number. Callers walking trees of mixed files branch on it.
var ErrNotELF = errors.New("not an ELF file")

// HasMagic reports whether r starts with the four bytes of the ELF magic
// number. It reads nothing else, so a walk can skip other files cheaply.
func HasMagic(r io.ReaderAt) (bool, error) {
	var b [4]byte
	n, err := r.ReadAt(b[:], 0)
	if n < len(b) {
		if err == io.EOF || err == nil {
			return false, nil
		}
		return false, err
	}
	return string(b[:]) == elf.ELFMAG, nil
}

// Option changes how Read reads.
type Option func(*options)

type options struct{ noHash, noSymbols bool }

// WithoutSymbols leaves out the dynamic symbols and the version tables
// (which debug/elf reads with them): what is left is what the loader
// needs to find an object's dependencies, at a fraction of the cost.
func WithoutSymbols() Option { return func(o *options) { o.noSymbols = true } }

// WithoutHash leaves SHA256 empty. Hashing reads every byte and is most of
// Read's cost; a caller that only needs the facts for one run (the loader
// emulation) skips it.
func WithoutHash() Option { return func(o *options) { o.noHash = true } }

// Read returns the facts of the ELF object in r, which holds size bytes.
//
// Malformed input gives an error, never a panic: debug/elf can panic on
// hostile files, and Read turns that into an error at this boundary.
func Read(r io.ReaderAt, size int64, opts ...Option) (facts *Facts, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	defer func() {
		if p := recover(); p != nil {
			facts, err = nil, fmt.Errorf("malformed ELF: parser failed: %v", p)
		}
	}()
	ok, err := HasMagic(r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotELF
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, truncated(err)
	}
	x := &extractor{f: f, facts: &Facts{Schema: SchemaVersion, Size: size}, noSymbols: o.noSymbols}
	if err := x.run(); err != nil {
		return nil, truncated(err)
	}
	if o.noHash {
		return x.facts, nil
	}
	sum, err := hash(r, size)
	if err != nil {
		return nil, fmt.Errorf("hashing: %w", err)
	}
	x.facts.SHA256 = sum
	return x.facts, nil
}

// hashBuffers are reused across files: hashing reads every byte of every
// object, the largest part of a walk's cost.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func hash(r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	if _, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, size), *buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// truncated names the common case of a file that ends too early, which
// debug/elf reports as a bare EOF.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("file is truncated: %w", err)
	}
	return err
}

type extractor struct {
	f         *elf.File
	facts     *Facts
	noSymbols bool
}

func (x *extractor) warnf(format string, args ...any) {
	x.facts.Warnings = append(x.facts.Warnings, fmt.Sprintf(format, args...))
}

func (x *extractor) run() error {
	f, facts := x.f, x.facts
	facts.Class = map[elf.Class]string{elf.ELFCLASS32: "ELF32", elf.ELFCLASS64: "ELF64"}[f.Class]
	facts.ByteOrder = map[elf.Data]string{elf.ELFDATA2LSB: "little", elf.ELFDATA2MSB: "big"}[f.Data]
	facts.Machine = strings.ToLower(strings.TrimPrefix(f.Machine.String(), "EM_"))
	facts.OSABI = strings.ToLower(strings.TrimPrefix(f.OSABI.String(), "ELFOSABI_"))
	facts.ABIVersion = int(f.ABIVersion)

	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			s, err := readString(p.Open(), maxInterp)
			if err != nil {
				return fmt.Errorf("reading PT_INTERP at offset %d: %w", p.Off, err)
			}
			facts.Interp = s
		case elf.PT_DYNAMIC:
			facts.Dynamic = true
		}
	}
	flags1, err := x.dynamic()
	if err != nil {
		return err
	}
	switch f.Type {
	case elf.ET_EXEC:
		facts.Type = "exec"
	case elf.ET_DYN:
		// binutils marks position-independent executables with DF_1_PIE
		// (since 2.33); file(1) reads it the same way.
		facts.Type = "dyn"
		if flags1&uint64(elf.DF_1_PIE) != 0 {
			facts.Type = "pie"
		}
	case elf.ET_REL:
		facts.Type = "rel"
	case elf.ET_CORE:
		facts.Type = "core"
	default:
		facts.Type = fmt.Sprintf("0x%x", uint16(f.Type))
	}
	// Symbols first: debug/elf then keeps the version tables it read
	// with them, which versions reuses instead of reading the symbol
	// table a second time.
	if !x.noSymbols {
		if err := x.symbols(); err != nil {
			return err
		}
		if err := x.versions(); err != nil {
			return err
		}
	}
	return x.notes()
}

// maxInterp bounds PT_INTERP; the kernel refuses interpreters longer than
// PATH_MAX as well.
const maxInterp = 4096

func readString(r io.Reader, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

// dynamic reads the dynamic section in one pass and returns DT_FLAGS_1.
// Like the loader, it stops at the first DT_NULL.
func (x *extractor) dynamic() (flags1 uint64, err error) {
	f, facts := x.f, x.facts
	ds := f.SectionByType(elf.SHT_DYNAMIC)
	if ds == nil {
		if facts.Dynamic {
			x.warnf("PT_DYNAMIC present but no SHT_DYNAMIC section header: dynamic tags not read")
		}
		return 0, nil
	}
	d, err := ds.Data()
	if err != nil {
		return 0, fmt.Errorf("reading dynamic section at offset %d: %w", ds.Offset, err)
	}
	var str []byte
	if int(ds.Link) < len(f.Sections) && ds.Link != 0 {
		if str, err = f.Sections[ds.Link].Data(); err != nil {
			return 0, fmt.Errorf("reading dynamic string table: %w", err)
		}
	} else {
		x.warnf("dynamic section links to no string table (link %d)", ds.Link)
	}
	entSize := 8
	if f.Class == elf.ELFCLASS64 {
		entSize = 16
	}
	stringAt := func(tag elf.DynTag, off uint64) string {
		s, ok := cString(str, off)
		if !ok {
			x.warnf("%v string offset %d outside the string table", tag, off)
		}
		return s
	}
	for ; len(d) >= entSize; d = d[entSize:] {
		var tag elf.DynTag
		var val uint64
		if entSize == 16 {
			tag, val = elf.DynTag(f.ByteOrder.Uint64(d)), f.ByteOrder.Uint64(d[8:])
		} else {
			tag, val = elf.DynTag(f.ByteOrder.Uint32(d)), uint64(f.ByteOrder.Uint32(d[4:]))
		}
		switch tag {
		case elf.DT_NULL:
			return flags1, nil
		case elf.DT_NEEDED:
			facts.Needed = append(facts.Needed, stringAt(tag, val))
		case elf.DT_SONAME:
			facts.Soname = stringAt(tag, val)
		case elf.DT_RPATH:
			// glibc elf/dl-load.c splits on ':' only; an empty entry
			// means the current directory.
			facts.RPath = append(facts.RPath, strings.Split(stringAt(tag, val), ":")...)
		case elf.DT_RUNPATH:
			facts.RunPath = append(facts.RunPath, strings.Split(stringAt(tag, val), ":")...)
		case elf.DT_FLAGS:
			facts.Flags = flagNames(val, func(b uint64) string { return elf.DynFlag(b).String() }, "DF_")
		case elf.DT_FLAGS_1:
			flags1 = val
			facts.Flags1 = flagNames(val, func(b uint64) string { return elf.DynFlag1(b).String() }, "DF_1_")
		}
	}
	return flags1, nil
}

func flagNames(v uint64, name func(uint64) string, prefix string) []string {
	var out []string
	for bit := uint64(1); bit != 0 && bit <= v; bit <<= 1 {
		if v&bit != 0 {
			out = append(out, strings.TrimPrefix(name(bit), prefix))
		}
	}
	return out
}

func cString(tab []byte, off uint64) (string, bool) {
	if off >= uint64(len(tab)) {
		return "", false
	}
	b := tab[off:]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]), true
	}
	return string(b), false
}

// versions reads DT_VERDEF and DT_VERNEED.
func (x *extractor) versions() error {
	f, facts := x.f, x.facts
	if f.SectionByType(elf.SHT_GNU_VERSYM) == nil {
		// debug/elf reads verdef and verneed only alongside versym; the
		// loader checks DT_VERNEED even without symbols, but no linker
		// emits one without the other.
		if f.SectionByType(elf.SHT_GNU_VERNEED) != nil || f.SectionByType(elf.SHT_GNU_VERDEF) != nil {
			x.warnf("version sections without a version symbol table: versions not read")
		}
		return nil
	}
	// Each of these reads the whole symbol table again unless the table
	// it returns was found with the symbols: ask only for what exists.
	var defs []elf.DynamicVersion
	if f.SectionByType(elf.SHT_GNU_VERDEF) != nil {
		var err error
		if defs, err = f.DynamicVersions(); err != nil {
			return fmt.Errorf("reading version definitions: %w", err)
		}
	}
	for _, d := range defs {
		facts.VersionDefs = append(facts.VersionDefs, VersionDef{
			Index:   int(d.Index),
			Name:    d.Name,
			Base:    d.Flags&elf.VER_FLG_BASE != 0,
			Weak:    d.Flags&elf.VER_FLG_WEAK != 0,
			Parents: d.Deps,
		})
	}
	var needs []elf.DynamicVersionNeed
	if f.SectionByType(elf.SHT_GNU_VERNEED) != nil {
		var err error
		if needs, err = f.DynamicVersionNeeds(); err != nil {
			return fmt.Errorf("reading version needs: %w", err)
		}
	}
	for _, n := range needs {
		vn := VersionNeed{File: n.Name, Versions: []NeededVersion{}}
		for _, v := range n.Needs {
			vn.Versions = append(vn.Versions, NeededVersion{
				Index: int(v.Index),
				Name:  v.Dep,
				Weak:  v.Flags&elf.VER_FLG_WEAK != 0,
			})
		}
		facts.VersionNeeds = append(facts.VersionNeeds, vn)
	}
	return nil
}

var bindingNames = map[elf.SymBind]string{
	elf.STB_GLOBAL: "global",
	elf.STB_WEAK:   "weak",
	10:             "unique", // STB_GNU_UNIQUE
}

var typeNames = map[elf.SymType]string{
	elf.STT_NOTYPE: "notype",
	elf.STT_OBJECT: "object",
	elf.STT_FUNC:   "func",
	elf.STT_COMMON: "common",
	elf.STT_TLS:    "tls",
	10:             "ifunc", // STT_GNU_IFUNC
}

func symType(t elf.SymType) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "STT_"))
}

// symbols splits the dynamic symbol table into defined and required
// symbols. Local symbols are left out: the loader never binds to them.
func (x *extractor) symbols() error {
	f, facts := x.f, x.facts
	if f.SectionByType(elf.SHT_DYNSYM) == nil {
		return nil
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("reading dynamic symbols: %w", err)
	}
	undef := 0
	for i := range syms {
		if syms[i].Section == elf.SHN_UNDEF {
			undef++
		}
	}
	facts.Required = make([]RequiredSymbol, 0, undef)
	facts.Defined = make([]DefinedSymbol, 0, len(syms)-undef)
	// defIndex maps a dynamic symbol table index (1-based: debug/elf
	// drops the null symbol) to its place in Defined, for copy relocations.
	defIndex := map[int]int{}
	for i, s := range syms {
		bind, ok := bindingNames[elf.ST_BIND(s.Info)]
		if !ok {
			continue
		}
		version := s.Version
		if s.HasVersion && s.VersionIndex.Index() <= 1 {
			version = "" // VER_NDX_LOCAL and VER_NDX_GLOBAL: unversioned
		}
		if s.Section == elf.SHN_UNDEF {
			facts.Required = append(facts.Required, RequiredSymbol{
				Name:    s.Name,
				Version: version,
				From:    s.Library,
				Weak:    bind == "weak",
				Type:    symType(elf.ST_TYPE(s.Info)),
			})
			continue
		}
		defIndex[i+1] = len(facts.Defined)
		facts.Defined = append(facts.Defined, DefinedSymbol{
			Name:    s.Name,
			Version: version,
			Hidden:  version != "" && s.VersionIndex.IsHidden(),
			From:    s.Library,
			Binding: bind,
			Type:    symType(elf.ST_TYPE(s.Info)),
			Size:    s.Size,
		})
	}
	if f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN {
		for _, idx := range x.copyRelocs() {
			if d, ok := defIndex[idx]; ok {
				facts.Defined[d].Copy = true
			}
		}
	}
	return nil
}

// copyTypes are the copy relocation types by machine.
var copyTypes = map[elf.Machine]uint32{
	elf.EM_X86_64:  uint32(elf.R_X86_64_COPY),
	elf.EM_386:     uint32(elf.R_386_COPY),
	elf.EM_AARCH64: uint32(elf.R_AARCH64_COPY),
	elf.EM_ARM:     uint32(elf.R_ARM_COPY),
	elf.EM_PPC64:   uint32(elf.R_PPC64_COPY),
	elf.EM_PPC:     uint32(elf.R_PPC_COPY),
	elf.EM_S390:    uint32(elf.R_390_COPY),
	elf.EM_RISCV:   uint32(elf.R_RISCV_COPY),
	elf.EM_SPARCV9: uint32(elf.R_SPARC_COPY),
}

// maxRelocSection bounds what is read of one relocation section.
const maxRelocSection = 256 << 20

// copyRelocs returns the dynamic symbol indices that copy relocations
// name, from the REL and RELA sections linked to the dynamic symbol
// table. Unreadable sections are skipped with a warning.
func (x *extractor) copyRelocs() []int {
	f := x.f
	want, ok := copyTypes[f.Machine]
	if !ok {
		return nil
	}
	dynsym := -1
	for i, s := range f.Sections {
		if s.Type == elf.SHT_DYNSYM {
			dynsym = i
		}
	}
	var idx []int
	for _, s := range f.Sections {
		if (s.Type != elf.SHT_RELA && s.Type != elf.SHT_REL) || int(s.Link) != dynsym || s.Size > maxRelocSection {
			continue
		}
		data, err := s.Data()
		if err != nil {
			x.warnf("reading relocations in %s: %v", s.Name, err)
			continue
		}
		bo := f.ByteOrder
		var size int
		switch {
		case f.Class == elf.ELFCLASS64 && s.Type == elf.SHT_RELA:
			size = 24
		case f.Class == elf.ELFCLASS64:
			size = 16
		case s.Type == elf.SHT_RELA:
			size = 12
		default:
			size = 8
		}
		for off := 0; off+size <= len(data); off += size {
			var sym, typ uint32
			if f.Class == elf.ELFCLASS64 {
				info := bo.Uint64(data[off+8:])
				sym, typ = uint32(info>>32), uint32(info)
			} else {
				info := bo.Uint32(data[off+4:])
				sym, typ = info>>8, info&0xff
			}
			if typ == want && sym != 0 {
				idx = append(idx, int(sym))
			}
		}
	}
	return idx
}
