// Package plan decides what to bind from a host into a container so that
// the container uses the host's implementation of an interface (its MPI,
// its libfabric, …): which host files, at which container paths, with
// which environment, and why each one. The host is a View like the
// container, so a cluster one is not on can be modelled by its root
// filesystem.
//
// The libraries of the interface that the container uses are taken from
// the host; so is every library they need that the container does not
// provide compatibly: a dependency is compatible when the container's
// copy defines every symbol, at every version, that the host's libraries
// bind to in the host's own copy. The floor (glibc, the C++ runtime) is
// never taken unless asked: what the host's libraries need of it must be
// met by the container's.
package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// Strategy says where host libraries go in the container.
type Strategy string

const (
	// Replace binds each host library over the file the container's
	// loader would find for its soname, or into the container's first
	// library directory when it has none (as Sarus does).
	Replace Strategy = "replace"
	// Prepend binds every host library into one directory and puts it
	// first on LD_LIBRARY_PATH (as apptainer --nv does).
	Prepend Strategy = "prepend"
)

// DefaultDir is where Prepend puts the host's libraries.
const DefaultDir = "/.hitch/host/lib"

// Options change how a plan is made.
type Options struct {
	Strategy Strategy
	// Dir is the container directory of the Prepend strategy.
	Dir string
	// WithHostGlibc lets floor libraries (glibc, libstdc++, libgcc_s) be
	// taken from the host when the container's cannot serve.
	WithHostGlibc bool
	// HostEnv is the host environment the libraries are found with
	// (LD_LIBRARY_PATH from a module system).
	HostEnv []string
	// HostLibs are host paths of libraries to use before searching.
	HostLibs []string
	// ImageEnv is the container's environment (its LD_LIBRARY_PATH).
	ImageEnv []string
	// Class and Machine of the programs (default: the image's).
	Class, Machine string
	// Compare applies Sarus's version rule to each interface library
	// bound over the image's: "major" (equal majors), "full" (and the
	// host's minor not older), "strict" (equal major and minor), from the
	// versions in the file names; "" applies none (hitch compares
	// symbols).
	Compare string
	// Loader options start every loader the plan makes (a catalog's
	// loader.Source).
	Loader []loader.Option
	// Host, when made for the host View (NewHostCache), shares what is
	// learnt of the host between plans.
	Host *HostCache
}

// host returns the cache for the host View: opts.Host when it was made
// for it, else a new one for this plan.
func (o Options) hostCache(host *rootfs.View) *HostCache {
	if o.Host != nil && o.Host.view == host {
		return o.Host
	}
	return NewHostCache(host, o)
}

func (o Options) loader(more ...loader.Option) []loader.Option {
	return append(append([]loader.Option(nil), o.Loader...), more...)
}

// Bind is one host file mounted in the container.
type Bind struct {
	// Src is the host path of the file (symlinks resolved on the host);
	// HostFile the same path inside the host View.
	Src      string `json:"src"`
	HostFile string `json:"host_file"`
	// Dst is the container path it is mounted at.
	Dst    string `json:"dst"`
	Soname string `json:"soname,omitempty"`
	// Dir marks a directory bind (plugin directories).
	Dir bool `json:"dir,omitempty"`
	// Why says why the file is needed.
	Why string `json:"why"`
	// Shadows is the container file the bind hides, if any.
	Shadows string `json:"shadows,omitempty"`
}

// Candidate is a family found on the host.
type Candidate struct {
	Family string `json:"family"`
	Soname string `json:"soname"`
	Path   string `json:"path"`
	Rule   string `json:"rule"`
	// Chosen, or why not.
	Chosen bool   `json:"chosen"`
	Note   string `json:"note,omitempty"`
}

// Plan is what to bind and set.
type Plan struct {
	Interface string   `json:"interface"`
	Family    string   `json:"family"`
	Strategy  Strategy `json:"strategy"`
	// ImageFamily is the family the container uses.
	ImageFamily string      `json:"image_family,omitempty"`
	Candidates  []Candidate `json:"candidates"`
	Binds       []Bind      `json:"binds"`
	// Env holds NAME=VALUE settings for the container.
	Env []string `json:"env,omitempty"`
	// Kept are dependencies the container already provides compatibly.
	Kept []string `json:"kept,omitempty"`
	// Notes say what the plan could not do or the user should know.
	Notes []string `json:"notes,omitempty"`
	// Rules are the interface's rules evaluated (the CUDA driver a
	// runtime needs).
	Rules []RuleResult `json:"rules,omitempty"`
	// Ldconfig says ldconfig must run in the container once the binds
	// are in place: the loader finds some bound library only through a
	// rebuilt ld.so.cache.
	Ldconfig bool `json:"ldconfig"`
	// Static are the symbols a program defines when it has the family
	// linked in statically (from the family's data).
	Static []string `json:"static,omitempty"`
}

// ContainerRule returns the worst of the rules that concern the whole
// container (Library "": the image's own NVIDIA_REQUIRE_CUDA), or nil
// when there are none.
func (p *Plan) ContainerRule() *RuleResult {
	var worst *RuleResult
	rank := map[string]int{"ok": 0, "warning": 1, "fails": 2}
	for i, r := range p.Rules {
		if r.Library == "" && (worst == nil || rank[r.Status] > rank[worst.Status]) {
			worst = &p.Rules[i]
		}
	}
	return worst
}

