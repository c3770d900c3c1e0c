package plan

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/rootfs"
)

// fwdCompat is what NVIDIA's forward-compatibility libcuda (the
// cuda-compat package, /usr/local/cuda/compat/libcuda.so.*) says of
// itself in its .note.cuda.fwd_compatibility ELF note: owner "NVIDIA
// Corporation", a JSON description.
type fwdCompat struct {
	Dir         string `json:"-"` // its directory in the image
	CUDAVersion string `json:"CUDA Version"`
	Driver      []int  `json:"Driver"`
}

// compatDirs are where images carry the forward-compatibility libraries.
var compatDirs = []string{"usr/local/cuda/compat", "usr/local/cuda/compat/lib", "usr/local/cuda-*/compat"}

// findFwdCompat returns the image's forward-compatibility libcuda with
// its note, or nil.
func findFwdCompat(image *rootfs.View) *fwdCompat {
	for _, pat := range compatDirs {
		matches, _ := fs.Glob(image, pat+"/libcuda.so.*.*")
		slices.Sort(matches)
		for _, m := range matches {
			if c, err := readFwdCompat(image, m); err == nil && c != nil {
				c.Dir = "/" + path.Dir(m)
				return c
			}
		}
	}
	return nil
}

// readFwdCompat reads the note of the file at p (a View path without
// the leading slash): nil without one.
func readFwdCompat(image *rootfs.View, p string) (c *fwdCompat, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%s: reading its ELF notes: %v", p, r)
		}
	}()
	f, err := image.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return nil, fmt.Errorf("%s: cannot read at offsets", p)
	}
	ef, err := elf.NewFile(ra)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	s := ef.Section(".note.cuda.fwd_compatibility")
	if s == nil || s.Type != elf.SHT_NOTE {
		return nil, nil
	}
	data, err := s.Data()
	if err != nil || len(data) < 12 || len(data) > 1<<16 {
		return nil, fmt.Errorf("%s: bad .note.cuda.fwd_compatibility", p)
	}
	namesz := uint64(ef.ByteOrder.Uint32(data[0:]))
	descsz := uint64(ef.ByteOrder.Uint32(data[4:]))
	off := 12 + (namesz+3)&^3
	if namesz == 0 || off > uint64(len(data)) || descsz > uint64(len(data))-off {
		return nil, fmt.Errorf("%s: bad .note.cuda.fwd_compatibility", p)
	}
	if string(bytes.TrimRight(data[12:12+namesz], "\x00")) != "NVIDIA Corporation" {
		return nil, nil
	}
	c = &fwdCompat{}
	if err := json.Unmarshal(bytes.Trim(data[off:off+descsz], "\x00"), c); err != nil {
		return nil, fmt.Errorf("%s: .note.cuda.fwd_compatibility: %w", p, err)
	}
	return c, nil
}

// used says whether NVIDIA's toolkit puts the compat library before the
// host's driver library: when the note lists driver branches, if the
// host's is among them; else if the library's CUDA version is newer
// than the host driver's.
func (c *fwdCompat) used(driver, hostCUDA string) bool {
	major, _, _ := strings.Cut(driver, ".")
	m, err := strconv.Atoi(major)
	if err == nil && m != 0 && len(c.Driver) > 0 {
		return slices.Contains(c.Driver, m)
	}
	return c.CUDAVersion != "" && hostCUDA != "" && elffacts.CompareVersions(c.CUDAVersion, hostCUDA) > 0
}
