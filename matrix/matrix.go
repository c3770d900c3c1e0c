// Package matrix judges catalogued images against catalogued hosts: for
// each image × host, each interface the image uses (its MPI, fabric, GPU
// libraries) is planned from the host, bound in, and every object the
// binds touch is judged, as `hitch check --interface` judges it — from
// the catalog, without reopening an image. Drift compares two hosts:
// what changed in their stacks and which images change verdict.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
	"github.com/hitch-hpc/hitch/storeview"
)

// Options change a matrix.
type Options struct {
	// Interfaces to plan (mpi, libfabric, …, or family names); none
	// means, per image, every interface whose anchor libraries the image
	// needs or holds.
	Interfaces []string
	// Set is the interface data (default: the built-in set).
	Set *iface.Set
	// Workers judge objects at once (default GOMAXPROCS).
	Workers int
	// MaxObjects bounds the objects kept per cell part (default 20);
	// the counts cover all.
	MaxObjects int
	// Progress, when set, is called after each cell.
	Progress func(done, total int)

	facts *loader.FactsCache
}

func (o *Options) defaults() error {
	if o.Set == nil {
		s, err := iface.Builtin()
		if err != nil {
			return err
		}
		o.Set = s
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = 20
	}
	for _, n := range o.Interfaces {
		if len(o.Set.Interface(n)) == 0 {
			return fmt.Errorf("unknown interface %q", n)
		}
	}
	return nil
}

// Statuses of a cell, from best to worst.
const (
	OK      = "ok"
	Warning = "warning"
	Fails   = "fails"
	Error   = "error" // the cell could not be judged
)

func rank(s string) int {
	switch s {
	case OK:
		return 0
	case Warning:
		return 1
	case Fails:
		return 2
	}
	return 3
}

// Matrix is the verdict of every image on every host.
type Matrix struct {
	Images []string `json:"images"`
	Hosts  []string `json:"hosts"`
	// Cells holds image i on host j at [i*len(Hosts)+j].
	Cells []Cell `json:"cells"`
}

// Cell returns image i on host j.
func (m *Matrix) Cell(i, j int) *Cell { return &m.Cells[i*len(m.Hosts)+j] }

// Cell is one image on one host.
type Cell struct {
	Image  string `json:"image"`
	Host   string `json:"host"`
	Status string `json:"status"`
	// Reason is the first reason of the worst part, "" when ok.
	Reason string `json:"reason,omitempty"`
	Parts  []Part `json:"parts"`
}

// Part is one interface of a cell.
type Part struct {
	Interface string `json:"interface"`
	Family    string `json:"family,omitempty"`
	Binds     int    `json:"binds"`
	Status    string `json:"status"`
	// Problem is why the interface could not be planned (the host lacks
	// it, another architecture) or judged.
	Problem string        `json:"problem,omitempty"`
	Notes   []string      `json:"notes,omitempty"`
	Summary check.Summary `json:"summary"`
	// Objects are the judged objects that are not ok, worst first, at
	// most Options.MaxObjects.
	Objects []Object `json:"objects,omitempty"`
}

