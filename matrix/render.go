package matrix

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// short names a status in the grid.
func short(status string) string {
	switch status {
	case OK:
		return "ok"
	case Warning:
		return "warn"
	case Fails:
		return "FAILS"
	}
	return "error"
}

// WriteText writes the grid, images down and hosts across, then the
// first reason of every cell that is not ok.
func (m *Matrix) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprint(tw, "IMAGE \\ HOST")
	for _, h := range m.Hosts {
		fmt.Fprintf(tw, "\t%s", h)
	}
	fmt.Fprintln(tw)
	for i, img := range m.Images {
		fmt.Fprint(tw, img)
		for j := range m.Hosts {
			fmt.Fprintf(tw, "\t%s", short(m.Cell(i, j).Status))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	first := true
	for _, c := range m.Cells {
		if c.Status == OK {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintf(w, "%s on %s: %s: %s\n", c.Image, c.Host, c.Status, c.Reason)
	}
	return nil
}

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// WriteHTML writes one self-contained page (no external assets): the
// grid, and a panel that shows a cell's parts and reasons when it is
// clicked.
func (m *Matrix) WriteHTML(w io.Writer, generated time.Time) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	type cell struct {
		Index                 int
		Status, Label, Reason string
	}
	type row struct {
		Image string
		Cells []cell
	}
	var rows []row
	for i, img := range m.Images {
		r := row{Image: img}
		for j := range m.Hosts {
			c := m.Cell(i, j)
			r.Cells = append(r.Cells, cell{Index: i*len(m.Hosts) + j, Status: c.Status, Label: short(c.Status), Reason: c.Reason})
		}
		rows = append(rows, r)
	}
	counts := map[string]int{}
	for _, c := range m.Cells {
		counts[c.Status]++
	}
	return page.Execute(w, map[string]any{
		"Hosts":     m.Hosts,
		"Rows":      rows,
		"Data":      template.JS(strings.ReplaceAll(string(data), "</", `<\/`)),
		"Generated": generated.UTC().Format("2006-01-02 15:04 UTC"),
		"Counts":    counts,
	})
}
