package matrix_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/matrix"
)

// TestHTMLInChromium opens the matrix page in headless Chromium, clicks
// a failing cell and checks that its reasons show. With
// HITCH_UPDATE_SCREENSHOT=1 it also rewrites docs/matrix.png.
func TestHTMLInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (.ci/run installs it)")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	c, _ := catalog(t)
	hosts := []string{"host-bullseye", "host-bookworm", "host-trixie"}
	m, err := matrix.Run(context.Background(), c, suites, hosts, matrix.Options{Interfaces: []string{"mpi"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.WriteHTML(&buf, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// One self-contained file: nothing is fetched.
	for _, ext := range []string{"src=", "href=", "@import", "url("} {
		if strings.Contains(buf.String(), ext) {
			t.Errorf("the page refers outside itself: %q", ext)
		}
	}
	page := filepath.Join(t.TempDir(), "matrix.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := -1
	for i, cell := range m.Cells {
		if cell.Status == matrix.Fails {
			failing = i
			break
		}
	}
	if failing < 0 {
		t.Fatal("no failing cell to click")
	}
	want := m.Cells[failing]

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	sel := chromedp.CSS("#cell-" + strconv.Itoa(failing))
	details := chromedp.CSS("#details")
	err = chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(sel))
	if err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(bctx, chromedp.Text(details))
	if err != nil {
		t.Fatal(err)
	}
	// A real mouse click on the cell (Input.dispatchMouseEvent).
	if err := chromedp.Do(bctx, chromedp.Click(sel), chromedp.WaitVisible(chromedp.CSS("#details .part"))); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(bctx, chromedp.Text(details))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, "No cell selected") {
		t.Errorf("details before the click: %q", before)
	}
	heading := want.Image + " on " + want.Host + ": fails"
	// The reason is "path: message"; the page lists the path, then the
	// message under it.
	path, msg, _ := strings.Cut(want.Reason, ": ")
	for _, s := range []string{heading, path, msg} {
		if !strings.Contains(after, s) {
			t.Errorf("after clicking %s on %s, the details lack %q:\n%s", want.Image, want.Host, s, after)
		}
	}
	if os.Getenv("HITCH_UPDATE_SCREENSHOT") != "" {
		out := filepath.Join(fixture.RepoRoot(), "docs", "matrix.png")
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}