// RuleResult is one interface rule applied to this image and host.
type RuleResult struct {
	// Library is the image's library the rule is about (its soname): the
	// objects that load it are the ones it concerns; "" for a rule about
	// the whole container.
	Library string `json:"library"`
	// Status is "ok", "warning" or "fails".
	Status  string `json:"status"`
	Message string `json:"message"`
}

// ErrArch is returned when the image and the host are for different
// architectures.
var ErrArch = errors.New("the image and the host differ in architecture")

// archOf names the architecture of a tree by its shell: "ELF64 x86_64".
func archOf(l *loader.Loader) string {
	if c, m := l.Arch(); c != "" {
		return c + " " + m
	}
	return ""
}

// ErrNoInterface is returned when the host has no library of the
// interface; the error says what was searched.
var ErrNoInterface = errors.New("interface not found on the host")

// Make computes the plan for interface name (an interface such as "mpi"
// or a family such as "openmpi").
func Make(ctx context.Context, image, host *rootfs.View, set *iface.Set, name string, opts Options) (*Plan, error) {
	if opts.Strategy == "" {
		opts.Strategy = Replace
	}
	if opts.Dir == "" {
		opts.Dir = DefaultDir
	}
	families := set.Interface(name)
	if len(families) == 0 {
		return nil, fmt.Errorf("unknown interface %q (known: %s)", name, strings.Join(set.Names(), ", "))
	}
	p := &Plan{Interface: name, Strategy: opts.Strategy}
	hc := opts.hostCache(host)
	opts.Host = hc
	hl := hc.l
	il := loader.New(image, opts.loader(loader.WithEnv(opts.ImageEnv))...)
	// Nothing of one architecture can serve another.
	ia, ha := archOf(il), archOf(hl)
	if ia != "" && ha != "" && ia != ha {
		return nil, fmt.Errorf("%w: the image is for %s, the host for %s", ErrArch, ia, ha)
	}
	if opts.Class == "" {
		// The image's, else x86-64.
		opts.Class, opts.Machine = "ELF64", "x86_64"
		if c, m, ok := strings.Cut(ia, " "); ok {
			opts.Class, opts.Machine = c, m
		}
	}

	// What the image uses: the families whose anchor it has.
	imageFam := map[string]bool{}
	for _, f := range families {
		for _, lib := range f.Libraries {
			if !lib.Anchor {
				continue
			}
			if o, err := il.Locate(ctx, lib.Soname, opts.Class, opts.Machine); err == nil && o != nil && belongs(il, o, lib) {
				imageFam[f.Name] = true
				if p.ImageFamily == "" {
					p.ImageFamily = f.Name
				}
			}
		}
	}

	// What the host has.
	var searched []string
	explicit := map[string]string{} // soname → host View path
	for _, hp := range opts.HostLibs {
		file, err := host.Resolve(hp)
		if err != nil {
			return nil, fmt.Errorf("--host-lib %s: %w", hp, err)
		}
		f, err := hl.Facts(file)
		if err != nil {
			return nil, fmt.Errorf("--host-lib %s: %w", hp, err)
		}
		so := f.Soname
		if so == "" {
			so = path.Base(hp)
		}
		explicit[so] = hp
	}
	for _, f := range families {
		for _, lib := range f.Libraries {
			if !lib.Anchor {
				continue
			}
			if !slices.Contains(searched, lib.Soname) {
				searched = append(searched, lib.Soname)
			}
			o, err := locate(ctx, hl, host, explicit, lib.Soname, opts)
			if err != nil || o == nil {
				continue
			}
			c := Candidate{Family: f.Name, Soname: lib.Soname, Path: o.Path, Rule: string(o.Rule)}
			if !belongs(hl, o, lib) {
				c.Note = fmt.Sprintf("defines none of %s: another family's %s", strings.Join(lib.Defines, ", "), lib.Soname)
				c.Family = ""
			}
			p.Candidates = append(p.Candidates, c)
		}
	}
	// The first candidate of a family the image uses wins; with no such
	// family in the image, the first candidate.
	pick := -1
	for i, c := range p.Candidates {
		if c.Family != "" && imageFam[c.Family] {
			pick = i
			break
		}
	}
	if pick < 0 && len(imageFam) == 0 {
		for i, c := range p.Candidates {
			if c.Family != "" {
				pick = i
				break
			}
		}
	}
	for i := range p.Candidates {
		c := &p.Candidates[i]
		switch {
		case i == pick:
			c.Chosen = true
			if imageFam[c.Family] {
				c.Note = "the image uses this family"
			}
		case c.Family == "":
		case pick >= 0 && c.Family == p.Candidates[pick].Family:
			c.Note = "same family: the first one found is used"
		case len(imageFam) > 0 && !imageFam[c.Family]:
			c.Note = "the image does not use this family"
		default:
			c.Note = "another candidate came first"
		}
	}
	if pick < 0 {
		if len(p.Candidates) > 0 {
			return p, fmt.Errorf("%w: the host has %s, but the image uses %s", ErrNoInterface, describe(p.Candidates), p.ImageFamily)
		}
		return nil, fmt.Errorf("%w: searched the host for %s (its ld.so.cache, trusted directories, LD_LIBRARY_PATH and --host-lib)", ErrNoInterface, strings.Join(searched, ", "))
	}
	chosen := &p.Candidates[pick]
	chosenFam := famByName(families, chosen.Family)
	p.Family, p.Interface, p.Static = chosenFam.Name, chosenFam.Interface, chosenFam.Static

	// The family's libraries the image uses, and the host's copies.
	var roots, imageOnly []*loader.Object
	caps := iface.WantedCapabilities(opts.ImageEnv)
	var leftOut []string
	for _, lib := range chosenFam.Libraries {
		if lib.Capability != "" && !caps[lib.Capability] {
			// The image does not ask for what the library serves.
			if ho, _ := locate(ctx, hl, host, explicit, lib.Soname, opts); ho != nil {
				leftOut = append(leftOut, lib.Soname+" ("+lib.Capability+")")
			}
			continue
		}
		io, _ := il.Locate(ctx, lib.Soname, opts.Class, opts.Machine)
		if io != nil && !belongs(il, io, lib) {
			io = nil // another family's library of that soname
		}
		if io == nil && !lib.Anchor && !lib.Dlopened {
			continue // the image does not use it
		}
		ho, err := locate(ctx, hl, host, explicit, lib.Soname, opts)
		if err != nil || ho == nil {
			if io != nil {
				imageOnly = append(imageOnly, io)
			}
			continue
		}
		if io == nil && lib.Anchor && lib.Soname != chosen.Soname {
			continue
		}
		roots = append(roots, ho)
	}
	if len(leftOut) > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("the image asks for the driver capabilities %s (NVIDIA_DRIVER_CAPABILITIES): the host's %s left out",
			strings.Join(slices.Sorted(maps.Keys(caps)), ","), strings.Join(leftOut, ", ")))
	}
	pluginBinds, pluginRoots := p.plugins(hl, host, image, chosenFam, chosen, roots, opts)
	if err := p.closure(ctx, hl, il, host, image, set, roots, pluginRoots, pluginBinds, opts); err != nil {
		return nil, err
	}
	p.Binds = append(p.Binds, pluginBinds...)
	p.floorNotes(ctx, hl, il, set, opts)
	compatDir := p.driverRules(ctx, il, image, chosenFam, opts)
	if opts.Compare != "" {
		if err := p.compareVersions(chosenFam, opts.Compare); err != nil {
			return nil, err
		}
	}
	for _, io := range imageOnly {
		hidden := false
		for _, b := range p.Binds {
			hidden = hidden || b.Shadows == io.File
		}
		if !hidden {
			p.Notes = append(p.Notes, fmt.Sprintf("the image has %s but the host does not: the image's stays", sonameOf(io)))
		}
	}
	if opts.Strategy == Prepend {
		p.Env = prependPath(p.Env, opts.ImageEnv, opts.Dir)
	}
	if compatDir != "" {
		// Before the host's driver library, wherever that is.
		p.Env = prependPath(p.Env, opts.ImageEnv, compatDir)
	}
	sort.Strings(p.Env)
	p.findable(ctx, image, opts)
	return p, nil
}

