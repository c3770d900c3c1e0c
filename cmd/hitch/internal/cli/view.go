package cli

import (
	"flag"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/storeview"
)

// viewFlags are the flags of the commands that look inside a View as a
// program started in it would: binds, environment, CPU level, platform.
type viewFlags struct {
	binds    multiFlag
	env      multiFlag
	cpu      *string
	platform *string
	ldconfig *bool
	db       *string
}

const platformUsage = "`os/arch[/variant]` to pick from a multi-platform image (default: this machine's)"

// multiFlag is a flag that may be given more than once.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func addViewFlags(fs *flag.FlagSet) *viewFlags {
	v := &viewFlags{}
	fs.Var(&v.binds, "bind", "bind host path `SRC:DST` into the image, as apptainer --bind does (repeatable)")
	fs.Var(&v.env, "env", "set `NAME=VALUE` in the environment, over the image's own (repeatable)")
	v.cpu = fs.String("cpu", "baseline", "CPU `level` for glibc-hwcaps: baseline, x86-64-v2, x86-64-v3, x86-64-v4, or host")
	v.platform = fs.String("platform", "", platformUsage)
	v.ldconfig = fs.Bool("ldconfig", false, "as if ldconfig had just run in the image: rebuild the library cache from /etc/ld.so.conf instead of reading /etc/ld.so.cache")
	v.db = fs.String("db", "", "the catalog that `catalog:NAME` images and hosts are read from: an SQLite file or a postgres:// URL (default $XDG_DATA_HOME/hitch/hitch.db)")
	return v
}

// catalogPrefix names a system of the ABI catalog in place of an image.
const catalogPrefix = "catalog:"

// openCatalog opens the catalog once per command; the store closes when
// the command ends.
func (e *env) openCatalog(db string) (*storeview.Catalog, error) {
	if e.catalog != nil {
		return e.catalog, nil
	}
	cache, err := image.CacheDir()
	if err != nil {
		return nil, err
	}
	st, err := openStore(e, db)
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, func() { st.Close() })
	e.catalog = storeview.New(e.ctx, st, cache)
	return e.catalog, nil
}

// opened is an image opened with the view flags applied.
type opened struct {
	image *image.Image
	view  *rootfs.View // the image's View with the binds
	env   []string     // the image's Env, then --env
	opts  []loader.Option
	db    string // --db, for a host named from the catalog too
	// source is the catalog's loader option for an image from the
	// catalog, else nil.
	source loader.Option
}

func (o *opened) Close() error {
	if o.view != o.image.View {
		o.view.Close()
	}
	return o.image.Close()
}

// open opens ref and applies the flags. Flag errors are usage errors.
func (v *viewFlags) open(e *env, ref string) (*opened, error) {
	var binds []rootfs.Bind
	for _, s := range v.binds {
		b, err := rootfs.ParseBind(s)
		if err != nil {
			return nil, usagef("--bind %q: %v", s, err)
		}
		binds = append(binds, b)
	}
	for _, kv := range v.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, usagef("--env %q: want NAME=VALUE", kv)
		}
	}
	level := *v.cpu
	if level == "host" {
		l, err := loader.HostLevel()
		if err != nil {
			return nil, err
		}
		level = l
	}
	hwcaps, err := loader.HWCapsFor(level)
	if err != nil {
		return nil, usagef("--cpu: %v", err)
	}
	var iopts []image.Option
	if *v.platform != "" {
		p, err := v1.ParsePlatform(*v.platform)
		if err != nil {
			return nil, usagef("--platform %q: %v", *v.platform, err)
		}
		iopts = append(iopts, image.WithPlatform(*p))
	}
	o := &opened{}
	if v.db != nil {
		o.db = *v.db
	}
	var im *image.Image
	if name, ok := strings.CutPrefix(ref, catalogPrefix); ok {
		c, err := e.openCatalog(o.db)
		if err != nil {
			return nil, err
		}
		if im, err = c.Open(e.ctx, name); err != nil {
			return nil, err
		}
		o.source = loader.WithSource(c.Source())
	} else if im, err = image.Open(e.ctx, ref, iopts...); err != nil {
		return nil, err
	}
	o.image, o.view = im, im.View
	if len(binds) > 0 {
		if o.view, err = im.View.WithBinds(binds...); err != nil {
			im.Close()
			return nil, err
		}
	}
	o.env = append(append([]string(nil), im.Config.Env...), v.env...)
	o.opts = []loader.Option{loader.WithEnv(o.env), loader.WithHWCaps(hwcaps)}
	if o.source != nil {
		o.opts = append(o.opts, o.source)
	}
	if *v.ldconfig {
		o.opts = append(o.opts, loader.WithLdconfig())
	}
	if wd := im.Config.WorkingDir; wd != "" {
		o.opts = append(o.opts, loader.WithDir(wd))
	}
	return o, nil
}
