package debrepo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hitch-hpc/hitch/debrepo"
	"github.com/hitch-hpc/hitch/solve"
)

// FuzzPackages: any bytes as a Packages index and a status file, then as
// an EDSP scenario: an error or a universe, never a panic or a hang; a
// universe converts to CUDF (or says why not) and a small one solves.
func FuzzPackages(f *testing.F) {
	for _, s := range []string{
		"Package: a\nVersion: 1.0-1\nArchitecture: amd64\nDepends: b (>= 2), c | d:any\nProvides: v (= 1)\n\nPackage: b\nVersion: 2\nArchitecture: all\nConflicts: a (<< 1)\nBreaks: e\n",
		"Package: a\nVersion: 1:2.3~rc1+dfsg-4\nArchitecture: amd64\nPre-Depends: libc6 (>= 2.36) [amd64], x <!nocheck>\nRecommends: r\nEssential: yes\n",
		"Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n",
		"Request: EDSP 0.5\nArchitecture: amd64\nInstall: a:amd64\n\nPackage: a\nVersion: 1\nArchitecture: amd64\nAPT-ID: 1\nDepends: b\n\nPackage: b\nVersion: 1\nArchitecture: amd64\nAPT-ID: 2\nInstalled: yes\nAPT-Candidate: yes\n",
		"Package: a\nVersion: \nDepends: (((\n",
		"Package: a\nVersion: 1\nArchitecture: amd64\nDepends: b (>= ), , c (<< 1\n",
		"Package: a\nVersion: 1\nArchitecture: amd64\nDescription: x\n continued\n .\n more\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u := debrepo.New("amd64")
		if err := u.ReadPackages(bytes.NewReader(b), "fuzz"); err == nil {
			u.ReadStatus(bytes.NewReader(b), "status")
			if doc, err := u.CUDF(debrepo.Request{Install: []string{"a"}, Slice: true}); err == nil && len(doc.Packages) < 50 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				solve.Solve(ctx, doc, solve.Options{Criteria: solve.Paranoid, Terms: u})
				cancel()
			}
		} else if !strings.Contains(err.Error(), "fuzz") {
			t.Errorf("an error that does not name the file: %v", err)
		}
		if sc, err := debrepo.ReadEDSP(bytes.NewReader(b), "scenario"); err == nil {
			if doc, err := sc.CUDF(); err == nil && len(doc.Packages) < 50 {
				var out bytes.Buffer
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if res, err := solve.Solve(ctx, doc, solve.Options{Criteria: solve.Paranoid, Terms: sc.Universe}); err == nil {
					sc.WriteAnswer(&out, doc, res.Installed)
				}
				cancel()
			}
		}
	})
}
