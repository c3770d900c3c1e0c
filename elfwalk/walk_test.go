package elfwalk_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/elfwalk"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

func collect(t *testing.T, fsys fs.FS, root string, opts ...elfwalk.Option) ([]elfwalk.Object, elfwalk.Stats) {
	t.Helper()
	var got []elfwalk.Object
	stats, err := elfwalk.Walk(t.Context(), fsys, root, func(o elfwalk.Object) error {
		if o.Err == nil {
			if err := elffacts.Validate(o.Facts); err != nil {
				t.Errorf("%s: %v", o.Path, err)
			}
		}
		got = append(got, o)
		return nil
	}, opts...)
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got, stats
}

func paths(objs []elfwalk.Object) []string {
	var out []string
	for _, o := range objs {
		s := o.Path
		if o.Err != nil {
			s += " !"
		}
		out = append(out, s)
	}
	return out
}

func TestWalkFixturesInOrder(t *testing.T) {
	dir := fixture.ELF(t)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	// libver.so is a symlink: never opened, never reported twice.
	want := []string{
		"bin/app_copyreloc", "bin/app_runpath", "bin/hello_32", "bin/hello_static", "bin/hello_v3",
		"lib/libcxx.so", "lib/libnodeflib.so", "lib/libver.so.1",
	}
	if _, err := os.Stat(filepath.Join(dir, "bin/hello_32")); err != nil {
		want = append(want[:2], want[3:]...)
	}
	for _, workers := range []int{1, 3, 16} {
		got, stats := collect(t, root.FS(), ".", elfwalk.WithWorkers(workers))
		if diff := cmp.Diff(want, paths(got)); diff != "" {
			t.Errorf("workers=%d (-want +got):\n%s", workers, diff)
		}
		if stats.ELF != len(want) || stats.Failed != 0 || stats.Files != len(want) {
			t.Errorf("workers=%d: stats %+v", workers, stats)
		}
	}
}

func TestWalkBadInput(t *testing.T) {
	lib, err := os.ReadFile(filepath.Join(fixture.ELF(t), "lib", "libver.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	garbage := append([]byte(nil), lib...)
	// e_shoff far beyond the end, e_shnum huge.
	copy(garbage[0x28:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	copy(garbage[0x3c:], []byte{0xff, 0xff})
	fsys := fstest.MapFS{
		"a/empty.so":          {Data: nil},
		"a/script.sh":         {Data: []byte("#!/bin/sh\n")},
		"a/short":             {Data: []byte("\x7fE")},
		"b/truncated.so":      {Data: lib[:200]},
		"b/garbage.so":        {Data: garbage},
		"c/libdir.so/good.so": {Data: lib},
		"c/pipe":              {Mode: fs.ModeNamedPipe},
		"c/link.so":           {Data: []byte("lib/libver.so.1"), Mode: fs.ModeSymlink},
	}
	got, stats := collect(t, fsys, ".")
	want := []string{"b/garbage.so !", "b/truncated.so !", "c/libdir.so/good.so"}
	if diff := cmp.Diff(want, paths(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantStats := elfwalk.Stats{Files: 6, ELF: 1, NotELF: 3, Failed: 2, Bytes: int64(len(lib))}
	if diff := cmp.Diff(wantStats, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	for _, o := range got {
		if o.Err != nil && !strings.HasPrefix(o.Err.Error(), "reading ELF: ") {
			t.Errorf("%s: error %q does not say what failed", o.Path, o.Err)
		}
	}
}

// failingFS fails to list or open one path, as an unreadable directory
// or file does for a user who is not root.
type failingFS struct {
	fstest.MapFS
	bad string
}

func (f failingFS) Open(name string) (fs.File, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.Open(name)
}

func (f failingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadDir(name)
}

func TestWalkUnreadableDirectory(t *testing.T) {
	lib, err := os.ReadFile(filepath.Join(fixture.ELF(t), "lib", "libver.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	fsys := failingFS{MapFS: fstest.MapFS{
		"a/lib.so":      {Data: lib},
		"secret/lib.so": {Data: lib},
		"z/lib.so":      {Data: lib},
	}, bad: "secret"}
	got, stats := collect(t, fsys, ".")
	if diff := cmp.Diff([]string{"a/lib.so", "secret !", "z/lib.so"}, paths(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !errors.Is(got[1].Err, fs.ErrPermission) {
		t.Errorf("error %v, want permission denied", got[1].Err)
	}
	if stats.Failed != 1 || stats.ELF != 2 {
		t.Errorf("stats %+v", stats)
	}

	fsys.bad = "secret/lib.so"
	got, stats = collect(t, fsys, ".")
	if diff := cmp.Diff([]string{"a/lib.so", "secret/lib.so !", "z/lib.so"}, paths(got)); diff != "" {
		t.Errorf("unreadable file (-want +got):\n%s", diff)
	}
	if !errors.Is(got[1].Err, fs.ErrPermission) || stats.Failed != 1 || stats.Files != 3 {
		t.Errorf("unreadable file: error %v, stats %+v", got[1].Err, stats)
	}
}

func TestWalkStops(t *testing.T) {
	lib, err := os.ReadFile(filepath.Join(fixture.ELF(t), "lib", "libver.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for i := range 500 {
		fsys[filepath.Join("d", strings.Repeat("x", i%7), string(rune('a'+i%26))+strings.Repeat("y", i))] = &fstest.MapFile{Data: lib}
	}
	stop := errors.New("enough")
	n := 0
	_, err = elfwalk.Walk(t.Context(), fsys, ".", func(elfwalk.Object) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("Walk returned %v after %d objects, want %v after 10", err, n, stop)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := elfwalk.Walk(ctx, fsys, ".", func(elfwalk.Object) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Walk on a cancelled context returned %v", err)
	}
}

func TestWalkStaysInRoot(t *testing.T) {
	dir := t.TempDir()
	// Symlinks to a file outside and to the parent: neither is followed.
	if err := os.Symlink("/usr/lib/x86_64-linux-gnu/libc.so.6", filepath.Join(dir, "libc.so.6")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop", filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	got, stats := collect(t, root.FS(), ".")
	if len(got) != 0 || stats.Files != 0 {
		t.Errorf("got %v, stats %+v; want nothing", paths(got), stats)
	}
}