// findable asks the image's loader, with the binds in place and the
// plan's environment, for every bound library by its soname: each must
// be found at its bind. One found there only once ldconfig has rebuilt
// the cache (a library directory the loader knows only from
// ld.so.conf) sets Ldconfig; one found nowhere, or found elsewhere, gets
// a note.
func (p *Plan) findable(ctx context.Context, image *rootfs.View, opts Options) {
	var binds []rootfs.Bind
	for _, b := range p.Binds {
		binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
	}
	merged, err := image.WithBinds(binds...)
	if err != nil {
		return
	}
	defer merged.Close()
	env := append(append([]string(nil), opts.ImageEnv...), p.Env...)
	now := loader.New(merged, opts.loader(loader.WithEnv(env))...)
	after := loader.New(merged, opts.loader(loader.WithEnv(env), loader.WithLdconfig())...)
	at := func(l *loader.Loader, b Bind) (string, bool) {
		o, _ := l.Locate(ctx, b.Soname, opts.Class, opts.Machine)
		if o == nil {
			return "", false
		}
		want, err := merged.Resolve(b.Dst)
		return o.Path, err == nil && o.File == want
	}
	var needs []string
	for _, b := range p.Binds {
		if b.Dir || b.Soname == "" {
			continue
		}
		if _, ok := at(now, b); ok {
			continue
		}
		if _, ok := at(after, b); ok {
			needs = append(needs, b.Soname)
			continue
		}
		where, _ := at(now, b)
		if where == "" {
			where = "nowhere"
		}
		p.Notes = append(p.Notes, fmt.Sprintf("the image's loader will not find the host's %s at %s (it finds it %s), even after ldconfig", b.Soname, b.Dst, where))
	}
	if len(needs) > 0 {
		p.Ldconfig = true
		p.Notes = append(p.Notes, fmt.Sprintf("run ldconfig in the container after binding: its ld.so.cache does not know %s, and %s is not searched without it", strings.Join(needs, ", "), path.Dir(p.bindOf(needs[0]))))
	}
}

