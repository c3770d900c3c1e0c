package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/store"
)

func snapshot(name, ref string, objs ...*elffacts.Facts) *store.Snapshot {
	sn := &store.Snapshot{
		System:  store.System{Name: name, Role: "image", Ref: ref, Kind: "dir", Arch: "ELF64 x86_64"},
		Objects: map[string]*elffacts.Facts{},
	}
	for i, o := range objs {
		sn.Objects[o.SHA256] = o
		sn.Files = append(sn.Files, store.File{Path: "/lib/lib" + string(rune('a'+i)) + ".so", Kind: "elf", SHA256: o.SHA256})
	}
	sn.Files = append(sn.Files, store.File{Path: "/lib", Kind: "dir"}, store.File{Path: "/lib/liba.so.1", Kind: "link", Target: "liba.so"},
		store.File{Path: "/etc/ld.so.conf", Kind: "config", Content: []byte("/opt/lib\n")})
	return sn
}

func facts(sha, soname string) *elffacts.Facts {
	return &elffacts.Facts{Schema: 1, SHA256: strings.Repeat(sha, 64)[:64], Size: 100, Class: "ELF64", Machine: "x86_64", Type: "dyn", Soname: soname,
		Defined:      []elffacts.DefinedSymbol{{Name: "f", Version: "V1", Binding: "global", Type: "func"}},
		VersionNeeds: []elffacts.VersionNeed{{File: "libc.so.6", Versions: []elffacts.NeededVersion{{Index: 2, Name: "GLIBC_2.34"}}}}}
}

func TestPutAndRead(t *testing.T) {
	for name, fresh := range engines(t) {
		t.Run(name, func(t *testing.T) { testPutAndRead(t, fresh(t)) })
	}
}

func testPutAndRead(t *testing.T, path string) {
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := facts("a", "liba.so"), facts("b", "libb.so")
	res, err := st.Put(ctx, snapshot("one", "/r/one", a, b))
	if err != nil || res.NewObjects != 2 || res.Unchanged {
		t.Fatalf("Put: %+v, %v", res, err)
	}
	// The same again writes nothing; another system sharing an object
	// stores it once.
	if res, err := st.Put(ctx, snapshot("one", "/r/one", a, b)); err != nil || !res.Unchanged {
		t.Errorf("Put again: %+v, %v", res, err)
	}
	if res, err := st.Put(ctx, snapshot("two", "/r/two", a)); err != nil || res.NewObjects != 0 {
		t.Errorf("Put two: %+v, %v", res, err)
	}
	// A name taken by another reference is refused.
	if _, err := st.Put(ctx, snapshot("two", "/r/other", a)); !errors.Is(err, store.ErrNameTaken) {
		t.Errorf("Put over another system's name: %v", err)
	}
	got, err := st.Object(ctx, a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("facts round trip (-want +got):\n%s", diff)
	}
	head, err := st.ObjectHead(ctx, a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := withoutSymbols(a); !cmp.Equal(want, head) {
		t.Errorf("head (-want +got):\n%s", cmp.Diff(want, head))
	}
	files, err := st.Files(ctx, "one")
	if err != nil || len(files) != 5 {
		t.Fatalf("Files: %d, %v", len(files), err)
	}
	if _, err := st.Files(ctx, "nosuch"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Files of a missing system: %v", err)
	}
	systems, err := st.Systems(ctx)
	if err != nil || len(systems) != 2 || systems[0].Objects != 2 || systems[0].Files != 5 {
		t.Errorf("Systems: %+v, %v", systems, err)
	}
	// Queries.
	if hits, err := st.Provides(ctx, "liba.so"); err != nil || len(hits) != 2 {
		t.Errorf("Provides: %+v, %v", hits, err)
	}
	if hits, err := st.Defines(ctx, "f", "V1"); err != nil || len(hits) != 3 || hits[0].Match != "f@V1" {
		t.Errorf("Defines: %+v, %v", hits, err)
	}
	if hits, err := st.Needs(ctx, "GLIBC_", "2.34"); err != nil || len(hits) != 3 || hits[0].Match != "GLIBC_2.34" {
		t.Errorf("Needs 2.34: %+v, %v", hits, err)
	}
	if hits, err := st.Needs(ctx, "GLIBC_", "2.35"); err != nil || len(hits) != 0 {
		t.Errorf("Needs 2.35: %+v, %v", hits, err)
	}
	if ch, err := st.Diff(ctx, "one", "two"); err != nil || len(ch) != 1 || ch[0].Change != "removed" {
		t.Errorf("Diff: %+v, %v", ch, err)
	}
	st.Close()
	// Reopening keeps everything.
	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil || stats != (store.Stats{Systems: 2, Objects: 2, Files: 9}) {
		t.Errorf("Stats after reopening: %+v, %v", stats, err)
	}
}

func withoutSymbols(f *elffacts.Facts) *elffacts.Facts {
	h := *f
	h.Defined, h.Required = nil, nil
	return &h
}

// TestSchema1: a catalog written by schema 1 (facts as gzip JSON, no
// heads) is migrated on open, and its objects read in full and as heads.
func TestSchema1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a := facts("c", "libc1.so")
	if err := store.MakeV1(st, a); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = store.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Object(ctx, a.SHA256)
	if err != nil || !cmp.Equal(a, got) {
		t.Errorf("full facts from schema 1: %v\n%s", err, cmp.Diff(a, got))
	}
	head, err := st.ObjectHead(ctx, a.SHA256)
	if err != nil || !cmp.Equal(withoutSymbols(a), head) {
		t.Errorf("head from schema 1: %v\n%s", err, cmp.Diff(withoutSymbols(a), head))
	}
}

// A catalog from a newer hitch, and a file that is not one, are refused
// with clear errors.
func TestBadCatalogs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, fresh := range engines(t) {
		newer := fresh(t)
		st, err := store.Open(ctx, newer)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.BumpSchema(st); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if _, err := store.Open(ctx, newer); !errors.Is(err, store.ErrNewerSchema) {
			t.Errorf("%s: Open newer schema: %v", name, err)
		}
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("not a database ", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, corrupt); err == nil || !strings.Contains(err.Error(), corrupt) {
		t.Errorf("Open corrupt: %v", err)
	}
	// A PostgreSQL that is not there, or refuses: a clear error that
	// names it, without the password.
	if _, err := store.Open(ctx, "postgres://hitch:secret@127.0.0.1:1/hitch?connect_timeout=2"); err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Open an unreachable PostgreSQL: %v", err)
	}
	if _, err := store.Open(ctx, "mysql://x"); err == nil {
		t.Error("an unknown scheme was accepted")
	}
}
