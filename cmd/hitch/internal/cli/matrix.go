package cli

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hitch-hpc/hitch/iface"
	"github.com/hitch-hpc/hitch/matrix"
	"github.com/hitch-hpc/hitch/store"
)

const matrixHelp = `
Judge catalogued images against catalogued hosts ('hitch scan' with
--role image and --role host fills the catalog): for every image × host,
each interface the image uses (its MPI, libfabric, UCX, PMIx, CUDA — or
only those --interface names) is planned from the host and bound in, and
every object the binds touch is judged, as 'hitch check IMAGE
--interface NAME --host HOST' judges it. Nothing is reopened: the
catalog's facts suffice.

A cell is ok, warning, fails (an object would not load or bind, or the
host lacks the interface) or error (it could not be judged), with the
first reason. --images and --hosts pick systems by name, comma-separated,
shell patterns allowed (default: every image, every host).

--format text prints the grid and the reason of each cell that is not
ok; json the whole matrix, every part with its failing objects; html one
self-contained page (no external assets): click a cell for its reasons.

Exit status: 0 when no cell fails, 1 when one does, 2 on usage errors.

Examples:
  hitch matrix
  hitch matrix --hosts 'cluster-*' --interface mpi --format html > matrix.html
`

func runMatrix(e *env, args []string) error {
	fs := newFlags(e, "matrix", "[flags]", matrixHelp)
	format := fs.String("format", "text", "output `format`: text, json or html")
	db := fs.String("db", "", "the catalog: an SQLite `file` or a postgres:// URL (default $XDG_DATA_HOME/hitch/hitch.db)")
	images := fs.String("images", "", "the `names` of the images, comma-separated, patterns allowed (default: all)")
	hosts := fs.String("hosts", "", "the `names` of the hosts, comma-separated, patterns allowed (default: all)")
	var ifaces multiFlag
	fs.Var(&ifaces, "interface", "judge this `interface` (mpi, cuda, libfabric, …; repeatable; default: each that the image uses)")
	var ifaceDirs multiFlag
	fs.Var(&ifaceDirs, "interfaces", "read interface files from `DIR` too (repeatable)")
	jobs := fs.Int("jobs", 0, "judge `N` image × host pairs at once (default: the number of CPUs)")
	args, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" && *format != "html" {
		return usagef("unknown format %q: want text, json or html", *format)
	}
	if len(args) > 0 {
		return usagef("no arguments: the systems come from the catalog (--images, --hosts)")
	}
	set, err := interfaceSet(ifaceDirs, ifaces)
	if err != nil {
		return err
	}
	c, err := e.openCatalog(*db)
	if err != nil {
		return err
	}
	systems, err := c.Systems(e.ctx)
	if err != nil {
		return err
	}
	imageNames, err := pickNames(systems, "image", "images", *images)
	if err != nil {
		return err
	}
	hostNames, err := pickNames(systems, "host", "hosts", *hosts)
	if err != nil {
		return err
	}
	progress := newProgress(e.stderr)
	progress.say(fmt.Sprintf("%d images × %d hosts", len(imageNames), len(hostNames)))
	m, err := matrix.Run(e.ctx, c, imageNames, hostNames, matrix.Options{
		Interfaces: ifaces, Set: set, Workers: *jobs,
		Progress: func(done, total int) { progress.status(fmt.Sprintf("%d/%d cells", done, total)) },
	})
	progress.clear()
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = writeJSON(e.stdout, struct {
			Schema int `json:"schema"`
			*matrix.Matrix
		}{1, m})
	case "html":
		err = m.WriteHTML(e.stdout, time.Now())
	default:
		err = m.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	for _, cell := range m.Cells {
		if cell.Status == matrix.Fails {
			return errNo
		}
	}
	return nil
}

// interfaceSet loads the interface data (built in, the user's, dirs)
// and checks the names asked for.
func interfaceSet(dirs, names []string) (*iface.Set, error) {
	set, err := iface.Load(append([]string{iface.UserDir()}, dirs...)...)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if len(set.Interface(n)) == 0 {
			return nil, usagef("--interface %q: unknown (known: %s)", n, strings.Join(set.Names(), ", "))
		}
	}
	return set, nil
}

// pickNames chooses the systems of a role that the patterns name (all of
// the role when empty). A pattern that names nothing is a usage error.
func pickNames(systems []store.System, role, flagName, patterns string) ([]string, error) {
	var out []string
	if patterns == "" {
		for _, s := range systems {
			if s.Role == role {
				out = append(out, s.Name)
			}
		}
		if len(out) == 0 {
			return nil, usagef("the catalog has no %s (hitch scan --role %s)", role, role)
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(patterns, ",") {
		if _, err := path.Match(p, ""); err != nil {
			return nil, usagef("--%s %q: %v", flagName, p, err)
		}
		n := 0
		for _, s := range systems {
			if ok, _ := path.Match(p, s.Name); ok && s.Role == role {
				n++
				if !seen[s.Name] {
					seen[s.Name] = true
					out = append(out, s.Name)
				}
			}
		}
		if n == 0 {
			return nil, usagef("--%s: no %s in the catalog matches %q", flagName, role, p)
		}
	}
	return out, nil
}
