package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hitch-hpc/hitch/elffacts"
)

// Hit is one place in the catalog that answers a query: a file of a
// system, the object it holds, and what matched.
type Hit struct {
	System string `json:"system"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Match  string `json:"match"`
}

func (s *Store) hits(ctx context.Context, query string, args ...any) ([]Hit, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.System, &h.Path, &h.SHA256, &h.Match); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Provides lists the files whose object has the soname.
func (s *Store) Provides(ctx context.Context, soname string) ([]Hit, error) {
	return s.hits(ctx, `SELECT s.name, f.path, o.sha256, o.soname
		FROM objects o JOIN files f ON f.object_id = o.id JOIN systems s ON s.id = f.system_id
		WHERE o.soname = $1 ORDER BY s.name, f.path`, soname)
}

// Defines lists the files whose object defines the symbol, at the
// version when one is given.
func (s *Store) Defines(ctx context.Context, name, version string) ([]Hit, error) {
	q := `SELECT s.name, f.path, o.sha256, y.name || CASE WHEN y.version = '' THEN '' ELSE '@' || y.version END
		FROM object_symbols y JOIN objects o ON o.id = y.object_id JOIN files f ON f.object_id = o.id JOIN systems s ON s.id = f.system_id
		WHERE y.defined = 1 AND y.name = $1`
	args := []any{name}
	if version != "" {
		q += ` AND y.version = $2`
		args = append(args, version)
	}
	return s.hits(ctx, q+` ORDER BY s.name, f.path`, args...)
}

// Needs lists the files whose object needs a version with the prefix at
// or above min: Needs(ctx, "GLIBC_", "2.34") finds what needs glibc 2.34
// or newer. The match is the highest such version the object needs.
func (s *Store) Needs(ctx context.Context, prefix, min string) ([]Hit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.name, f.path, o.sha256, v.name
		FROM object_versions v JOIN objects o ON o.id = v.object_id JOIN files f ON f.object_id = o.id JOIN systems s ON s.id = f.system_id
		WHERE v.name LIKE $1 ESCAPE '\' ORDER BY s.name, f.path`, strings.ReplaceAll(prefix, "_", `\_`)+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	best := map[[2]string]Hit{}
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.System, &h.Path, &h.SHA256, &h.Match); err != nil {
			return nil, err
		}
		v := strings.TrimPrefix(h.Match, prefix)
		if !dotted(v) || elffacts.CompareVersions(v, min) < 0 {
			continue
		}
		k := [2]string{h.System, h.Path}
		if old, ok := best[k]; !ok || elffacts.CompareVersions(v, strings.TrimPrefix(old.Match, prefix)) > 0 {
			best[k] = h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Hit, 0, len(best))
	for _, h := range best {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].System != out[j].System {
			return out[i].System < out[j].System
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

func dotted(v string) bool {
	if v == "" {
		return false
	}
	for _, p := range strings.Split(v, ".") {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// Change is one difference between two systems' objects.
type Change struct {
	Path   string `json:"path"`
	Change string `json:"change"` // "added", "removed", "changed"
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Diff lists the ELF objects that differ between two systems, by path.
func (s *Store) Diff(ctx context.Context, a, b string) ([]Change, error) {
	objs := func(name string) (map[string]string, error) {
		files, err := s.Files(ctx, name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, f := range files {
			if f.Kind == "elf" {
				m[f.Path] = f.SHA256
			}
		}
		return m, nil
	}
	before, err := objs(a)
	if err != nil {
		return nil, err
	}
	after, err := objs(b)
	if err != nil {
		return nil, err
	}
	var out []Change
	for p, sa := range before {
		switch sb, ok := after[p]; {
		case !ok:
			out = append(out, Change{Path: p, Change: "removed", Before: sa})
		case sa != sb:
			out = append(out, Change{Path: p, Change: "changed", Before: sa, After: sb})
		}
	}
	for p, sb := range after {
		if _, ok := before[p]; !ok {
			out = append(out, Change{Path: p, Change: "added", After: sb})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// String is a hit for people.
func (h Hit) String() string { return fmt.Sprintf("%s\t%s\t%s", h.System, h.Path, h.Match) }
