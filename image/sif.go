package image

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/sylabs/sif/v2/pkg/sif"
	"github.com/sylabs/squashfs"

	"github.com/hitch-hpc/hitch/rootfs"
)

// squashfs superblock compression ids (squashfs-tools squashfs_fs.h).
var squashfsCompression = map[uint16]string{1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}

// openSIF unpacks the primary squashfs partition of an Apptainer or
// Singularity image file into the cache, through the same checked writer
// as image layers.
func openSIF(ctx context.Context, file string, o *options) (*Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkSIFHeader(f, st.Size()); err != nil {
		return nil, err
	}
	fi, err := sif.LoadContainer(f, sif.OptLoadWithFlag(os.O_RDONLY), sif.OptLoadWithCloseOnUnload(false))
	if err != nil {
		return nil, fmt.Errorf("reading SIF header: %w", err)
	}
	defer fi.UnloadContainer()
	d, err := fi.GetDescriptor(sif.WithPartitionType(sif.PartPrimSys))
	if err != nil {
		return nil, fmt.Errorf("finding the root file system partition: %w", err)
	}
	fsType, _, arch, err := d.PartitionMetadata()
	if err != nil {
		return nil, fmt.Errorf("reading partition metadata: %w", err)
	}
	if fsType != sif.FsSquash {
		return nil, fmt.Errorf("root file system partition is %v, not squashfs", fsType)
	}
	part := io.NewSectionReader(f, d.Offset(), d.Size())
	if err := checkSquashfs(part); err != nil {
		return nil, err
	}
	// A SIF's identity: its UUID and the partition's place and size, and
	// when the file was last modified (adding a signature changes it).
	key := sha256.Sum256(fmt.Appendf(nil, "sif %s %d %d %d %d %d", fi.ID(), d.ID(), d.Offset(), d.Size(), fi.ModifiedAt().Unix(), st.Size()))
	dir, cached, err := unpackCached(ctx, o, "sif:"+hex.EncodeToString(key[:]), func(tmp string) error {
		r, err := squashfs.NewReader(part)
		if err != nil {
			return fmt.Errorf("reading squashfs: %w", err)
		}
		u, err := newUnpacker(tmp, o.maxBytes, o.maxEntries)
		if err != nil {
			return err
		}
		defer u.Close()
		return unpackSquashfs(ctx, u, r)
	})
	if err != nil {
		return nil, err
	}
	v, err := rootfs.Dir(dir)
	if err != nil {
		return nil, err
	}
	im := &Image{View: v, Cached: cached, Config: sifConfig(v)}
	if arch != "" {
		im.Config.Platform = "linux/" + arch
	}
	return im, nil
}

// SIF global header fields (sylabs/sif pkg/sif/sif.go, header): all
// little-endian int64 after 64 bytes of launch script, magic, version,
// arch and UUID. A descriptor is 585 bytes.
const (
	sifHeaderLen       = 128
	sifDescriptorsOff  = 88 // DescriptorsTotal, DescriptorsOffset, DescriptorsSize
	sifDescriptorBytes = 585
)

// checkSIFHeader refuses a header whose descriptor table cannot fit in the
// file before the SIF library allocates it: sif.LoadContainer sizes that
// allocation from the header alone, so a hostile count exhausts memory
// (found by FuzzOpenSIF).
func checkSIFHeader(r io.ReaderAt, size int64) error {
	var h [sifHeaderLen]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("reading SIF header: %w", err)
	}
	if string(h[32:41]) != "SIF_MAGIC" {
		return fmt.Errorf("reading SIF header: not a SIF file (no SIF_MAGIC)")
	}
	le := binary.LittleEndian
	total := int64(le.Uint64(h[sifDescriptorsOff:]))
	off := int64(le.Uint64(h[sifDescriptorsOff+8:]))
	dsize := int64(le.Uint64(h[sifDescriptorsOff+16:]))
	if total < 0 || off < sifHeaderLen || dsize < 0 || off > size || dsize > size-off || total > dsize/sifDescriptorBytes {
		return fmt.Errorf("reading SIF header: descriptor table of %d entries, %d bytes at offset %d does not fit a file of %d bytes", total, dsize, off, size)
	}
	return nil
}

// checkSquashfs names the compressions that the squashfs reader cannot
// read instead of letting it fail on them with a vaguer message.
func checkSquashfs(r io.ReaderAt) error {
	var sb [24]byte
	if _, err := r.ReadAt(sb[:], 0); err != nil {
		return fmt.Errorf("reading squashfs superblock: %w", err)
	}
	if string(sb[:4]) != "hsqs" {
		return fmt.Errorf("root file system partition is not squashfs (magic %q)", sb[:4])
	}
	comp := binary.LittleEndian.Uint16(sb[20:])
	switch name := squashfsCompression[comp]; name {
	case "":
		return fmt.Errorf("squashfs compression %d is unknown", comp)
	case "lzo":
		return fmt.Errorf("squashfs is compressed with %s, which hitch cannot read (gzip, lzma, xz, lz4 and zstd it can): unsquashfs the image and open the directory", name)
	}
	return nil
}

// unpackSquashfs feeds every entry of the squashfs to the unpacker as the
// tar header it would have in a layer.
func unpackSquashfs(ctx context.Context, u *unpacker, r *squashfs.Reader) error {
	created := map[string]bool{}
	return fs.WalkDir(r, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading squashfs: %w", err)
		}
		if p == "." {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		u.entries++
		if u.entries > u.maxEntries {
			return fmt.Errorf("more than %d entries: %w", u.maxEntries, ErrLimit)
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		hdr := &tar.Header{Name: p, Mode: int64(info.Mode().Perm())}
		var body io.Reader
		switch mode := info.Mode(); {
		case mode.IsDir():
			hdr.Typeflag = tar.TypeDir
		case mode.IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
			f, err := r.Open(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			defer f.Close()
			body = f
		case mode&fs.ModeSymlink != 0:
			f, err := r.Open(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.(*squashfs.File).SymlinkPath()
			f.Close()
		default:
			hdr.Typeflag = tar.TypeChar // never created
		}
		if err := u.entry(body, hdr, created); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
}

// sifConfig reads what Apptainer keeps inside the image: the environment
// scripts of /.singularity.d/env (simple NAME=value and export lines),
// the runscript, and labels.json.
func sifConfig(v *rootfs.View) Config {
	var c Config
	if entries, err := fs.ReadDir(v, ".singularity.d/env"); err == nil {
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".sh") {
				continue
			}
			f, err := v.Open(path.Join(".singularity.d/env", e.Name()))
			if err != nil {
				continue
			}
			c.Env = append(c.Env, shellExports(f)...)
			f.Close()
		}
	}
	if _, err := fs.Stat(v, ".singularity.d/runscript"); err == nil {
		c.Entrypoint = []string{"/.singularity.d/runscript"}
	}
	if b, err := fs.ReadFile(v, ".singularity.d/labels.json"); err == nil {
		json.Unmarshal(b, &c.Labels)
	}
	return c
}

// shellExports picks NAME=value assignments (with or without export,
// quotes removed) from a shell script; anything cleverer is skipped.
func shellExports(r io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "export ")
		name, val, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t$\"'") || strings.ContainsAny(val, "$`") {
			continue
		}
		val = strings.Trim(val, `"'`)
		out = append(out, name+"="+val)
	}
	return out
}
