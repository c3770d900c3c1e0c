package check

import (
	"fmt"

	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/plan"
	"github.com/hitch-hpc/hitch/rootfs"
)

// WithPlan binds plan p into view, the image's View as base judges it,
// and returns the View to judge with the options that judge with the
// plan: base's loader options with the plan's environment (and extra,
// say a catalog's source for the host's files), the View before the
// binds, the bound paths, the interface rules as concerns and the plan's
// notes as hints. The returned View must be closed.
func WithPlan(view *rootfs.View, p *plan.Plan, base Options, extra ...loader.Option) (*rootfs.View, Options, error) {
	opts := base
	opts.Before, opts.BeforeLoader, opts.Hints = view, base.Loader, p.Notes
	opts.Loader = append(append(append([]loader.Option(nil), base.Loader...), extra...), loader.WithEnv(p.Env))
	opts.Bound, opts.BoundDirs, opts.Concerns = nil, nil, nil
	opts.Static, opts.Interface = p.Static, p.Interface
	for _, r := range p.Rules {
		if r.Status == "ok" {
			continue
		}
		if opts.Concerns == nil {
			opts.Concerns = map[string][]Reason{}
		}
		opts.Concerns[r.Library] = append(opts.Concerns[r.Library],
			Reason{Kind: "interface-rule", Fatal: r.Status == "fails", Message: r.Message})
	}
	var binds []rootfs.Bind
	for _, b := range p.Binds {
		binds = append(binds, rootfs.Bind{Src: b.Src, Dst: b.Dst})
		if b.Dir {
			opts.BoundDirs = append(opts.BoundDirs, b.Dst)
		} else {
			opts.Bound = append(opts.Bound, b.Dst)
		}
	}
	merged, err := view.WithBinds(binds...)
	if err != nil {
		return nil, opts, fmt.Errorf("applying the plan: %w", err)
	}
	return merged, opts, nil
}

// Affected reports whether the binds or an interface rule touch the
// object: it loads a bound file, or a library a rule speaks of.
func (v Verdict) Affected() bool { return len(v.Shadowed) > 0 || v.Concerned }
