package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the renderers Write knows.
var Formats = []string{"apptainer", "podman", "docker", "json"}

// Write renders the plan for a container runtime: apptainer --bind and
// --env flags, podman or docker -v and -e flags (one per line, ready to
// paste after the run command), or the plan as JSON.
func (p *Plan) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(p)
	case "apptainer", "singularity":
		var lines []string
		for _, b := range p.Binds {
			lines = append(lines, "--bind "+shellQuote(b.Src+":"+b.Dst+":ro"))
		}
		for _, kv := range p.Env {
			lines = append(lines, "--env "+shellQuote(kv))
		}
		_, err := fmt.Fprintln(w, strings.Join(lines, " \\\n"))
		return err
	case "podman", "docker":
		var lines []string
		for _, b := range p.Binds {
			lines = append(lines, "-v "+shellQuote(b.Src+":"+b.Dst+":ro"))
		}
		for _, kv := range p.Env {
			lines = append(lines, "-e "+shellQuote(kv))
		}
		_, err := fmt.Fprintln(w, strings.Join(lines, " \\\n"))
		return err
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
