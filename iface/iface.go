// Package iface holds ABI interfaces as data: which libraries make up an
// MPI implementation, the NVIDIA driver, libfabric, UCX, PMIx or the
// scheduler's PMI; which of them anchor a family on a host and how to tell
// two families with one soname apart; which files are dlopen'ed rather
// than linked (plugins, providers, the CUDA driver); and the floor of
// libraries (glibc, the C++ runtime) that are never taken from the host by
// default. Nothing about a family is written in Go: the files in data/
// are embedded, and users add their own (docs/interfaces.md).
package iface

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/hitch-hpc/hitch/elffacts"
)

//go:embed data/*.toml
var builtin embed.FS

// Family is one interface implementation family, one file.
type Family struct {
	Name string `toml:"name"`
	// Interface is what --interface selects: "mpi", "cuda", "libfabric",
	// "ucx", "pmix", "pmi"; "floor" for the libraries never bound.
	Interface string    `toml:"interface"`
	Summary   string    `toml:"summary"`
	Libraries []Library `toml:"library"`
	Plugins   []Plugins `toml:"plugins"`
	Devices   []Device  `toml:"devices"`
	// Versions are the symbol version prefixes of a floor family
	// (GLIBC_, GLIBCXX_, …): what host libraries need of them must be met
	// by the container.
	Versions []string `toml:"versions"`
	// DriverRules say which host driver an image's runtime needs.
	DriverRules []DriverRule `toml:"driver_rule"`
	// Static are symbols that a program defines itself when it has the
	// family linked in statically (MPI_Init): the host's libraries
	// cannot be swapped in under such a program.
	Static []string `toml:"static"`

	// File is where the family was read from ("builtin:openmpi.toml" or
	// a path).
	File string `toml:"-"`
}

// Library is one library of a family.
type Library struct {
	Soname string `toml:"soname"`
	// Anchor libraries identify the family on a host: finding one finds
	// the family.
	Anchor bool `toml:"anchor"`
	// Defines are symbols the library must define to belong to this
	// family, for sonames two families share.
	Defines []string `toml:"defines"`
	// Dlopened libraries are loaded at run time, not through DT_NEEDED,
	// so no load graph shows them.
	Dlopened bool `toml:"dlopened"`
	// Capability, when set, is the NVIDIA driver capability the library
	// serves (compute, utility, graphics, video, display, compat32,
	// ngx): it is taken only when the image asks for that capability in
	// NVIDIA_DRIVER_CAPABILITIES ("all" asks for every one; unset or
	// empty means "utility,compute", as in NVIDIA's container toolkit).
	Capability string `toml:"capability"`
}

// Capabilities are the NVIDIA driver capabilities a Library may name.
var Capabilities = []string{"compute", "compat32", "display", "graphics", "ngx", "utility", "video"}

// DefaultCapabilities are what an image gets without
// NVIDIA_DRIVER_CAPABILITIES.
var DefaultCapabilities = []string{"utility", "compute"}

// WantedCapabilities reads NVIDIA_DRIVER_CAPABILITIES from a container
// environment (NAME=VALUE entries; the last one counts): the set of
// capabilities it asks for.
func WantedCapabilities(env []string) map[string]bool {
	val := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NVIDIA_DRIVER_CAPABILITIES="); ok {
			val = v
		}
	}
	out := map[string]bool{}
	if strings.TrimSpace(val) == "" {
		for _, c := range DefaultCapabilities {
			out[c] = true
		}
		return out
	}
	for _, c := range strings.Split(val, ",") {
		c = strings.TrimSpace(c)
		if c == "all" {
			for _, c := range Capabilities {
				out[c] = true
			}
			continue
		}
		out[c] = true
	}
	return out
}

// Plugins are files dlopen'ed from a directory that belongs with the
// family: Dir is relative to the directory of the anchor library.
type Plugins struct {
	Dir  string `toml:"dir"`
	Glob string `toml:"glob"`
	// Env names a variable that must point at the directory inside the
	// container (FI_PROVIDER_PATH).
	Env string `toml:"env"`
}

// DriverRule relates a runtime library in the image to the driver
// library on the host by the versions in their file names.
type DriverRule struct {
	Runtime  string          `toml:"runtime"` // file name prefix, e.g. "libcudart.so"
	Driver   string          `toml:"driver"`  // e.g. "libcuda.so"
	Versions []DriverVersion `toml:"versions"`
	// Require names the image variable holding the container's own
	// constraints (NVIDIA_REQUIRE_CUDA: "cuda>=12.4 brand=tesla,driver>=470,driver<471"),
	// evaluated against the host's driver and the runtime version it
	// fully supports (the highest row whose full driver it meets).
	Require string `toml:"require"`
}

// Supports is the highest runtime version the driver runs fully (by the
// rows' full drivers), "" when none.
func (r *DriverRule) Supports(driver string) string {
	best := ""
	for _, v := range r.Versions {
		if v.Full == "" || elffacts.CompareVersions(driver, v.Full) < 0 {
			continue
		}
		if best == "" || elffacts.CompareVersions(v.Runtime, best) > 0 {
			best = v.Runtime
		}
	}
	return best
}

// DriverVersion is one row: for runtimes whose version starts with
// Runtime, the driver Minimum to run at all and Full to run fully.
type DriverVersion struct {
	Runtime string `toml:"runtime"`
	Minimum string `toml:"minimum"`
	Full    string `toml:"full"`
}

// Row returns the most specific row for a runtime version ("12.4.127"
// takes "12.4" over "12"), or nil.
func (r *DriverRule) Row(version string) *DriverVersion {
	var best *DriverVersion
	for i := range r.Versions {
		v := &r.Versions[i]
		if version == v.Runtime || strings.HasPrefix(version, v.Runtime+".") {
			if best == nil || len(v.Runtime) > len(best.Runtime) {
				best = v
			}
		}
	}
	return best
}

