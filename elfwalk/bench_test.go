package elfwalk_test

import (
	"os"
	"testing"

	"github.com/hitch-hpc/hitch/elfwalk"
)

// BenchmarkWalkUsrLib reads the facts of every ELF object under this
// machine's /usr/lib/x86_64-linux-gnu, as hitch inspect does.
func BenchmarkWalkUsrLib(b *testing.B) {
	const dir = "/usr/lib/x86_64-linux-gnu"
	if _, err := os.Stat(dir); err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	var stats elfwalk.Stats
	for b.Loop() {
		var err error
		stats, err = elfwalk.WalkPath(b.Context(), dir, func(elfwalk.Object) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(stats.Bytes)
	b.ReportMetric(float64(stats.ELF), "objects/op")
}
