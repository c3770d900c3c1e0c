package plan_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// An image for another architecture (here a tree whose shell is an
// AArch64 ELF header) gets a clear error, not "not found".
func TestOtherArchitecture(t *testing.T) {
	host, err := rootfs.Dir(fixture.Rootfs(t, "bookworm"))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(hdr[16:], 3)   // ET_DYN
	binary.LittleEndian.PutUint16(hdr[18:], 183) // EM_AARCH64
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[52:], 64) // e_ehsize
	if err := os.WriteFile(filepath.Join(dir, "bin/sh"), hdr, 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := rootfs.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	set, err := iface.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Make(context.Background(), img, host, set, "mpi", plan.Options{})
	if !errors.Is(err, plan.ErrArch) {
		t.Fatalf("Make = %v, want ErrArch", err)
	}
	t.Log(err)
}
