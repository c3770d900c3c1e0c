package cli

import (
	"fmt"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/scan"
	"github.com/hitch-hpc/hitch/store"
)

const scanHelp = `
Read systems into the ABI catalog: for each REF (an image in any form
'hitch inspect' opens, a root filesystem, or "host"), its ELF objects and
their facts, the links and directories of its tree, the loader's
configuration files (ld.so.cache, ld.so.conf, …), its os-release,
package ownership and image configuration. An object's facts are stored
once, however many systems hold it; scanning a system whose tree has not
changed writes nothing. A rescan reads only the files that changed since
the last scan of the same tree (a per-tree cache of file identities in
hitch's cache says which). --parallel references are scanned at once,
each with --jobs files read at a time.

The catalog is an SQLite file (--db PATH, default
$XDG_DATA_HOME/hitch/hitch.db, ~/.local/share/hitch/hitch.db) or a shared
PostgreSQL (--db postgres://USER@HOST/DB): many hitch scan processes, say
a Slurm job array, may write to one at once. --role says
whether a system is an image or a host; --name names it (default: REF;
with several REFs, --name cannot be used).

Examples:
  hitch scan ./app.sif docker.io/library/debian:12
  hitch scan host --role host --name cluster-2026-11
`

// openStore opens the catalog named by --db or the default one.
func openStore(e *env, dbPath string) (*store.Store, error) {
	if dbPath == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		dbPath = p
	}
	return store.Open(e.ctx, dbPath)
}

func runScan(e *env, args []string) error {
	fs := newFlags(e, "scan", "[flags] REF...", scanHelp)
	format := formatFlag(fs)
	db := fs.String("db", "", "the catalog: an SQLite `file` or a postgres:// URL (default $XDG_DATA_HOME/hitch/hitch.db)")
	role := fs.String("role", "image", "`role` of the systems: image or host")
	name := fs.String("name", "", "the `name` to catalog the system under (default: REF)")
	jobs := fs.Int("jobs", 0, "read `N` files at once per reference (default: the number of CPUs)")
	parallel := fs.Int("parallel", 2, "scan `N` references at once")
	platform := fs.String("platform", "", platformUsage)
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("want at least one REF")
	}
	if *name != "" && len(args) > 1 {
		return usagef("--name names one system; give one REF")
	}
	if *role != "image" && *role != "host" {
		return usagef("--role %q: want image or host", *role)
	}
	if *parallel < 1 {
		return usagef("--parallel %d: want at least 1", *parallel)
	}
	opts := scan.Options{Role: *role, Name: *name, Workers: *jobs}
	if *platform != "" {
		p, err := v1.ParsePlatform(*platform)
		if err != nil {
			return usagef("--platform %q: %v", *platform, err)
		}
		opts.Platform = p
	}
	st, err := openStore(e, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	opts.Known = func(sha string) (*elffacts.Facts, bool) {
		f, err := st.ObjectHead(e.ctx, sha)
		return f, err == nil
	}
	type result struct {
		Name       string  `json:"name"`
		Objects    int     `json:"objects"`
		NewObjects int     `json:"new_objects"`
		Unchanged  bool    `json:"unchanged"`
		Seconds    float64 `json:"seconds"`
		Error      string  `json:"error,omitempty"`
	}
	results := make([]result, len(args))
	progress := newProgress(e.stderr)
	if progress.on {
		// New versus known, as the objects are read: one indexed lookup
		// each, asked only when someone watches.
		opts.InCatalog = func(sha string) bool {
			ok, err := st.Has(e.ctx, sha)
			return err == nil && ok
		}
	}
	// References are scanned --parallel at once, each with its files read
	// concurrently; the progress line sums what all have read.
	var mu sync.Mutex
	seen := make([]scan.Progress, len(args))
	done := 0
	show := func() {
		var sum scan.Progress
		for _, p := range seen {
			sum.Objects += p.Objects
			sum.Known += p.Known
			sum.InCatalog += p.InCatalog
			sum.Bytes += p.Bytes
		}
		progress.status(fmt.Sprintf("%d/%d scanned: %d objects: %d new to the catalog, %d known (%d unchanged since the last scan); %.0f MiB read",
			done, len(args), sum.Objects, sum.Objects-sum.InCatalog, sum.InCatalog, sum.Known, float64(sum.Bytes)/(1<<20)))
	}
	scanOne := func(i int) {
		ref := args[i]
		start := time.Now()
		o := opts
		o.Progress = func(p scan.Progress) {
			mu.Lock()
			defer mu.Unlock()
			seen[i] = p
			show()
		}
		sn, err := scan.Image(e.ctx, ref, o)
		var res store.PutResult
		if err == nil {
			res, err = st.Put(e.ctx, sn)
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		progress.clear()
		if err != nil {
			if e.ctx.Err() == nil {
				fmt.Fprintf(e.stderr, "hitch scan: %s: %v\n", ref, err)
			}
			results[i] = result{Name: ref, Error: err.Error()}
			return
		}
		r := result{Name: sn.System.Name, Objects: len(sn.Objects), NewObjects: res.NewObjects, Unchanged: res.Unchanged, Seconds: time.Since(start).Seconds()}
		results[i] = r
		if *format == "text" {
			what := fmt.Sprintf("%d objects, %d new", r.Objects, r.NewObjects)
			if r.Unchanged {
				what = fmt.Sprintf("%d objects, unchanged", r.Objects)
			}
			fmt.Fprintf(e.stdout, "%s: %s (%.1f s)\n", r.Name, what, r.Seconds)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(*parallel, len(args)); w++ {
		wg.Go(func() {
			for i := range next {
				scanOne(i)
			}
		})
	}
	for i := range args {
		next <- i
	}
	close(next)
	wg.Wait()
	if e.ctx.Err() != nil {
		return e.ctx.Err()
	}
	failed := false
	for _, r := range results {
		failed = failed || r.Error != ""
	}
	if *format == "json" {
		if err := writeJSON(e.stdout, map[string]any{"schema": 1, "scanned": results}); err != nil {
			return err
		}
	}
	if failed {
		return errPartial
	}
	return nil
}

const lsHelp = `
List the systems in the ABI catalog: name, role, kind, architecture,
objects and files, and when each was scanned.
`

func runLs(e *env, args []string) error {
	fs := newFlags(e, "ls", "[flags]", lsHelp)
	format := formatFlag(fs)
	db := fs.String("db", "", "the catalog: an SQLite `file` or a postgres:// URL (default $XDG_DATA_HOME/hitch/hitch.db)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("ls takes no arguments")
	}
	st, err := openStore(e, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	systems, err := st.Systems(e.ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		if systems == nil {
			systems = []store.System{}
		}
		return writeJSON(e.stdout, map[string]any{"schema": 1, "systems": systems})
	}
	fmt.Fprintf(e.stdout, "%-24s %-5s %-14s %-14s %8s %8s  %s\n", "NAME", "ROLE", "KIND", "ARCH", "OBJECTS", "FILES", "SCANNED")
	for _, s := range systems {
		fmt.Fprintf(e.stdout, "%-24s %-5s %-14s %-14s %8d %8d  %s\n", s.Name, s.Role, s.Kind, s.Arch, s.Objects, s.Files, s.ScannedAt.Local().Format("2006-01-02 15:04"))
	}
	return nil
}
