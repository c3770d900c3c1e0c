package elffacts

import (
	"errors"
	"fmt"
	"slices"
)

var (
	validClasses  = []string{"ELF32", "ELF64"}
	validOrders   = []string{"little", "big"}
	validTypes    = []string{"exec", "dyn", "pie", "rel", "core"}
	validBindings = []string{"global", "weak", "unique"}
)

// Validate checks the invariants that every Facts value produced by Read
// holds. Tests of every package that produces or transforms facts run it
// on their results; it returns all violations joined.
func Validate(f *Facts) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.Schema != SchemaVersion {
		bad("schema %d, want %d", f.Schema, SchemaVersion)
	}
	if f.SHA256 != "" && (len(f.SHA256) != 64 || !isHex(f.SHA256)) {
		bad("sha256 %q is not 64 hex digits", f.SHA256)
	}
	if f.Size <= 0 {
		bad("size %d", f.Size)
	}
	if !slices.Contains(validClasses, f.Class) {
		bad("class %q", f.Class)
	}
	if !slices.Contains(validOrders, f.ByteOrder) {
		bad("byte order %q", f.ByteOrder)
	}
	if f.Machine == "" {
		bad("empty machine")
	}
	if !slices.Contains(validTypes, f.Type) && (len(f.Type) < 3 || f.Type[:2] != "0x") {
		bad("type %q", f.Type)
	}
	if f.Type == "pie" && !slices.Contains(f.Flags1, "PIE") {
		bad("type pie without DF_1_PIE")
	}
	if !f.Dynamic && (len(f.Needed) > 0 || f.Soname != "") && !slices.Contains([]string{"rel"}, f.Type) {
		bad("needed/soname without a dynamic segment")
	}
	if f.BuildID != "" && !isHex(f.BuildID) {
		bad("build-id %q is not hex", f.BuildID)
	}
	defined := map[string]bool{}
	for _, d := range f.VersionDefs {
		if d.Name == "" {
			bad("version definition %d has no name", d.Index)
		}
		defined[d.Name] = true
	}
	type need struct{ file, version string }
	needed := map[need]bool{}
	for _, vn := range f.VersionNeeds {
		if vn.File == "" {
			bad("version need with no file")
		}
		for _, v := range vn.Versions {
			if v.Name == "" {
				bad("version need from %s with no name", vn.File)
			}
			needed[need{vn.File, v.Name}] = true
		}
	}
	for _, s := range f.Defined {
		if s.Name == "" && s.Type != "notype" {
			bad("defined symbol with no name")
		}
		if !slices.Contains(validBindings, s.Binding) {
			bad("symbol %s: binding %q", s.Name, s.Binding)
		}
		if s.Hidden && s.Version == "" {
			bad("symbol %s: hidden without a version", s.Name)
		}
		switch {
		case s.From == "" && s.Version != "" && !defined[s.Version]:
			bad("symbol %s: version %s is not defined", s.Name, s.Version)
		case s.From != "" && !needed[need{s.From, s.Version}]:
			bad("symbol %s: version %s is not needed from %s", s.Name, s.Version, s.From)
		}
	}
	for _, s := range f.Required {
		if s.Version != "" && !needed[need{s.From, s.Version}] {
			bad("required %s@%s: version not needed from %q", s.Name, s.Version, s.From)
		}
	}
	return errors.Join(errs...)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
