package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	cdispec "tags.cncf.io/container-device-interface/specs-go"
)

// Formats are the renderers Write knows.
var Formats = []string{"apptainer", "podman", "docker", "cdi", "json"}

// CDIVendor is the vendor part of the CDI kind hitch writes:
// hitch.hpc/<interface>, device <family>.
const CDIVendor = "hitch.hpc"

// Write renders the plan for a container runtime: apptainer --bind and
// --env flags, podman or docker -v and -e flags (one per line, ready to
// paste after the run command), a CDI spec, or the plan as JSON.
func (p *Plan) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(p)
	case "cdi":
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(p.CDI())
	case "apptainer", "singularity":
		return p.writeFlags(w, "--bind", "--env")
	case "podman", "docker":
		return p.writeFlags(w, "-v", "-e")
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// writeFlags writes one flag per bind (SRC:DST:ro) and per variable, a
// line each, joined with shell line continuations.
func (p *Plan) writeFlags(w io.Writer, bind, env string) error {
	var lines []string
	for _, b := range p.Binds {
		lines = append(lines, bind+" "+shellQuote(b.Src+":"+b.Dst+":ro"))
	}
	for _, kv := range p.Env {
		lines = append(lines, env+" "+shellQuote(kv))
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, " \\\n"))
	return err
}

// CDI returns the plan as a Container Device Interface spec: one device,
// named after the family, whose edits are the plan's binds (read-only)
// and environment. A CDI-enabled runtime applies it with
// --device hitch.hpc/<interface>=<family>.
func (p *Plan) CDI() *cdispec.Spec {
	class := p.Interface
	if class == "" {
		class = "interface"
	}
	dev := cdispec.Device{Name: p.Family, ContainerEdits: cdispec.ContainerEdits{Env: p.Env}}
	for _, b := range p.Binds {
		dev.ContainerEdits.Mounts = append(dev.ContainerEdits.Mounts, &cdispec.Mount{
			HostPath: b.Src, ContainerPath: b.Dst, Options: []string{"ro", "nosuid", "nodev", "bind"},
		})
	}
	return &cdispec.Spec{Version: "0.5.0", Kind: CDIVendor + "/" + class, Devices: []cdispec.Device{dev}}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
