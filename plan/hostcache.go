package plan

import (
	"context"
	"sync"

	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// HostCache holds what plans learn of one host that does not depend on
// the image: the host's loader, the libraries it finds by name, and the
// load graphs and symbol bindings of the libraries plans take from it.
// One HostCache serves the plans of many images on that host (a matrix)
// and is safe for concurrent use. Make uses it when Options.Host is set
// and the host View is the one the cache was made for.
type HostCache struct {
	view *rootfs.View
	l    *loader.Loader
	c    *link.Checker

	mu     sync.Mutex
	found  map[string]*hostFind
	graphs map[string]*hostGraph
}

type hostFind struct {
	once sync.Once
	o    *loader.Object
	err  error
}

type hostGraph struct {
	once     sync.Once
	g        *loader.Graph
	bindings []link.Binding
	err      error
}

// NewHostCache makes the cache for host, whose libraries are found with
// opts.HostEnv and opts.Loader (as Make would find them).
func NewHostCache(host *rootfs.View, opts Options) *HostCache {
	return &HostCache{view: host, l: loader.New(host, opts.loader(loader.WithEnv(opts.HostEnv))...), c: link.NewChecker(),
		found: map[string]*hostFind{}, graphs: map[string]*hostGraph{}}
}

// locate is hl.Locate, once per name.
func (h *HostCache) locate(ctx context.Context, name, class, machine string) (*loader.Object, error) {
	key := name + "\x00" + class + "\x00" + machine
	h.mu.Lock()
	e := h.found[key]
	if e == nil {
		e = &hostFind{}
		h.found[key] = e
	}
	h.mu.Unlock()
	e.once.Do(func() { e.o, e.err = h.l.Locate(ctx, name, class, machine) })
	return e.o, e.err
}

// bindings is the load graph of the host file and its symbol bindings,
// once per file.
func (h *HostCache) bindings(ctx context.Context, file string) (*loader.Graph, []link.Binding, error) {
	h.mu.Lock()
	e := h.graphs[file]
	if e == nil {
		e = &hostGraph{}
		h.graphs[file] = e
	}
	h.mu.Unlock()
	e.once.Do(func() {
		e.g, e.err = h.l.Load(ctx, file)
		if e.err == nil {
			e.bindings = h.c.Bindings(e.g)
		}
	})
	return e.g, e.bindings, e.err
}
