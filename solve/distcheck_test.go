package solve_test

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/solve"
)

// TestInstallability: every package of Debian bookworm and trixie main
// (amd64), checked for installability as dose-distcheck -f -e checks it:
// the same broken packages, none more, none fewer.
func TestInstallability(t *testing.T) {
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) { installability(t, suite) })
	}
}

func installability(t *testing.T, suite string) {
	index := fixture.DebIndex(t, suite)
	u := debrepo.New("amd64")
	r, err := debrepo.Open(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.ReadPackages(r, index); err != nil {
		t.Fatal(err)
	}
	r.Close()
	doc, err := u.CUDF(debrepo.Request{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	broken, err := solve.Installability(context.Background(), doc.Packages, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, b := range broken {
		ours = append(ours, b.Package.Name)
	}
	sort.Strings(ours)
	t.Logf("%d packages, %d broken, in %v: %v", len(doc.Packages), len(ours), time.Since(start), ours)
	if _, err := exec.LookPath("dose-distcheck"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dose-distcheck not installed (.ci/run installs it)")
		}
		return
	}
	plain := t.TempDir() + "/Packages"
	xz, err := exec.Command("xz", "-dc", index).Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(plain, xz, 0o644)
	out, _ := exec.Command("dose-distcheck", "-f", "-e", "--deb-native-arch=amd64", "deb://"+plain).Output()
	var dose []string
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		if l == " -" && i+1 < len(lines) {
			if n, ok := strings.CutPrefix(lines[i+1], "  package: "); ok {
				dose = append(dose, n)
			}
		}
	}
	sort.Strings(dose)
	if strings.Join(ours, " ") != strings.Join(dose, " ") {
		t.Errorf("broken packages differ:\nhitch %v\ndose  %v", ours, dose)
	}
	if len(dose) == 0 {
		t.Error("dose-distcheck reported nothing: the comparison says nothing")
	}
}
