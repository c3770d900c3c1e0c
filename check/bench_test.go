package check_test

import (
	"context"
	"testing"

	"github.com/hitch-hpc/hitch/check"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/rootfs"
)

// BenchmarkCheckDebian judges every ELF object of the bookworm root, as
// "hitch check ROOT" does.
func BenchmarkCheckDebian(b *testing.B) {
	root := fixture.Rootfs(b, "bookworm")
	v, err := rootfs.Dir(root)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	for b.Loop() {
		sum, err := check.Run(context.Background(), v, nil, check.Options{}, func(check.Verdict) error { return nil })
		if err != nil || sum.Objects < 1000 {
			b.Fatalf("%+v, %v", sum, err)
		}
	}
}