func (p *Plan) bindOf(soname string) string {
	for _, b := range p.Binds {
		if b.Soname == soname {
			return b.Dst
		}
	}
	return ""
}

func famByName(fs []*iface.Family, name string) *iface.Family {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func describe(cs []Candidate) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s (%s at %s)", c.Family, c.Soname, c.Path))
	}
	return strings.Join(parts, ", ")
}

// locate finds soname on the host: an explicit --host-lib first.
func locate(ctx context.Context, hl *loader.Loader, host *rootfs.View, explicit map[string]string, soname string, opts Options) (*loader.Object, error) {
	if hp, ok := explicit[soname]; ok {
		file, err := host.Resolve(hp)
		if err != nil {
			return nil, err
		}
		f, err := hl.Facts(file)
		if err != nil {
			return nil, err
		}
		return &loader.Object{Name: soname, Path: hp, File: file, Rule: "host-lib", Facts: f}, nil
	}
	if opts.Host != nil && opts.Host.l == hl {
		return opts.Host.locate(ctx, soname, opts.Class, opts.Machine)
	}
	return hl.Locate(ctx, soname, opts.Class, opts.Machine)
}

// belongs checks the library's Defines against the object found.
func belongs(l *loader.Loader, o *loader.Object, lib iface.Library) bool {
	if len(lib.Defines) == 0 {
		return true
	}
	for _, want := range lib.Defines {
		for _, d := range o.Facts.Defined {
			if d.Name == want {
				return true
			}
		}
	}
	return false
}

// closure decides, for the host libraries roots and everything they load
// on the host, which come from the host.
// Plugins (bound with their directory) count as taken from the host: what
// they need is judged like the roots' needs, but they are not bound one by
// one.
func (p *Plan) closure(ctx context.Context, hl, il *loader.Loader, host, image *rootfs.View, set *iface.Set, roots, plugins []*loader.Object, pluginBinds []Bind, opts Options) error {
	floor, _ := set.Floor()
	c := link.NewChecker()
	take := map[string]*loader.Object{} // soname → host object to bind
	why := map[string]string{}
	for _, r := range roots {
		// Bound under the name the interface asks for: the name a
		// program's DT_NEEDED or a dlopen gives, whatever the file's own
		// soname (NCCL asks for libnccl-net.so).
		so := path.Base(r.Name)
		if so == "" || so == "." {
			so = sonameOf(r)
		}
		take[so], why[so] = r, "the interface's library"
	}
	inDir := map[string]bool{}
	for _, r := range plugins {
		inDir[sonameOf(r)] = true
	}
	taken := func(so string) bool { return take[so] != nil || inDir[so] }
	// The host's own view of each root: what it loads and binds to.
	type dep struct {
		host  *loader.Object
		needs []elffacts.RequiredSymbol // what host objects bind to in it
		by    map[string]bool
	}
	deps := map[string]*dep{}
	var order []string
	for _, r := range append(append([]*loader.Object(nil), roots...), plugins...) {
		g, bindings, err := opts.Host.bindings(ctx, r.File)
		if err != nil {
			return fmt.Errorf("loading %s on the host: %w", r.Path, err)
		}
		for _, o := range g.Objects[1:] {
			// A host modelled by a directory of libraries may lack its
			// floor: the image's is used anyway.
			if !o.Found() && !floor[o.Name] {
				p.Notes = append(p.Notes, fmt.Sprintf("%s needs %s, which the host itself cannot find", r.Path, o.Name))
			}
		}
		for _, b := range bindings {
			if b.To == nil || b.To == g.Objects[0] {
				continue
			}
			so := sonameOf(b.To)
			d := deps[so]
			if d == nil {
				d = &dep{host: b.To, by: map[string]bool{}}
				deps[so] = d
				order = append(order, so)
			}
			d.needs = append(d.needs, b.Symbol)
			d.by[sonameOf(b.From)] = true
		}
		// Needed libraries no symbol binds to still load.
		for _, o := range g.Objects[1:] {
			if so := sonameOf(o); o.Found() && o.Rule != loader.RuleInterp && deps[so] == nil {
				deps[so] = &dep{host: o, by: map[string]bool{}}
				order = append(order, so)
			}
		}
	}
	// Fixed point: a dependency comes from the host when something taken
	// from the host binds to it and the image's copy cannot serve.
	for changed := true; changed; {
		changed = false
		for _, so := range order {
			d := deps[so]
			if taken(so) || floor[so] && !opts.WithHostGlibc {
				continue
			}
			used := false
			for by := range d.by {
				if taken(by) {
					used = true
				}
			}
			if !used {
				continue
			}
			io, _ := il.Locate(ctx, so, opts.Class, opts.Machine)
			reason := ""
			switch {
			case io == nil:
				reason = "the image has no " + so
			default:
				for _, r := range d.needs {
					if !c.Defines(io.Facts, r) {
						v := r.Name
						if r.Version != "" {
							v += "@" + r.Version
						}
						reason = fmt.Sprintf("the image's %s lacks %s", so, v)
						break
					}
				}
			}
			if reason == "" {
				continue
			}
			take[so], why[so] = d.host, "needed by "+strings.Join(keys(d.by), ", ")+": "+reason
			changed = true
		}
	}
	// Taking a library from the host replaces the image's for every
	// object, including the image's own libraries that stay: load the
	// roots with the binds applied, and take from the host whatever the
	// image keeps that no longer binds.
	for round := 0; round < 8; round++ {
		p.Binds = p.bindsFor(ctx, il, host, take, why, opts)
		added, err := p.refine(ctx, image, hl, c, take, why, floor, roots, plugins, pluginBinds, opts)
		if err != nil {
			return err
		}
		if !added {
			break
		}
	}
	for _, so := range order {
		if !taken(so) && !floor[so] {
			used := false
			for by := range deps[so].by {
				if taken(by) {
					used = true
				}
			}
			if used {
				p.Kept = append(p.Kept, so)
			}
		}
	}
	sort.Strings(p.Kept)
	return nil
}