// Device is a device node the family needs: a path or a glob.
type Device struct {
	Path string `toml:"path"`
	Glob string `toml:"glob"`
}

// Set is the families hitch knows.
type Set struct {
	Families []*Family
}

// Builtin returns the families embedded in hitch.
func Builtin() (*Set, error) {
	s := &Set{}
	if err := s.addFS(builtin, "data", "builtin:"); err != nil {
		return nil, err
	}
	return s, nil
}

// Load returns the builtin families and those in the given directories
// (*.toml files). A user family with a builtin's name replaces it.
func Load(dirs ...string) (*Set, error) {
	s, err := Builtin()
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := s.addFS(os.DirFS(d), ".", filepath.Clean(d)+string(filepath.Separator)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// UserDir is where a user's own interface files live:
// $XDG_CONFIG_HOME/hitch/interfaces, default ~/.config/hitch/interfaces.
func UserDir() string {
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "hitch", "interfaces")
}

func (s *Set) addFS(fsys fs.FS, dir, prefix string) error {
	names, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return err
		}
		f, err := Parse(prefix+path.Base(n), b)
		if err != nil {
			return err
		}
		s.Families = slices.DeleteFunc(s.Families, func(o *Family) bool { return o.Name == f.Name })
		s.Families = append(s.Families, f)
	}
	return nil
}

// ParseError is a malformed interface file: the file, the line (0 when
// the problem is not tied to one) and what is wrong.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var lineInError = regexp.MustCompile(`^toml: line (\d+) (.*)$`)

// Parse reads one interface file. Unknown keys are errors, so a typo does
// not silently drop a library.
func Parse(file string, b []byte) (*Family, error) {
	f := &Family{File: file}
	md, err := toml.Decode(string(b), f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ParseError{File: file, Line: pe.Position.Line, Msg: pe.Message}
		}
		// Type errors come as text: "toml: line 1 (last key …): …".
		if m := lineInError.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ParseError{File: file, Line: line, Msg: m[2]}
		}
		return nil, &ParseError{File: file, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, &ParseError{File: file, Msg: "unknown keys: " + strings.Join(keys, ", ")}
	}
	bad := func(format string, args ...any) error {
		return &ParseError{File: file, Msg: fmt.Sprintf(format, args...)}
	}
	if f.Name == "" {
		return nil, bad("no name")
	}
	if f.Interface == "" {
		return nil, bad("family %s: no interface", f.Name)
	}
	anchors := 0
	for i, l := range f.Libraries {
		if l.Soname == "" || strings.ContainsAny(l.Soname, "/ \t") {
			return nil, bad("family %s: library %d: soname %q is not a file name", f.Name, i+1, l.Soname)
		}
		if l.Anchor {
			anchors++
		}
		if l.Capability != "" && !slices.Contains(Capabilities, l.Capability) {
			return nil, bad("family %s: library %s: capability %q is none of %s", f.Name, l.Soname, l.Capability, strings.Join(Capabilities, ", "))
		}
	}
	if anchors == 0 && f.Interface != "floor" {
		return nil, bad("family %s: no anchor library (anchor = true on the one that identifies it)", f.Name)
	}
	for i, p := range f.Plugins {
		if p.Dir == "" || path.IsAbs(p.Dir) || strings.Contains(p.Dir, "..") {
			return nil, bad("family %s: plugins %d: dir %q must be a relative path below the library's directory", f.Name, i+1, p.Dir)
		}
		if _, err := path.Match(p.Glob, ""); err != nil || p.Glob == "" {
			return nil, bad("family %s: plugins %d: bad glob %q", f.Name, i+1, p.Glob)
		}
	}
	for i, r := range f.DriverRules {
		if r.Runtime == "" || r.Driver == "" || len(r.Versions) == 0 {
			return nil, bad("family %s: driver_rule %d: want runtime, driver and versions", f.Name, i+1)
		}
		for j, v := range r.Versions {
			if v.Runtime == "" || v.Minimum == "" {
				return nil, bad("family %s: driver_rule %d: version %d: want runtime and minimum", f.Name, i+1, j+1)
			}
		}
	}
	for i, d := range f.Devices {
		if (d.Path == "") == (d.Glob == "") {
			return nil, bad("family %s: devices %d: want one of path or glob", f.Name, i+1)
		}
	}
	return f, nil
}

// Interface returns the families of an interface ("mpi", …), or one
// family by its name.
func (s *Set) Interface(name string) []*Family {
	var out []*Family
	for _, f := range s.Families {
		if f.Interface == name || f.Name == name {
			out = append(out, f)
		}
	}
	return out
}

// Names lists the interfaces and family names one can ask for.
func (s *Set) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range s.Families {
		for _, n := range []string{f.Interface, f.Name} {
			if n != "floor" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Floor returns the sonames never bound from the host by default, and the
// symbol version prefixes they provide.
func (s *Set) Floor() (sonames map[string]bool, versions []string) {
	sonames = map[string]bool{}
	for _, f := range s.Families {
		if f.Interface != "floor" {
			continue
		}
		for _, l := range f.Libraries {
			sonames[l.Soname] = true
		}
		versions = append(versions, f.Versions...)
	}
	return sonames, versions
}

// Library returns the family and library entry for a soname, nil if no
// family claims it.
func (s *Set) Library(soname string) (*Family, *Library) {
	for _, f := range s.Families {
		for i := range f.Libraries {
			if f.Libraries[i].Soname == soname {
				return f, &f.Libraries[i]
			}
		}
	}
	return nil, nil
}
