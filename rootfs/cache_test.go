package rootfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hitch-hpc/hitch/rootfs"
)

// A View is a snapshot: what it has looked up it remembers. A Live one
// (an unpacker's) asks the file system every time.
func TestSnapshotAndLive(t *testing.T) {
	dir := t.TempDir()
	snap, err := rootfs.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	live, err := rootfs.Dir(dir, rootfs.Live())
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	for _, v := range []*rootfs.View{snap, live} {
		if _, err := v.Resolve("/lib/libx.so"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Resolve before: %v", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lib", "libx.so"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := snap.Resolve("/lib/libx.so"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("snapshot Resolve after: %v, want the remembered ENOENT", err)
	}
	if p, err := live.Resolve("/lib/libx.so"); err != nil || p != "/lib/libx.so" {
		t.Errorf("live Resolve after: %q, %v", p, err)
	}
}

// A FIFO where a library should be must not block an open.
func TestOpenFIFODoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "libfifo.so"), 0o644); err != nil {
		t.Skip(err)
	}
	v, err := rootfs.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	done := make(chan error, 1)
	go func() {
		f, err := v.OpenPath("/libfifo.so")
		if err == nil {
			var fi fs.FileInfo
			fi, err = f.Stat()
			if err == nil && fi.Mode()&fs.ModeNamedPipe == 0 {
				err = errors.New("not reported as a pipe")
			}
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Logf("open: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
}
