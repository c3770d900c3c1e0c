package debrepo

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hitch-hpc/hitch/cudf"
	"github.com/hitch-hpc/hitch/solve"
)

// Scenario is an APT EDSP 0.5 scenario (apt's external solver protocol):
// the request, and the universe with APT's identifiers.
type Scenario struct {
	Universe        *Universe
	Install, Remove []string
	UpgradeAll      bool
	// DistUpgrade: removals and new packages allowed (apt-get
	// dist-upgrade, full-upgrade).
	DistUpgrade bool
	// Forbids, from the request or implied by Upgrade.
	ForbidNewInstall, ForbidRemove bool
	StrictPinning                  bool
	// Preferences is the request's solver-specific string (apt's
	// APT::Solver::NAME::Preferences): criteria, when set.
	Preferences string
}

// ReadEDSP reads a scenario. With strict pinning (the default) only APT's
// candidates and the installed versions enter the universe.
func ReadEDSP(r io.Reader, name string) (*Scenario, error) {
	sc := &Scenario{StrictPinning: true}
	var req fields
	candidate := map[*Package]bool{}
	index := map[string]*Package{}
	err := stanzas(r, name, func(f fields, line int) error {
		src := fmt.Sprintf("%s:%d", name, line)
		if req == nil {
			if _, ok := f["Request"]; !ok {
				return fmt.Errorf("%s: the scenario does not start with a Request stanza", src)
			}
			req = f
			arch := strings.TrimSpace(f["Architecture"])
			if arch == "" {
				return fmt.Errorf("%s: the request names no Architecture", src)
			}
			sc.Universe = New(arch)
			for _, a := range strings.Fields(f["Architectures"]) {
				if a != arch && !slices.Contains(sc.Universe.Foreign, a) {
					sc.Universe.Foreign = append(sc.Universe.Foreign, a)
				}
			}
			yes := func(k string) bool { return strings.TrimSpace(f[k]) == "yes" }
			sc.UpgradeAll = yes("Upgrade-All") || yes("Upgrade") || yes("Dist-Upgrade")
			sc.DistUpgrade = yes("Dist-Upgrade")
			sc.ForbidNewInstall = yes("Forbid-New-Install") || yes("Upgrade")
			sc.ForbidRemove = yes("Forbid-Remove") || yes("Upgrade")
			sc.StrictPinning = strings.TrimSpace(f["Strict-Pinning"]) != "no"
			sc.Preferences = strings.TrimSpace(f["Preferences"])
			for _, l := range []struct {
				k   string
				out *[]string
			}{{"Install", &sc.Install}, {"Remove", &sc.Remove}} {
				for _, n := range strings.Fields(f[l.k]) {
					base, qual, _ := strings.Cut(n, ":")
					switch {
					case qual == "" || qual == arch || qual == "all" || qual == "any":
						*l.out = append(*l.out, base)
					case slices.Contains(sc.Universe.Foreign, qual):
						*l.out = append(*l.out, n)
					default:
						return fmt.Errorf("%s: %s %s: architecture %s is not among the scenario's (%s)", src, l.k, n, qual, f["Architectures"])
					}
				}
			}
			return nil
		}
		if f["Package"] == "" {
			return fmt.Errorf("%s: a package stanza without Package", src)
		}
		p, err := sc.Universe.parsePackage(f, src)
		if err != nil || p == nil {
			return err
		}
		p.ID = strings.TrimSpace(f["APT-ID"])
		if p.ID == "" {
			return fmt.Errorf("%s: %s %s has no APT-ID", src, p.Name, p.Version)
		}
		p.Installed = strings.TrimSpace(f["Installed"]) == "yes"
		p.Auto = strings.TrimSpace(f["APT-Automatic"]) == "yes"
		if p.Installed && strings.TrimSpace(f["Hold"]) == "yes" {
			p.Keep = cudf.KeepVersion
		}
		key := p.key()
		if index[key] != nil {
			return nil // the same version from another archive
		}
		index[key] = p
		candidate[p] = strings.TrimSpace(f["APT-Candidate"]) == "yes"
		sc.Universe.Packages = append(sc.Universe.Packages, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%s: an empty scenario", name)
	}
	// Names by architecture, "all" the native one's.
	nameArch := func(p *Package) string {
		if p.Arch == "all" {
			return p.Name + ":" + sc.Universe.Arch
		}
		return p.Name + ":" + p.Arch
	}
	installedNames := map[string]bool{}
	for _, p := range sc.Universe.Packages {
		if p.Installed {
			installedNames[nameArch(p)] = true
			if sc.ForbidRemove && p.Keep == "" {
				p.Keep = cudf.KeepPackage
			}
		}
	}
	kept := sc.Universe.Packages[:0]
	for _, p := range sc.Universe.Packages {
		switch {
		case p.Installed:
		case sc.StrictPinning && !candidate[p]:
			continue // not APT's candidate: the solver may not propose it
		case sc.ForbidNewInstall && !installedNames[nameArch(p)]:
			continue
		}
		kept = append(kept, p)
	}
	sc.Universe.Packages = kept
	return sc, nil
}

// Criteria are the optimization criteria for the request: those the
// Preferences field names (apt-get -o APT::Solver::hitch::Preferences=…);
// else, for upgrades, the fewest removed, then the most up to date; for
// installs and removals what apt's own solver does by default (APT::
// Install-Recommends, which EDSP does not carry): the fewest removed,
// then the recommendations of the newly installed packages met, then the
// fewest changed.
func (sc *Scenario) Criteria() ([]solve.Criterion, error) {
	if sc.Preferences != "" {
		c, err := solve.ParseCriteria(sc.Preferences)
		if err != nil {
			return nil, fmt.Errorf("Preferences: %w", err)
		}
		return c, nil
	}
	if sc.UpgradeAll && sc.DistUpgrade {
		// As apt: no package installed by request removed, then all up
		// to date, removing what apt installed as a dependency where
		// the new versions need it, then the fewest removed, new, changed.
		return []solve.Criterion{{Measure: solve.Sum, Set: solve.SetRemoved, Attr: ManualProperty}, solve.NotUpToDate, solve.Removed, solve.New, solve.Changed}, nil
	}
	if sc.UpgradeAll {
		return []solve.Criterion{solve.Removed, solve.NotUpToDate, solve.New, solve.Changed}, nil
	}
	return []solve.Criterion{solve.Removed, {Measure: solve.UnsatRecommOf, Set: solve.SetNew}, solve.Changed}, nil
}

// CUDF is the scenario as a CUDF document.
// Sliced to what the request and the installed set reach: apt's
// criteria never gain by installing more.
func (sc *Scenario) CUDF() (*cudf.Document, error) {
	return sc.Universe.CUDF(Request{Install: sc.Install, Remove: sc.Remove, Slice: true})
}

// WriteAnswer writes the EDSP solution for a CUDF solution of the
// scenario: an Install stanza for every package new or at another
// version (the removal of the old version implicit), a Remove stanza for
// every installed package whose name is gone.
func (sc *Scenario) WriteAnswer(w io.Writer, doc *cudf.Document, installed []*cudf.Package) error {
	// By name and architecture (libc6:amd64 and libc6:i386 are two; a
	// package of "all" is of the native one: linux-libc-dev:amd64
	// replaced by linux-libc-dev:all is an upgrade, not a removal).
	key := func(p *Package) string {
		if p.Arch == "all" {
			return p.Name + ":" + sc.Universe.Arch
		}
		return p.Name + ":" + p.Arch
	}
	after := map[string][]*Package{}
	for _, cp := range installed {
		p := sc.Universe.Origin(cp)
		if p == nil {
			return fmt.Errorf("a solution package %s is not of the scenario", cp)
		}
		after[key(p)] = append(after[key(p)], p)
	}
	var b strings.Builder
	stanza := func(action string, p *Package) {
		fmt.Fprintf(&b, "%s: %s\nPackage: %s\nVersion: %s\nArchitecture: %s\n\n", action, p.ID, p.Name, p.Version, p.Arch)
	}
	for _, p := range sc.Universe.Packages {
		if p.Installed && len(after[key(p)]) == 0 {
			stanza("Remove", p)
		}
	}
	for _, p := range sc.Universe.Packages {
		if p.Installed {
			continue
		}
		for _, q := range after[key(p)] {
			if q == p {
				stanza("Install", p)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteError writes an EDSP error stanza: apt shows the message.
func WriteError(w io.Writer, msg string) error {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			lines[i] = " ."
		} else {
			lines[i] = " " + lines[i]
		}
	}
	_, err := fmt.Fprintf(w, "Error: hitch\nMessage: %s\n\n", strings.Join(lines, "\n"))
	return err
}

// WriteProgress writes an EDSP progress stanza.
func WriteProgress(w io.Writer, percent int, msg string) error {
	_, err := fmt.Fprintf(w, "Progress: %s\nPercentage: %d\nMessage: %s\n\n", time.Now().UTC().Format(time.RFC1123Z), percent, msg)
	return err
}
