package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hitch-hpc/hitch/image"
)

// ent is one tar entry: a file (body), a directory (name ending in /), a
// symlink (link), a hard link (hard) or a device (dev).
type ent struct {
	name, body, link, hard string
	dev                    bool
}

func tarOf(t *testing.T, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Mode: 0o644}
		switch {
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		case e.hard != "":
			h.Typeflag, h.Linkname = tar.TypeLink, e.hard
		case e.dev:
			h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, 1, 3
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t *testing.T, ents ...ent) v1.Layer {
	t.Helper()
	b := tarOf(t, ents...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func imageOf(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/usr/bin", "LD_LIBRARY_PATH=/opt/lib"}
	cf.Config.Entrypoint = []string{"/app"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// listing describes a tree: path, then the file content, "-> target" or
// "/" for a directory.
func listing(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		switch {
		case d.IsDir():
			out = append(out, p+"/")
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			out = append(out, p+" -> "+target)
		default:
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			out = append(out, p+" = "+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func openImage(t *testing.T, ref, cache string, opts ...image.Option) *image.Image {
	t.Helper()
	im, err := image.Open(t.Context(), ref, append([]image.Option{image.WithCacheDir(cache)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	return im
}

var layered = [][]ent{{
	{name: "usr/"}, {name: "usr/lib/"},
	{name: "usr/lib/a.so", body: "A1"},
	{name: "etc/keep", body: "k"}, {name: "etc/gone", body: "g"},
	{name: "opt/dir/x", body: "x"}, {name: "opt/dir/y", body: "y"},
	{name: "lib64", link: "usr/lib"},
	{name: "var/run", link: "/run"}, {name: "run/"},
}, {
	{name: "etc/.wh.gone"},
	{name: "opt/dir/.wh..wh..opq"}, {name: "opt/dir/z", body: "z"},
	{name: "usr/lib/a.so", body: "A2"},
	{name: "lib64/b.so", body: "B"},      // through a relative link
	{name: "var/run/pid", body: "p"},     // through an absolute link: inside the root
	{name: "/etc/abs", body: "absolute"}, // a leading / is dropped, as tar does
	{name: "./etc/dot", body: "dot"},
	{name: "usr/lib/c.so", hard: "usr/lib/a.so"},
	{name: "dev/null", dev: true},
}}

var flattened = []string{
	"dev/",
	"etc/", "etc/abs = absolute", "etc/dot = dot", "etc/keep = k",
	"lib64 -> usr/lib",
	"opt/", "opt/dir/", "opt/dir/z = z",
	"run/", "run/pid = p",
	"usr/", "usr/lib/", "usr/lib/a.so = A2", "usr/lib/b.so = B", "usr/lib/c.so = A2",
	"var/", "var/run -> /run",
}

func layeredImage(t *testing.T) v1.Image {
	var layers []v1.Layer
	for _, l := range layered {
		layers = append(layers, layerOf(t, l...))
	}
	return imageOf(t, layers...)
}

// TestFormatsAgree opens one image as an OCI layout, a docker archive and
// from a registry on loopback: the same identity, configuration and tree
// each time, and after the first, from the cache.
func TestFormatsAgree(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	img := layeredImage(t)

	oci := filepath.Join(dir, "oci")
	p, err := layout.Write(oci, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "image.tar")
	tag, _ := name.NewTag("example.org/hitch/test:v1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/hitch/test:v1"
	rtag, _ := name.NewTag(ref)
	if err := remote.Write(rtag, img); err != nil {
		t.Fatal(err)
	}

	wantDigest, _ := img.ConfigName()
	for i, r := range []string{"oci:" + oci + ":v1", oci, "docker-archive:" + archive, archive, ref} {
		im := openImage(t, r, cache)
		if im.Digest != wantDigest.String() || len(im.DiffIDs) != 2 {
			t.Errorf("%s: identity %s %v, want %s and 2 layers", r, im.Digest, im.DiffIDs, wantDigest)
		}
		if im.Cached != (i > 0) {
			t.Errorf("%s: cached = %v", r, im.Cached)
		}
		if diff := cmp.Diff(flattened, listing(t, im.View)); diff != "" {
			t.Errorf("%s: tree (-want +got):\n%s", r, diff)
		}
		want := image.Config{Env: []string{"PATH=/usr/bin", "LD_LIBRARY_PATH=/opt/lib"}, Entrypoint: []string{"/app"}, Platform: "linux/amd64"}
		if diff := cmp.Diff(want, im.Config); diff != "" {
			t.Errorf("%s: config (-want +got):\n%s", r, diff)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "rootfs"))
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want 1", len(entries))
	}
}

func TestParse(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.sif"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "x.tar"), nil, 0o644)
	os.MkdirAll(filepath.Join(dir, "oci"), 0o755)
	os.WriteFile(filepath.Join(dir, "oci", "oci-layout"), []byte("{}"), 0o644)
	tests := map[string][2]string{
		"dir:/x":                     {image.KindDir, "/x"},
		"oci:/x:tag":                 {image.KindOCI, "/x:tag"},
		"docker-archive:/x.tar":      {image.KindArchive, "/x.tar"},
		"sif:/x":                     {image.KindSIF, "/x"},
		"docker://ubuntu:22.04":      {image.KindRegistry, "ubuntu:22.04"},
		"host":                       {image.KindHost, "/"},
		dir:                          {image.KindDir, dir},
		filepath.Join(dir, "oci"):    {image.KindOCI, filepath.Join(dir, "oci")},
		filepath.Join(dir, "x.sif"):  {image.KindSIF, filepath.Join(dir, "x.sif")},
		filepath.Join(dir, "x.tar"):  {image.KindArchive, filepath.Join(dir, "x.tar")},
		"ghcr.io/org/app:1":          {image.KindRegistry, "ghcr.io/org/app:1"},
		"localhost:5000/x:y":         {image.KindRegistry, "localhost:5000/x:y"},
		"docker.io/library/ubuntu":   {image.KindRegistry, "docker.io/library/ubuntu"},
		filepath.Join(dir, "nosuch"): {image.KindDir, filepath.Join(dir, "nosuch")},
		"./nosuch":                   {image.KindDir, "./nosuch"},
		"nosuch":                     {image.KindRegistry, "nosuch"},
	}
	for in, want := range tests {
		k, r := image.Parse(in)
		if k != want[0] || r != want[1] {
			t.Errorf("Parse(%q) = %s, %s; want %s, %s", in, k, r, want[0], want[1])
		}
	}
}

// TestHostileLayers: each layer is refused with an error naming the layer
// and the entry, leaves no cache entry, and writes nothing outside the
// cache.
func TestHostileLayers(t *testing.T) {
	big := strings.Repeat("\x00", 1<<20)
	tests := []struct {
		name   string
		layers [][]ent
		opts   []image.Option
		want   string
		is     error
	}{
		{name: "dot-dot", layers: [][]ent{{{name: "../../escape", body: "x"}}}, want: `entry "../../escape": path climbs out of the root`},
		{name: "dot-dot inside", layers: [][]ent{{{name: "usr/../../escape", body: "x"}}}, want: "climbs out"},
		{name: "hard link out", layers: [][]ent{{{name: "x", hard: "../../../etc/passwd"}}}, want: `hard link target "../../../etc/passwd": path climbs out`},
		{name: "hard link to nothing", layers: [][]ent{{{name: "x", hard: "nosuch"}}}, want: "no such file", is: fs.ErrNotExist},
		{name: "symlink loop parent", layers: [][]ent{{{name: "a", link: "b"}, {name: "b", link: "a"}, {name: "a/x", body: "x"}}}, is: syscall.ELOOP},
		{name: "bomb", layers: [][]ent{{{name: "big", body: big}}}, opts: []image.Option{image.WithLimits(1<<19, 100)}, is: image.ErrLimit},
		{name: "too many entries", layers: [][]ent{{{name: "a", body: "1"}, {name: "b", body: "2"}, {name: "c", body: "3"}}}, opts: []image.Option{image.WithLimits(1<<20, 2)}, is: image.ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cache := filepath.Join(dir, "cache")
			var layers []v1.Layer
			for _, l := range tc.layers {
				layers = append(layers, layerOf(t, l...))
			}
			archive := filepath.Join(dir, "image.tar")
			if err := tarball.WriteToFile(archive, name.MustParseReference("x/y:z").(name.Tag), imageOf(t, layers...)); err != nil {
				t.Fatal(err)
			}
			_, err := image.Open(t.Context(), archive, append([]image.Option{image.WithCacheDir(cache)}, tc.opts...)...)
			if err == nil {
				t.Fatal("opened")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), "layer 1 (sha256:") || !strings.Contains(err.Error(), archive) {
				t.Errorf("error %q does not name the image and the layer", err)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			assertOnly(t, dir, "cache", "image.tar")
			if entries, _ := os.ReadDir(filepath.Join(cache, "rootfs")); len(entries) != 0 {
				t.Errorf("failed unpack left %d cache entries", len(entries))
			}
		})
	}
}

// assertOnly checks that dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(names)
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("%s holds (-want +got):\n%s", dir, diff)
	}
}

func TestTruncatedAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	// A layer whose tar stream stops in the middle of a file.
	b := tarOf(t, ent{name: "a", body: strings.Repeat("x", 4096)})
	cut := b[:1024]
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cut)), nil })
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "cut.tar")
	if err := tarball.WriteToFile(archive, name.MustParseReference("x/y:z").(name.Tag), imageOf(t, l)); err != nil {
		t.Fatal(err)
	}
	_, err = image.Open(t.Context(), archive, image.WithCacheDir(cache))
	if err == nil || !strings.Contains(err.Error(), "layer 1") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated layer: %v", err)
	}

	// An OCI layout whose layer blob was changed after it was written.
	oci := filepath.Join(dir, "oci")
	p, err := layout.Write(oci, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := layeredImage(t)
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	d, _ := layers[1].Digest()
	blob := filepath.Join(oci, "blobs", d.Algorithm, d.Hex)
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = image.Open(t.Context(), oci, image.WithCacheDir(cache))
	if err == nil || !strings.Contains(err.Error(), "layer 2") {
		t.Errorf("corrupt blob: %v", err)
	}
	t.Log(err)
	if entries, _ := os.ReadDir(filepath.Join(cache, "rootfs")); len(entries) != 0 {
		t.Errorf("failed unpacks left %d cache entries", len(entries))
	}
}

func TestMultiPlatform(t *testing.T) {
	amd := imageOf(t, layerOf(t, ent{name: "arch", body: "amd64"}))
	armCfg, _ := imageOf(t, layerOf(t, ent{name: "arch", body: "arm64"})).ConfigFile()
	armCfg = armCfg.DeepCopy()
	armCfg.Architecture = "arm64"
	arm, err := mutate.ConfigFile(imageOf(t, layerOf(t, ent{name: "arch", body: "arm64"})), armCfg)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/hitch/multi:latest"
	tag, _ := name.NewTag(ref)
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		im := openImage(t, ref, cache, image.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
		if got := listing(t, im.View); !cmp.Equal(got, []string{"arch = " + arch}) {
			t.Errorf("%s: got %v", arch, got)
		}
	}
	if _, err := image.Open(t.Context(), ref, image.WithCacheDir(cache), image.WithPlatform(v1.Platform{OS: "linux", Architecture: "riscv64"})); err == nil {
		t.Error("opened a platform the index does not have")
	}

	// The same index in an OCI layout, under a tag.
	oci := filepath.Join(t.TempDir(), "oci")
	p, err := layout.Write(oci, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"})); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		im := openImage(t, "oci:"+oci+":multi", cache, image.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
		if got := listing(t, im.View); !cmp.Equal(got, []string{"arch = " + arch}) {
			t.Errorf("layout %s: got %v", arch, got)
		}
	}
	_, err = image.Open(t.Context(), "oci:"+oci+":multi", image.WithCacheDir(cache), image.WithPlatform(v1.Platform{OS: "linux", Architecture: "riscv64"}))
	if err == nil || !strings.Contains(err.Error(), "no image for platform linux/riscv64 (have linux/amd64, linux/arm64)") {
		t.Errorf("layout, missing platform: %v", err)
	}
	if _, err := image.Open(t.Context(), "oci:"+oci+":nosuch", image.WithCacheDir(cache)); err == nil || !strings.Contains(err.Error(), `no image tagged "nosuch"`) {
		t.Errorf("layout, missing tag: %v", err)
	}
}

func TestRegistryErrors(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					w.WriteHeader(http.StatusOK)
					return
				}
				http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"no"}]}`, code)
			}))
			defer srv.Close()
			ref := strings.TrimPrefix(srv.URL, "http://") + "/hitch/x:y"
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			_, err := image.Open(ctx, ref, image.WithCacheDir(t.TempDir()), image.WithRemoteOptions(remote.WithRetryStatusCodes()))
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), fmt.Sprint(code)) {
				t.Errorf("error %v, want one naming %s and status %d", err, ref, code)
			}
		})
	}
}
