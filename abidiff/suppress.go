package abidiff

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// Suppressions are changes to leave out of a report, as abidiff's
// suppression specifications are in spirit: private symbols, a version
// node that is not part of the ABI, a kind of change a project accepts.
// The text format, one rule a line, "#" starting a comment:
//
//	symbol PATTERN    a symbol, by name or name@version
//	version PATTERN   a version node, and every symbol at it (GLIBC_PRIVATE)
//	library PATTERN   a library, by soname (when trees are compared)
//	kind KIND         a kind of change (needed-added, binding-changed, …)
//
// PATTERN is a shell pattern (path.Match: *, ?, [...]).
type Suppressions struct {
	symbols, versions, libraries, kinds []string
}

// SuppressionError is a bad line of a suppression file.
type SuppressionError struct {
	File string
	Line int
	Msg  string
}

func (e *SuppressionError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parse reads suppression rules from r; name names it in
// errors. Several files may be read into one Suppressions.
func (s *Suppressions) Parse(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return &SuppressionError{name, n, fmt.Sprintf("want RULE PATTERN, got %q", strings.TrimSpace(line))}
		}
		if _, err := path.Match(f[1], ""); err != nil {
			return &SuppressionError{name, n, fmt.Sprintf("pattern %q: %v", f[1], err)}
		}
		switch f[0] {
		case "symbol":
			s.symbols = append(s.symbols, f[1])
		case "version":
			s.versions = append(s.versions, f[1])
		case "library":
			s.libraries = append(s.libraries, f[1])
		case "kind":
			s.kinds = append(s.kinds, f[1])
		default:
			return &SuppressionError{name, n, fmt.Sprintf("unknown rule %q (want symbol, version, library or kind)", f[0])}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// Library reports whether changes to the library of this soname are
// suppressed.
func (s *Suppressions) Library(soname string) bool {
	return s != nil && matchAny(s.libraries, soname)
}

// suppressed reports whether a change matches a rule.
func (s *Suppressions) suppressed(c Change) bool {
	if matchAny(s.kinds, c.Kind) {
		return true
	}
	switch c.Kind {
	case VersionRemoved, VersionAdded:
		return matchAny(s.versions, c.Subject)
	case SymbolRemoved, SymbolAdded, SymbolMoved, SizeChanged, KindChanged, BindingChanged,
		DefaultChanged, UsedSymbolMissing, CopySizeChanged:
		name, version, _ := strings.Cut(c.Subject, "@")
		return matchAny(s.symbols, name) || matchAny(s.symbols, c.Subject) ||
			(version != "" && matchAny(s.versions, version))
	case UsedVersionMissing:
		return matchAny(s.versions, c.Subject)
	}
	return false
}

// Apply removes the suppressed changes from r and recounts it.
func (s *Suppressions) Apply(r *Report) {
	if s == nil {
		return
	}
	kept := r.Changes[:0]
	for _, c := range r.Changes {
		if s.suppressed(c) {
			r.Suppressed++
			continue
		}
		kept = append(kept, c)
	}
	r.Changes = kept
	r.count()
}
