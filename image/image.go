// Package image opens what HPC users hold — a registry reference, an OCI
// layout, a `docker save` tarball, an Apptainer SIF file, an unpacked root
// filesystem, the host's own / — as one read-only rootfs.View plus the
// image configuration that changes how programs load (Env: PATH,
// LD_LIBRARY_PATH; Entrypoint, Cmd, WorkingDir, labels).
//
// Images are flattened once into a content-addressed cache (by the chain
// ID of their layers, so the same layers opened from a registry, a layout
// or a tarball share one entry) and opened from there afterwards. Layers
// are streamed, never held in memory; every entry is checked (no "..",
// nothing written outside the cache, no device nodes, size and count
// limits), and each layer's content is checked against its diff ID.
package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/hitch-hpc/hitch/rootfs"
)

// Kinds of image source.
const (
	KindDir      = "dir"            // an unpacked root filesystem
	KindHost     = "host"           // the host's own /
	KindOCI      = "oci"            // an OCI image layout directory
	KindArchive  = "docker-archive" // a docker save tarball
	KindRegistry = "registry"       // a registry reference
	KindSIF      = "sif"            // an Apptainer/Singularity image file
	KindDeb      = "deb"            // a Debian package: the files it installs
	// KindFile is what Parse says of an existing file that is no image:
	// a single program or library, which Open refuses.
	KindFile = "file"
)

// Image is an opened image: a View of its flattened file system and its
// configuration.
type Image struct {
	Ref  string // the reference as given
	Kind string
	View *rootfs.View
	// Config digest and layer diff IDs: the image's identity, the same
	// whichever transport it came by. Empty for a directory.
	Digest  string
	DiffIDs []string
	Config  Config
	// Cached reports whether the flattened tree came from the cache.
	Cached bool
}

