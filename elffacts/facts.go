// Package elffacts turns one ELF object into Facts: the ABI-relevant
// content of the file as the dynamic loader and linker see it (class,
// machine, interpreter, soname, needed libraries, search paths, flags,
// symbol versions and the dynamic symbols defined and required).
//
// Facts depend only on the bytes of the file, never on where it was found,
// so they are content-addressed by SHA256 and can be cached and shared
// between images that hold the same file. The JSON form is documented in
// docs/facts.md and described by docs/facts.schema.json.
package elffacts

// SchemaVersion is the version of the Facts JSON form. It changes when a
// field is removed or changes meaning; adding a field does not change it.
const SchemaVersion = 1

// Facts are the ABI facts of one ELF object.
type Facts struct {
	Schema int `json:"schema"`
	// SHA256 is empty only when read WithoutHash, which inspect never does.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`

	Class      string `json:"class"`      // "ELF32" or "ELF64"
	ByteOrder  string `json:"byte_order"` // "little" or "big"
	Machine    string `json:"machine"`    // e.g. "x86_64", "386", "aarch64"
	OSABI      string `json:"osabi"`      // e.g. "none" (System V), "linux"
	ABIVersion int    `json:"abi_version"`
	Type       string `json:"type"` // "exec", "dyn", "pie", "rel" or "core"

	// Interp is the program interpreter named by PT_INTERP.
	Interp string `json:"interp,omitempty"`
	// Dynamic reports whether the object has a dynamic segment; an
	// executable without one is statically linked.
	Dynamic bool `json:"dynamic"`

	Soname string   `json:"soname,omitempty"`
	Needed []string `json:"needed,omitempty"` // DT_NEEDED in file order
	// RPath and RunPath are the colon-separated entries of DT_RPATH and
	// DT_RUNPATH, unexpanded ($ORIGIN stays as written). An empty entry is
	// kept: glibc reads it as the current directory. Nil means the tag is
	// absent, which matters: DT_RUNPATH disables DT_RPATH.
	RPath   []string `json:"rpath,omitempty"`
	RunPath []string `json:"runpath,omitempty"`
	// Flags and Flags1 name the bits of DT_FLAGS (DF_*) and DT_FLAGS_1
	// (DF_1_*) without their prefix, e.g. "BIND_NOW", "NODEFLIB", "PIE".
	Flags  []string `json:"flags,omitempty"`
	Flags1 []string `json:"flags_1,omitempty"`

	BuildID string `json:"build_id,omitempty"` // hex
	// X86ISANeeded lists the x86-64 ISA levels marked as needed in the GNU
	// property note ("x86-64-baseline", "x86-64-v2", "x86-64-v3",
	// "x86-64-v4"); glibc refuses to load an object whose level the CPU
	// lacks.
	X86ISANeeded []string `json:"x86_isa_needed,omitempty"`
	// X86Features lists GNU_PROPERTY_X86_FEATURE_1_AND bits ("IBT", "SHSTK").
	X86Features []string `json:"x86_features,omitempty"`

	VersionDefs  []VersionDef  `json:"version_defs,omitempty"`
	VersionNeeds []VersionNeed `json:"version_needs,omitempty"`

	// Defined are the global, weak and unique symbols that the object
	// exports through its dynamic symbol table, in table order.
	Defined []DefinedSymbol `json:"defined,omitempty"`
	// Required are the undefined dynamic symbols, in table order.
	Required []RequiredSymbol `json:"required,omitempty"`

	// Warnings say what was odd but not fatal while reading the object.
	Warnings []string `json:"warnings,omitempty"`
}

// VersionDef is one entry of the version definition table (DT_VERDEF).
type VersionDef struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Base marks the entry that names the object itself (VER_FLG_BASE);
	// it is not a symbol version.
	Base bool `json:"base,omitempty"`
	Weak bool `json:"weak,omitempty"` // VER_FLG_WEAK
	// Parents are the versions this one inherits from.
	Parents []string `json:"parents,omitempty"`
}

// VersionNeed lists the versions that the object needs from one file
// (one DT_VERNEED entry). File is the DT_NEEDED name of the provider.
type VersionNeed struct {
	File     string          `json:"file"`
	Versions []NeededVersion `json:"versions"`
}

// NeededVersion is one version required from a file.
type NeededVersion struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Weak needs (VER_FLG_WEAK) only warn when missing.
	Weak bool `json:"weak,omitempty"`
}

// DefinedSymbol is a symbol the object exports.
type DefinedSymbol struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Hidden marks a non-default version (name@VERSION rather than
	// name@@VERSION): only a reference to exactly that version binds to it.
	Hidden bool `json:"hidden,omitempty"`
	// From is set when the version is one the object needs from another
	// file rather than one it defines: the copy of a copy-relocated
	// object in an executable carries its provider's version.
	From    string `json:"from,omitempty"`
	Binding string `json:"binding"` // "global", "weak" or "unique"
	Type    string `json:"type"`    // "func", "object", "tls", "ifunc", "notype", "common"
	Size    uint64 `json:"size"`
	// Copy marks the target of a copy relocation: the program holds a copy
	// of a library's object, Size bytes of it, made at load time.
	Copy bool `json:"copy,omitempty"`
}

// RequiredSymbol is an undefined symbol that the loader must bind.
type RequiredSymbol struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// From is the file the version is needed from (DT_VERNEED), empty for
	// unversioned references.
	From string `json:"from,omitempty"`
	// Weak references may stay unbound.
	Weak bool   `json:"weak,omitempty"`
	Type string `json:"type"`
}

// Default reports whether the symbol is the default version of its name,
// printed as name@@VERSION by readelf: a version the object defines, not
// hidden.
func (s DefinedSymbol) Default() bool { return s.Version != "" && !s.Hidden && s.From == "" }

// IsExecutable reports whether the object is a program rather than a
// library: an EXEC or a PIE.
func (f *Facts) IsExecutable() bool { return f.Type == "exec" || f.Type == "pie" }

// MaxNeededVersion returns the highest version with the given prefix that
// the object needs from any file, comparing the dotted numbers after the
// prefix (so "GLIBC_2.34" is above "GLIBC_2.4"). Names whose rest is not a
// dotted number, such as GLIBC_PRIVATE, are ignored. It returns "" when
// there is none.
func (f *Facts) MaxNeededVersion(prefix string) string {
	best := ""
	for _, vn := range f.VersionNeeds {
		for _, v := range vn.Versions {
			if !hasNumericSuffix(v.Name, prefix) {
				continue
			}
			if best == "" || CompareVersions(v.Name[len(prefix):], best[len(prefix):]) > 0 {
				best = v.Name
			}
		}
	}
	return best
}
