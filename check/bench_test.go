package check_test

import (
	"context"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/rootfs"
)

// BenchmarkCheckDebian judges every ELF object of the bookworm root, as
// "hitch check ROOT" does, with a new View each time (the View's caches
// cold, the page cache warm).
func BenchmarkCheckDebian(b *testing.B) {
	root := fixture.Rootfs(b, "bookworm")
	for b.Loop() {
		v, err := rootfs.Dir(root)
		if err != nil {
			b.Fatal(err)
		}
		sum, err := check.Run(context.Background(), v, nil, check.Options{}, func(check.Verdict) error { return nil })
		if err != nil || sum.Objects < 1000 {
			b.Fatalf("%+v, %v", sum, err)
		}
		v.Close()
	}
}