// bindsFor places the libraries to take.
func (p *Plan) bindsFor(ctx context.Context, il *loader.Loader, host *rootfs.View, take map[string]*loader.Object, why map[string]string, opts Options) []Bind {
	var sonames []string
	for so := range take {
		sonames = append(sonames, so)
	}
	sort.Strings(sonames)
	var binds []Bind
	firstDir := ""
	for _, so := range sonames {
		o := take[so]
		b := Bind{Src: host.HostPath(o.File), HostFile: o.File, Soname: so, Why: why[so]}
		switch opts.Strategy {
		case Prepend:
			b.Dst = path.Join(opts.Dir, so)
		default:
			if io, _ := il.Locate(ctx, so, opts.Class, opts.Machine); io != nil {
				b.Dst, b.Shadows = io.Path, io.File
			} else {
				if firstDir == "" {
					firstDir = containerLibDir(ctx, il, opts)
				}
				b.Dst = path.Join(firstDir, so)
			}
		}
		binds = append(binds, b)
	}
	return binds
}

// refine loads each root inside the image with the binds and takes from
// the host the image libraries that fail to bind there; it reports
// whether it took any.
func (p *Plan) refine(ctx context.Context, image *rootfs.View, hl *loader.Loader, c *link.Checker, take map[string]*loader.Object, why map[string]string, floor map[string]bool, roots, plugins []*loader.Object, pluginBinds []Bind, opts Options) (bool, error) {
	var rb []rootfs.Bind
	dst := map[string]string{}
	var paths []string
	for _, b := range p.Binds {
		rb = append(rb, rootfs.Bind{Src: b.Src, Dst: b.Dst})
		dst[b.Soname] = b.Dst
	}
	for _, r := range roots {
		if d, ok := dst[sonameOf(r)]; ok {
			paths = append(paths, d)
		}
	}
	// The plugins, where their directory is mounted.
	for _, b := range pluginBinds {
		rb = append(rb, rootfs.Bind{Src: b.Src, Dst: b.Dst})
		for _, pl := range plugins {
			if rel, ok := strings.CutPrefix(pl.File, b.HostFile+"/"); ok {
				paths = append(paths, path.Join(b.Dst, rel))
			}
		}
	}
	merged, err := image.WithBinds(rb...)
	if err != nil {
		return false, fmt.Errorf("applying the plan's binds: %w", err)
	}
	defer merged.Close()
	env := opts.ImageEnv
	if opts.Strategy == Prepend {
		env = append(append([]string(nil), env...), "LD_LIBRARY_PATH="+opts.Dir)
	}
	ml := loader.New(merged, opts.loader(loader.WithEnv(env))...)
	added := false
	for _, d := range paths {
		g, err := ml.Load(ctx, d)
		if err != nil {
			continue
		}
		byPath := map[string]*loader.Object{}
		for _, o := range g.Objects {
			byPath[o.Path] = o
		}
		for _, pr := range c.Check(g) {
			if !pr.Fatal {
				continue
			}
			o := byPath[pr.Object]
			if o == nil || o == g.Objects[0] {
				continue
			}
			so := sonameOf(o)
			if take[so] != nil || floor[so] && !opts.WithHostGlibc {
				continue
			}
			ho, _ := hl.Locate(ctx, so, opts.Class, opts.Machine)
			if ho == nil {
				continue
			}
			take[so], why[so] = ho, "the image's "+so+" fails beside the host's libraries: "+pr.Message
			added = true
		}
	}
	return added, nil
}

// containerLibDir is the container's first trusted directory, found from
// where its libc is.
func containerLibDir(ctx context.Context, il *loader.Loader, opts Options) string {
	if o, _ := il.Locate(ctx, "libc.so.6", opts.Class, opts.Machine); o != nil {
		return path.Dir(o.Path)
	}
	return "/usr/lib"
}