// Object is a judged object with its reasons, fatal ones first.
type Object struct {
	Path    string   `json:"path"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
	// More counts the reasons left out beyond maxReasons.
	More int `json:"more,omitempty"`
}

// maxReasons is how many reasons an object keeps.
const maxReasons = 8

// Run judges every image on every host, all named systems of the catalog
// c.
func Run(ctx context.Context, c *storeview.Catalog, images, hosts []string, opts Options) (*Matrix, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	m := &Matrix{Images: images, Hosts: hosts, Cells: make([]Cell, len(images)*len(hosts))}
	// Every Loader reads through one cache: an object's facts are
	// decoded from the catalog once for the whole matrix.
	shared := loader.NewFactsCache()
	base := []loader.Option{loader.WithSource(c.Source()), loader.WithFactsCache(shared)}
	opts.facts = shared
	// The hosts open while the first images are read.
	hostIms := make([]*image.Image, len(hosts))
	hostCaches := make([]*plan.HostCache, len(hosts))
	hostsReady := make(chan struct{})
	var hostErr error
	go func() {
		defer close(hostsReady)
		for j, h := range hosts {
			im, err := c.Open(ctx, h)
			if err != nil {
				hostErr = err
				return
			}
			hostIms[j] = im
			// What plans learn of the host, shared by every image.
			hostCaches[j] = plan.NewHostCache(im.View, plan.Options{HostEnv: im.Config.Env, Loader: base})
		}
	}()
	defer func() {
		<-hostsReady
		for _, im := range hostIms {
			if im != nil {
				im.Close()
			}
		}
	}()
	// One pool judges the parts (image × host × interface) of every
	// image; while it works on one image's parts the next image is
	// opened and its load graphs read, so no core waits for another.
	type imageRun struct {
		i     int
		img   *imageState
		parts [][]Part
		left  sync.WaitGroup
	}
	type job struct {
		r       *imageRun
		host, k int
	}
	jobs := make(chan job, 4*opts.Workers)
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		closers  sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	// Images are opened and read by several goroutines at once, in
	// order; their parts go to the pool as each is ready. At most
	// Workers+1 images are open at a time (a slot is freed when an
	// image's parts are done).
	ready := make([]chan *imageRun, len(images))
	for i := range ready {
		ready[i] = make(chan *imageRun, 1)
	}
	window := make(chan struct{}, opts.Workers+1)
	go func() {
		for i, name := range images {
			window <- struct{}{}
			go func() {
				if ctx.Err() != nil {
					ready[i] <- nil
					return
				}
				im, err := c.Open(ctx, name)
				if err != nil {
					fail(err)
					ready[i] <- nil
					return
				}
				ready[i] <- &imageRun{i: i, img: newImageState(ctx, c, name, im, base, opts), parts: make([][]Part, len(hosts))}
			}()
		}
	}()
	go func() {
		defer close(jobs)
		<-hostsReady
		if hostErr != nil {
			fail(hostErr)
		}
		for i, name := range images {
			r := <-ready[i]
			if r == nil || hostErr != nil {
				if r != nil {
					r.img.im.Close()
				}
				<-window
				continue
			}
			im := r.img.im
			for j := range hosts {
				r.parts[j] = make([]Part, len(r.img.interfaces))
				r.left.Add(len(r.img.interfaces))
			}
			closers.Add(1)
			go func() {
				defer closers.Done()
				r.left.Wait()
				im.Close()
				<-window
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for j, h := range hosts {
					*m.Cell(r.i, j) = makeCell(name, h, r.parts[j])
					done++
					if opts.Progress != nil {
						opts.Progress(done, len(m.Cells))
					}
				}
			}()
			for j := range hosts {
				for k := range r.img.interfaces {
					jobs <- job{r, j, k}
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				r := jb.r
				if ctx.Err() == nil {
					r.parts[jb.host][jb.k] = r.img.part(ctx, hostIms[jb.host], hostCaches[jb.host], r.img.interfaces[jb.k], opts)
				}
				r.left.Done()
			}
		}()
	}
	wg.Wait()
	closers.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// imageState is what an image's cells share: its loader options, the
// interfaces it uses, and what each of its objects loads before any bind.
type imageState struct {
	name       string
	im         *image.Image
	opts       []loader.Option // the image's own loader options
	base       []loader.Option // the catalog source and shared cache
	interfaces []string
	// loads maps an object to the names and files its load graph holds
	// without binds: the binds can only touch an object that loads a
	// bound soname or file, or one an interface rule names.
	loads map[string][]string
}

func newImageState(ctx context.Context, c *storeview.Catalog, name string, im *image.Image, base []loader.Option, opts Options) *imageState {
	s := &imageState{name: name, im: im, base: base, loads: map[string][]string{}}
	s.opts = append(append([]loader.Option(nil), base...), loader.WithEnv(im.Config.Env))
	if wd := im.Config.WorkingDir; wd != "" {
		s.opts = append(s.opts, loader.WithDir(wd))
	}
	// The graphs before binds need no symbols: read without them.
	l := loader.New(im.View, append(append([]loader.Option(nil), s.opts...), loader.WithoutSymbols())...)
	objects := c.Objects(name)
	// Every object is about to be loaded: one query for all their heads.
	// Without it each is asked on its own, slower but the same.
	_ = c.Prefetch(ctx, name)
	// An object that needs only the floor (libc, libm, the C++ runtime)
	// loads nothing a plan binds — the floor is never bound here — unless
	// something is preloaded into every program.
	floor, _ := opts.Set.Floor()
	preload := false
	for _, kv := range im.Config.Env {
		preload = preload || strings.HasPrefix(kv, "LD_PRELOAD=") && len(kv) > len("LD_PRELOAD=")
	}
	if _, err := im.View.Stat("etc/ld.so.preload"); err == nil {
		preload = true
	}
	onlyFloor := func(p string) bool {
		if preload {
			return false
		}
		f, err := l.Facts(p)
		if err != nil {
			return false
		}
		for _, n := range f.Needed {
			if !floor[n] {
				return false
			}
		}
		return true
	}
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if onlyFloor(p) {
					continue
				}
				g, err := l.Load(ctx, p)
				if err != nil {
					continue
				}
				var names []string
				for _, o := range g.Objects {
					names = append(names, o.Name, path.Base(o.Path), o.File)
					if o.Facts != nil && o.Facts.Soname != "" {
						names = append(names, o.Facts.Soname)
					}
				}
				mu.Lock()
				s.loads[p] = names
				mu.Unlock()
			}
		}()
	}
	for _, p := range objects {
		work <- p
	}
	close(work)
	wg.Wait()
	if len(opts.Interfaces) > 0 {
		s.interfaces = opts.Interfaces
	} else {
		s.interfaces = uses(opts.Set, l, objects)
	}
	return s
}

// uses lists the interfaces whose anchor libraries an image's objects
// need or are.
func uses(set *iface.Set, l *loader.Loader, objects []string) []string {
	sonames := map[string]bool{}
	for _, p := range objects {
		f, err := l.Facts(p)
		if err != nil {
			continue
		}
		sonames[f.Soname] = true
		for _, n := range f.Needed {
			sonames[n] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range set.Families {
		if f.Interface == "floor" || f.Interface == "" || seen[f.Interface] {
			continue
		}
		for _, lib := range f.Libraries {
			if lib.Anchor && sonames[lib.Soname] {
				seen[f.Interface] = true
				out = append(out, f.Interface)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// makeCell sums up a cell's parts: its status is the worst part's.
func makeCell(image, host string, parts []Part) Cell {
	cell := Cell{Image: image, Host: host, Status: OK, Parts: []Part{}}
	for _, part := range parts {
		if rank(part.Status) > rank(cell.Status) {
			cell.Status = part.Status
			cell.Reason = part.reason()
		}
		cell.Parts = append(cell.Parts, part)
	}
	return cell
}

func (p *Part) reason() string {
	if p.Problem != "" {
		return p.Interface + ": " + p.Problem
	}
	for _, o := range p.Objects {
		if o.Status == p.Status && len(o.Reasons) > 0 {
			return o.Path + ": " + o.Reasons[0]
		}
	}
	return ""
}

func (s *imageState) part(ctx context.Context, host *image.Image, hc *plan.HostCache, name string, opts Options) Part {
	part := Part{Interface: name, Status: OK}
	p, err := plan.Make(ctx, s.im.View, host.View, opts.Set, name, plan.Options{
		HostEnv: host.Config.Env, ImageEnv: s.im.Config.Env, Loader: s.base, Host: hc,
	})
	if err != nil {
		part.Status, part.Problem = Error, err.Error()
		if errors.Is(err, plan.ErrNoInterface) || errors.Is(err, plan.ErrArch) {
			part.Status = Fails
		}
		return part
	}
	part.Family, part.Binds, part.Notes = p.Family, len(p.Binds), p.Notes
	merged, copts, err := check.WithPlan(s.im.View, p, check.Options{Loader: s.opts, Workers: 1, Facts: opts.facts})
	if err != nil {
		part.Status, part.Problem = Error, err.Error()
		return part
	}
	defer merged.Close()
	paths := s.touched(merged, p, copts)
	var bad []check.Verdict
	_, err = check.Run(ctx, merged, paths, copts, func(v check.Verdict) error {
		if v.Err != nil || !v.Affected() {
			return nil
		}
		part.Summary.Add(v)
		if v.Status != check.OK {
			bad = append(bad, v)
		}
		return nil
	})
	if err != nil {
		part.Status, part.Problem = Error, err.Error()
		return part
	}
	switch {
	case part.Summary.Fails > 0:
		part.Status = Fails
	case part.Summary.Warnings > 0:
		part.Status = Warning
	}
	// A rule about the whole container (its NVIDIA_REQUIRE_CUDA) stops
	// it before any object loads.
	if r := p.ContainerRule(); r != nil && r.Status != OK && rank(r.Status) > rank(part.Status) {
		part.Status, part.Problem = r.Status, r.Message
	}
	sort.SliceStable(bad, func(i, j int) bool { return rank(string(bad[i].Status)) > rank(string(bad[j].Status)) })
	for _, v := range bad {
		if len(part.Objects) == opts.MaxObjects {
			break
		}
		o := Object{Path: v.Path, Status: string(v.Status)}
		for _, fatal := range []bool{true, false} {
			for _, r := range v.Reasons {
				if r.Fatal != fatal {
					continue
				}
				if len(o.Reasons) == maxReasons {
					o.More++
					continue
				}
				o.Reasons = append(o.Reasons, r.Message)
			}
		}
		part.Objects = append(part.Objects, o)
	}
	return part
}

// touched lists the objects the plan can touch: those whose graph before
// the binds holds a bound soname or file or a library a rule names, and
// the files the binds bring.
func (s *imageState) touched(merged *rootfs.View, p *plan.Plan, copts check.Options) []string {
	hit := map[string]bool{}
	for _, b := range p.Binds {
		hit[path.Base(b.Dst)] = true
		hit[b.Soname] = true
		hit[b.Shadows] = true
		if rp, err := s.im.View.Resolve(b.Dst); err == nil {
			hit[rp] = true
		}
	}
	for lib := range copts.Concerns {
		hit[lib] = true
	}
	delete(hit, "")
	set := map[string]bool{}
	for p, names := range s.loads {
		for _, n := range names {
			if hit[n] {
				set[p] = true
				break
			}
		}
	}
	for _, b := range p.Binds {
		if !b.Dir {
			if rp, err := merged.Resolve(b.Dst); err == nil {
				set[rp] = true
			}
			continue
		}
		root, err := merged.Resolve(b.Dst)
		if err != nil {
			continue
		}
		fs.WalkDir(merged, strings.TrimPrefix(root, "/"), func(q string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				set["/"+q] = true
			}
			return nil
		})
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