// Config is the part of the image configuration that changes what runs
// and how it loads.
type Config struct {
	Env        []string          `json:"env,omitempty"`
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Cmd        []string          `json:"cmd,omitempty"`
	WorkingDir string            `json:"working_dir,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Platform   string            `json:"platform,omitempty"`
}

// Close releases the image's View.
func (im *Image) Close() error { return im.View.Close() }

type options struct {
	cacheDir   string
	platform   v1.Platform
	maxBytes   int64
	maxEntries int
	remote     []remote.Option
}

// An Option changes how Open works.
type Option func(*options)

// WithCacheDir sets the cache directory (default: CacheDir()).
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithPlatform selects the image of a multi-platform index, as
// "os/arch[/variant]" (default: this machine's).
func WithPlatform(p v1.Platform) Option { return func(o *options) { o.platform = p } }

// WithLimits bounds an unpack: bytes of file content and tar entries.
func WithLimits(maxBytes int64, maxEntries int) Option {
	return func(o *options) { o.maxBytes, o.maxEntries = maxBytes, maxEntries }
}

// WithRemoteOptions passes options to go-containerregistry's remote
// package, for example a transport.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(o *options) { o.remote = append(o.remote, opts...) }
}

// CacheDir is hitch's cache: $HITCH_CACHE_DIR, else $XDG_CACHE_HOME/hitch,
// else ~/.cache/hitch. On a cluster, point HITCH_CACHE_DIR at scratch.
func CacheDir() (string, error) {
	if d := os.Getenv("HITCH_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "hitch"), nil
}

// Parse splits a reference into its kind and the rest. Explicit prefixes:
// dir:, oci:, docker-archive:, sif:, deb:, docker:// and host. A bare
// argument is guessed: an existing directory is an OCI layout when it
// holds oci-layout, a root filesystem otherwise; a file ending in .sif is
// SIF, one ending in .tar a docker archive, one ending in .deb a Debian
// package; a name that starts with / or . is
// a path (which may not exist); anything else a registry reference.
func Parse(ref string) (kind, rest string) {
	for _, k := range []string{KindDir, KindOCI, KindArchive, KindSIF, KindDeb} {
		if r, ok := strings.CutPrefix(ref, k+":"); ok {
			return k, r
		}
	}
	if r, ok := strings.CutPrefix(ref, "docker://"); ok {
		return KindRegistry, r
	}
	if ref == KindHost || ref == KindHost+":" {
		return KindHost, "/"
	}
	if st, err := os.Stat(ref); err == nil {
		if st.IsDir() {
			if _, err := os.Stat(filepath.Join(ref, "oci-layout")); err == nil {
				return KindOCI, ref
			}
			return KindDir, ref
		}
		switch {
		case strings.HasSuffix(ref, ".sif"):
			return KindSIF, ref
		case strings.HasSuffix(ref, ".deb"):
			return KindDeb, ref
		case strings.HasSuffix(ref, ".tar"):
			return KindArchive, ref
		}
		return KindFile, ref
	}
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") {
		// Written as a path: a missing file, not a registry name.
		return KindDir, ref
	}
	return KindRegistry, ref
}

// Open opens ref (see Parse) as an Image.
func Open(ctx context.Context, ref string, opts ...Option) (*Image, error) {
	o := options{
		platform:   v1.Platform{OS: "linux", Architecture: runtime.GOARCH},
		maxBytes:   DefaultMaxBytes,
		maxEntries: DefaultMaxEntries,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.cacheDir == "" {
		d, err := CacheDir()
		if err != nil {
			return nil, err
		}
		o.cacheDir = d
	}
	kind, rest := Parse(ref)
	im, err := open(ctx, kind, rest, &o)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", ref, err)
	}
	im.Ref, im.Kind = ref, kind
	return im, nil
}

func open(ctx context.Context, kind, rest string, o *options) (*Image, error) {
	switch kind {
	case KindDir, KindHost:
		st, err := os.Stat(rest)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", rest)
		}
		v, err := rootfs.Dir(rest)
		if err != nil {
			return nil, err
		}
		return &Image{View: v}, nil
	case KindOCI:
		img, err := openLayout(rest, o.platform)
		if err != nil {
			return nil, err
		}
		return flatten(ctx, img, o)
	case KindArchive:
		file, tag := splitTag(rest)
		var t *name.Tag
		if tag != "" {
			nt, err := name.NewTag(tag)
			if err != nil {
				return nil, err
			}
			t = &nt
		}
		img, err := tarball.ImageFromPath(file, t)
		if err != nil {
			return nil, err
		}
		return flatten(ctx, img, o)
	case KindRegistry:
		r, err := name.ParseReference(rest)
		if err != nil {
			return nil, err
		}
		ropts := append([]remote.Option{
			remote.WithContext(ctx),
			remote.WithPlatform(o.platform),
			remote.WithAuthFromKeychain(authn.DefaultKeychain),
		}, o.remote...)
		img, err := remote.Image(r, ropts...)
		if err != nil {
			return nil, registryError(err)
		}
		im, err := flatten(ctx, img, o)
		return im, registryError(err)
	case KindSIF:
		return openSIF(ctx, rest, o)
	case KindDeb:
		return openDeb(ctx, rest, o)
	case KindFile:
		return nil, fmt.Errorf("%s is a file, not an image or a directory", rest)
	}
	return nil, fmt.Errorf("unknown image kind %q", kind)
}

// registryError puts the HTTP status first: "registry answered 401
// Unauthorized: GET …: UNAUTHORIZED: …".
func registryError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		return fmt.Errorf("registry answered %d %s: %w", te.StatusCode, http.StatusText(te.StatusCode), err)
	}
	return err
}

// splitTag splits FILE[:TAG] when FILE exists without the suffix.
func splitTag(s string) (file, tag string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	if i := strings.LastIndex(s, ":"); i > 0 {
		if _, err := os.Stat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// openLayout picks one image from an OCI layout: by its ref.name
// annotation when a tag is given, else the only image, else the one for
// the platform.
func openLayout(s string, platform v1.Platform) (v1.Image, error) {
	dir, tag := splitTag(s)
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	return pick(idx, tag, platform)
}

const refNameAnnotation = "org.opencontainers.image.ref.name"

func pick(idx v1.ImageIndex, tag string, platform v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var cands []v1.Descriptor
	for _, d := range m.Manifests {
		if tag == "" || d.Annotations[refNameAnnotation] == tag {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("no image tagged %q in the layout", tag)
	}
	if len(cands) == 1 && !cands[0].MediaType.IsIndex() {
		return idx.Image(cands[0].Digest)
	}
	var names []string
	var childErr error
	for _, d := range cands {
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			img, err := pick(child, "", platform)
			if err == nil {
				return img, nil
			}
			childErr = err
			continue
		}
		if d.Platform != nil && d.Platform.Satisfies(platform) {
			return idx.Image(d.Digest)
		}
		if d.Platform != nil {
			names = append(names, d.Platform.String())
		}
	}
	if len(names) == 0 && childErr != nil {
		return nil, childErr
	}
	return nil, fmt.Errorf("no image for platform %s (have %s)", platform.String(), strings.Join(names, ", "))
}

// flatten unpacks img into the cache, or finds it there.
func flatten(ctx context.Context, img v1.Image, o *options) (*Image, error) {
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("reading config digest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading layers: %w", err)
	}
	// Diff IDs from the configuration, not from the layers: a layer of an
	// OCI layout computes its diff ID by decompressing itself, which would
	// make every cached open as slow as an unpack. The unpack checks each
	// layer's content against them.
	diffIDs := cf.RootFS.DiffIDs
	if len(diffIDs) != len(layers) {
		return nil, fmt.Errorf("config lists %d diff IDs for %d layers", len(diffIDs), len(layers))
	}
	im := &Image{Digest: cfgName.String(), Config: configOf(cf)}
	for _, d := range diffIDs {
		im.DiffIDs = append(im.DiffIDs, d.String())
	}
	dir, cached, err := unpackCached(ctx, o, chainID(im.DiffIDs), func(tmp string) error {
		u, err := newUnpacker(tmp, o.maxBytes, o.maxEntries)
		if err != nil {
			return err
		}
		defer u.Close()
		for i, l := range layers {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := u.layer(l, diffIDs[i]); err != nil {
				return fmt.Errorf("layer %d (%s): %w", i+1, im.DiffIDs[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if im.View, err = rootfs.Dir(dir); err != nil {
		return nil, err
	}
	im.Cached = cached
	return im, nil
}

func configOf(cf *v1.ConfigFile) Config {
	c := Config{
		Env:        cf.Config.Env,
		Entrypoint: cf.Config.Entrypoint,
		Cmd:        cf.Config.Cmd,
		WorkingDir: cf.Config.WorkingDir,
		Labels:     cf.Config.Labels,
	}
	if cf.OS != "" {
		p := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
		c.Platform = p.String()
	}
	return c
}

// chainID is the OCI chain ID of a layer stack: the identity of the
// flattened file system (image-spec config.md).
func chainID(diffIDs []string) string {
	if len(diffIDs) == 0 {
		return "sha256:" + hex.EncodeToString(sha256.New().Sum(nil))
	}
	id := diffIDs[0]
	for _, d := range diffIDs[1:] {
		sum := sha256.Sum256([]byte(id + " " + d))
		id = "sha256:" + hex.EncodeToString(sum[:])
	}
	return id
}

// unpackCached returns the cache directory for key, calling fill on a
// fresh temporary directory and renaming it into place when the cache has
// none: a failed or interrupted unpack leaves no entry.
func unpackCached(ctx context.Context, o *options, key string, fill func(dir string) error) (dir string, cached bool, err error) {
	algo, hexKey, ok := strings.Cut(key, ":")
	if !ok {
		return "", false, fmt.Errorf("bad cache key %q", key)
	}
	base := filepath.Join(o.cacheDir, "rootfs")
	dst := filepath.Join(base, algo+"-"+hexKey)
	if st, err := os.Stat(dst); err == nil && st.IsDir() {
		return dst, true, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", false, err
	}
	tmp, err := os.MkdirTemp(base, ".unpack-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return "", false, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		// Another process unpacked the same image meanwhile.
		if st, serr := os.Stat(dst); serr == nil && st.IsDir() {
			return dst, false, nil
		}
		return "", false, err
	}
	return dst, false, nil
}