// plugins binds the family's plugin directories next to where the host
// library they belong to goes.
func (p *Plan) plugins(hl *loader.Loader, host, image *rootfs.View, fam *iface.Family, chosen *Candidate, roots []*loader.Object, opts Options) ([]Bind, []*loader.Object) {
	var anchor *loader.Object
	for _, r := range roots {
		if sonameOf(r) == chosen.Soname || r.Name == chosen.Soname {
			anchor = r
		}
	}
	if anchor == nil && len(roots) > 0 {
		anchor = roots[0]
	}
	if anchor == nil {
		return nil, nil
	}
	var binds []Bind
	var objs []*loader.Object
	for _, pl := range fam.Plugins {
		hdir := path.Join(path.Dir(anchor.File), pl.Dir)
		fi, err := host.Stat(strings.TrimPrefix(hdir, "/"))
		if err != nil || !fi.IsDir() {
			continue
		}
		matches, _ := fs.Glob(host, strings.TrimPrefix(path.Join(hdir, pl.Glob), "/"))
		if len(matches) == 0 {
			continue
		}
		// Plugins go where the host's library will look for them: the
		// directory it was built with (Open MPI's MCA components), unless
		// a variable can point it elsewhere (FI_PROVIDER_PATH).
		dst := hdir
		if pl.Env != "" && opts.Strategy == Prepend {
			dst = path.Join(opts.Dir, pl.Dir)
		}
		b := Bind{Src: host.HostPath(hdir), HostFile: hdir, Dst: dst, Dir: true,
			Why: fmt.Sprintf("%d plugins (%s) %s dlopens at run time", len(matches), pl.Glob, chosen.Soname)}
		if fi, err := image.Stat(strings.TrimPrefix(dst, "/")); err == nil && fi.IsDir() {
			b.Shadows = dst
		}
		binds = append(binds, b)
		if pl.Env != "" {
			p.Env = append(p.Env, pl.Env+"="+dst)
		}
		for _, m := range matches {
			file, err := host.Resolve("/" + m)
			if err != nil {
				continue
			}
			f, err := hl.Facts(file)
			if err != nil || !f.Dynamic {
				continue
			}
			objs = append(objs, &loader.Object{Name: path.Base(m), Path: "/" + m, File: file, Rule: "plugin", Facts: f})
		}
	}
	return binds, objs
}

func sonameOf(o *loader.Object) string {
	if o.Facts != nil && o.Facts.Soname != "" {
		return o.Facts.Soname
	}
	return path.Base(o.Name)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// floorNotes says which floor versions the host's libraries need that
// the image's copies lack, with the fix: a newer image, since the floor
// is never taken from the host.
func (p *Plan) floorNotes(ctx context.Context, hl, il *loader.Loader, set *iface.Set, opts Options) {
	floor, prefixes := set.Floor()
	missing := map[string]string{} // floor soname → highest missing version
	for _, b := range p.Binds {
		if b.Dir {
			continue
		}
		f, err := hl.Facts(b.HostFile)
		if err != nil {
			continue
		}
		for _, vn := range f.VersionNeeds {
			if !floor[vn.File] {
				continue
			}
			io, _ := il.Locate(ctx, vn.File, opts.Class, opts.Machine)
			if io == nil {
				continue
			}
			have := map[string]bool{}
			for _, d := range io.Facts.VersionDefs {
				have[d.Name] = true
			}
			for _, v := range vn.Versions {
				if have[v.Name] || v.Weak {
					continue
				}
				for _, pre := range prefixes {
					if strings.HasPrefix(v.Name, pre) && (missing[vn.File] == "" || versionLess(missing[vn.File], v.Name, pre)) {
						missing[vn.File] = v.Name
					}
				}
			}
		}
	}
	for _, so := range keysOf(missing) {
		v := missing[so]
		what := "glibc"
		switch {
		case strings.HasPrefix(v, "GLIBCXX_") || strings.HasPrefix(v, "CXXABI_"):
			what = "libstdc++"
		case strings.HasPrefix(v, "GCC_"):
			what = "libgcc"
		}
		p.Notes = append(p.Notes, fmt.Sprintf("the host's libraries need %s from %s, which the image's lacks: use an image with %s ≥ %s (%s is never taken from the host)",
			v, so, what, strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(v, "GLIBCXX_"), "GLIBC_"), "GCC_"), so))
	}
}

