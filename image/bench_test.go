package image_test

import (
	"testing"

	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// BenchmarkOpenCached opens the bookworm test images from a warm cache:
// the cost of every open after the first.
func BenchmarkOpenCached(b *testing.B) {
	imgs := fixture.DebianImages(b, "bookworm")
	cache := b.TempDir()
	for _, ref := range []string{"oci:" + imgs.OCI, "docker-archive:" + imgs.Archive, "sif:" + imgs.SIF} {
		kind, _ := image.Parse(ref)
		b.Run(kind, func(b *testing.B) {
			im, err := image.Open(b.Context(), ref, image.WithCacheDir(cache))
			if err != nil {
				b.Fatal(err)
			}
			im.Close()
			for b.Loop() {
				im, err := image.Open(b.Context(), ref, image.WithCacheDir(cache))
				if err != nil || !im.Cached {
					b.Fatalf("cached %v, %v", im != nil && im.Cached, err)
				}
				im.Close()
			}
		})
	}
}