func versionLess(a, b, prefix string) bool {
	if !strings.HasPrefix(a, prefix) || !strings.HasPrefix(b, prefix) {
		return a < b
	}
	return elffacts.CompareVersions(a[len(prefix):], b[len(prefix):]) < 0
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// driverRules applies the family's driver rules: the version in the file
// name of the image's runtime library against the one of the host's
// driver library that the plan binds.
// driverRules evaluates the family's driver rules; it returns the image's
// forward-compatibility directory when the toolkit would use it.
func (p *Plan) driverRules(ctx context.Context, il *loader.Loader, image *rootfs.View, fam *iface.Family, opts Options) (compatDir string) {
	for i := range fam.DriverRules {
		r := &fam.DriverRules[i]
		driver := ""
		for _, b := range p.Binds {
			if strings.HasPrefix(b.Soname, r.Driver+".") {
				driver = strings.TrimPrefix(path.Base(b.HostFile), r.Driver+".")
			}
		}
		// The image's forward-compatibility driver library, which the
		// toolkit puts first when the host's driver is one it serves.
		var compat *fwdCompat
		if c := findFwdCompat(image); c != nil && r.Driver == "libcuda.so" && isDotted(driver) {
			if c.used(driver, r.Supports(driver)) {
				compat, compatDir = c, c.Dir
				p.Notes = append(p.Notes, fmt.Sprintf("the image's forward-compatibility libcuda in %s (CUDA %s, for drivers %v) takes the place of the host's %s on its LD_LIBRARY_PATH, as the toolkit's enable-cuda-compat hook does: it runs on datacenter GPUs only; elsewhere \"forward compatibility was attempted on non supported HW\" (error 804)", c.Dir, c.CUDAVersion, c.Driver, driver))
			} else {
				p.Notes = append(p.Notes, fmt.Sprintf("the image's forward-compatibility libcuda in %s (CUDA %s, for drivers %v) is not used with the host's driver %s", c.Dir, c.CUDAVersion, c.Driver, driver))
			}
		}
		// The image's runtime: by the major versions the rule knows.
		seen := map[string]bool{}
		for _, row := range r.Versions {
			major, _, _ := strings.Cut(row.Runtime, ".")
			for _, so := range []string{r.Runtime + "." + major, r.Runtime + "." + major + ".0"} {
				io, _ := il.Locate(ctx, so, opts.Class, opts.Machine)
				if io == nil || seen[io.File] {
					continue
				}
				seen[io.File] = true
				runtime := strings.TrimPrefix(path.Base(io.File), r.Runtime+".")
				res := evalDriver(r, sonameOf(io), runtime, driver)
				if compat != nil && res.Status != "ok" && elffacts.CompareVersions(majorMinor(runtime), compat.CUDAVersion) <= 0 {
					res.Status = "warning"
					res.Message += fmt.Sprintf("; the image's forward-compatibility libcuda (CUDA %s) stands in for the host's: on datacenter GPUs only", compat.CUDAVersion)
				}
				p.Rules = append(p.Rules, res)
			}
		}
		if r.Require != "" {
			if res, ok := evalRequire(r, opts.ImageEnv, driver); ok {
				p.Rules = append(p.Rules, res)
			}
		}
	}
	return compatDir
}

// majorMinor is "12.4" of "12.4.127".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// prependPath puts dir first on the container's LD_LIBRARY_PATH: the
// plan's setting if it has one, else the image's.
func prependPath(env, imageEnv []string, dir string) []string {
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LD_LIBRARY_PATH="); ok {
			env[i] = "LD_LIBRARY_PATH=" + dir + ":" + v
			return env
		}
	}
	llp := dir
	for _, kv := range imageEnv {
		if v, ok := strings.CutPrefix(kv, "LD_LIBRARY_PATH="); ok && v != "" {
			llp = dir + ":" + v
		}
	}
	return append(env, "LD_LIBRARY_PATH="+llp)
}

// evalRequire evaluates the image's own constraints (NVIDIA_REQUIRE_CUDA,
// unless NVIDIA_DISABLE_REQUIRE is set) as NVIDIA's container toolkit
// does: space-separated alternatives, any of which may hold, each a
// comma-separated list of conditions that must all hold — "cuda" against
// the runtime version the host's driver fully supports, "driver"
// against its version. "brand" and "arch" describe the GPU, which hitch
// cannot see: an alternative that needs them is undecided. The result
// concerns the whole container (Library "").
func evalRequire(r *iface.DriverRule, env []string, driver string) (RuleResult, bool) {
	expr, disabled := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, r.Require+"="); ok {
			expr = v
		}
		if v, ok := strings.CutPrefix(kv, "NVIDIA_DISABLE_REQUIRE="); ok {
			disabled = v != "" && v != "false" && v != "0"
		}
	}
	expr = strings.TrimSpace(expr)
	if expr == "" || disabled {
		return RuleResult{}, false
	}
	res := RuleResult{}
	if driver == "" || !isDotted(driver) {
		res.Status = "warning"
		res.Message = fmt.Sprintf("%s=%q: the host's %s file name gives no version; unchecked", r.Require, expr, r.Driver)
		return res, true
	}
	cuda := r.Supports(driver)
	values := map[string]string{"cuda": cuda, "driver": driver}
	firstFailed, undecided := "", []string{}
	for _, alt := range strings.Fields(expr) {
		holds, known := true, true
		for _, cond := range strings.Split(alt, ",") {
			key, op, want, ok := splitCondition(cond)
			if !ok {
				res.Status = "warning"
				res.Message = fmt.Sprintf("%s: cannot read the condition %q", r.Require, cond)
				return res, true
			}
			have, isKnown := values[key]
			if !isKnown || have == "" {
				known = false
				continue
			}
			if !compareOp(elffacts.CompareVersions(have, want), op) {
				holds = false
				if firstFailed == "" {
					firstFailed = cond
				}
				break
			}
		}
		switch {
		case holds && known:
			res.Status = "ok"
			res.Message = fmt.Sprintf("%s: %s holds on the host's driver %s (CUDA %s)", r.Require, alt, driver, cuda)
			return res, true
		case holds:
			undecided = append(undecided, alt)
		}
	}
	if len(undecided) > 0 {
		res.Status = "warning"
		res.Message = fmt.Sprintf("%s: on the host's driver %s (CUDA %s) only %s could hold, which depends on the GPU: unknown without it", r.Require, driver, cuda, strings.Join(undecided, " or "))
		return res, true
	}
	res.Status = "fails"
	res.Message = fmt.Sprintf("the host's driver %s (CUDA %s): \"requirement error: unsatisfied condition: %s, please update your driver to a newer version, or use an earlier cuda container\"", driver, cuda, firstFailed)
	return res, true
}

// splitCondition reads "cuda>=12.4" as cuda, >=, 12.4.
func splitCondition(c string) (key, op, val string, ok bool) {
	for i := 0; i < len(c); i++ {
		switch c[i] {
		case '<', '>', '=', '!':
			key, rest := c[:i], c[i:]
			for _, op := range []string{">=", "<=", "==", "!=", ">", "<", "="} {
				if v, ok := strings.CutPrefix(rest, op); ok && key != "" && v != "" {
					return key, op, v, true
				}
			}
			return "", "", "", false
		}
	}
	return "", "", "", false
}

func compareOp(c int, op string) bool {
	switch op {
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case "<":
		return c < 0
	case "!=":
		return c != 0
	}
	return c == 0
}

func evalDriver(r *iface.DriverRule, lib, runtime, driver string) RuleResult {
	res := RuleResult{Library: lib}
	row := r.Row(runtime)
	switch {
	case row == nil:
		res.Status = "warning"
		res.Message = fmt.Sprintf("the image's %s is version %s, which the interface data does not know: its driver needs are unchecked", lib, runtime)
	case driver == "" || !isDotted(driver):
		res.Status = "warning"
		res.Message = fmt.Sprintf("the host's %s file name gives no version: %s %s needs a driver ≥ %s, unchecked", r.Driver, lib, runtime, row.Minimum)
	case elffacts.CompareVersions(driver, row.Minimum) < 0:
		res.Status = "fails"
		res.Message = fmt.Sprintf("the image's %s %s needs a driver ≥ %s; the host's is %s: \"CUDA driver version is insufficient for CUDA runtime version\"", lib, runtime, row.Minimum, driver)
	case row.Full != "" && elffacts.CompareVersions(driver, row.Full) < 0:
		res.Status = "warning"
		res.Message = fmt.Sprintf("the image's %s %s runs on the host's driver %s only under minor version compatibility (%s or newer runs it fully): newer PTX cannot be JIT-compiled", lib, runtime, driver, row.Full)
	default:
		res.Status = "ok"
		res.Message = fmt.Sprintf("the image's %s %s runs on the host's driver %s", lib, runtime, driver)
	}
	return res
}

func isDotted(v string) bool {
	for _, part := range strings.Split(v, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return false
		}
	}
	return true
}

// compareVersions applies Sarus's rule (its SharedLibrary.cpp) to the
// family's libraries that the plan binds over the image's own.
func (p *Plan) compareVersions(fam *iface.Family, mode string) error {
	switch mode {
	case "major", "full", "strict":
	default:
		return fmt.Errorf("unknown comparison %q (want major, full or strict)", mode)
	}
	for _, b := range p.Binds {
		if b.Shadows == "" || b.Dir {
			continue
		}
		if f, _ := (&iface.Set{Families: []*iface.Family{fam}}).Library(b.Soname); f == nil {
			continue
		}
		hv, iv := fileVersion(b.HostFile), fileVersion(b.Shadows)
		res := RuleResult{Library: b.Soname, Status: "ok"}
		notCompatible := fmt.Sprintf("Host's MPI library %s is not ABI compatible with container's MPI library %s", path.Base(b.HostFile), path.Base(b.Shadows))
		switch {
		case len(hv) == 0 || len(iv) == 0:
			res.Status, res.Message = "warning", fmt.Sprintf("%s: no version in %s or %s to compare", mode, path.Base(b.HostFile), path.Base(b.Shadows))
		case hv[0] != iv[0]:
			res.Status, res.Message = "fails", notCompatible+" (major versions differ)"
		case mode == "major":
			res.Message = fmt.Sprintf("major: %s and %s share major version %d", path.Base(b.HostFile), path.Base(b.Shadows), hv[0])
		case len(hv) < 2 || len(iv) < 2:
			res.Status, res.Message = "warning", fmt.Sprintf("%s: no minor version in %s or %s", mode, path.Base(b.HostFile), path.Base(b.Shadows))
		case mode == "strict" && hv[1] != iv[1]:
			res.Status, res.Message = "fails", notCompatible+" (strict: minor versions differ)"
		case mode == "full" && hv[1] < iv[1]:
			res.Status, res.Message = "warning", fmt.Sprintf("Partial ABI compatibility detected: the host's %s is older than the container's %s; applications are likely to fail if they use symbols which are only present in the container's library", path.Base(b.HostFile), path.Base(b.Shadows))
		default:
			res.Message = fmt.Sprintf("%s: %s and %s are compatible", mode, path.Base(b.HostFile), path.Base(b.Shadows))
		}
		p.Rules = append(p.Rules, res)
	}
	return nil
}

// fileVersion is the numbers after ".so." in a file name: libmpi.so.40.30.4 → [40 30 4].
func fileVersion(file string) []int {
	_, v, ok := strings.Cut(path.Base(file), ".so.")
	if !ok {
		return nil
	}
	var out []int
	for _, part := range strings.Split(v, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		out = append(out, n)
	}
	return out
}
