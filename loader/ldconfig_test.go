package loader

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/ldcache"
	"github.com/hitch-hpc/hitch/rootfs"
)

// TestLdconfigLikeDebian rebuilds the cache of each Debian root as
// ldconfig would and compares it with the one ldconfig wrote when the
// root was built.
func TestLdconfigLikeDebian(t *testing.T) {
	for _, suite := range fixture.Suites {
		t.Run(suite, func(t *testing.T) {
			root := fixture.Rootfs(t, suite)
			b, err := os.ReadFile(filepath.Join(root, "etc/ld.so.cache"))
			if err != nil {
				t.Fatal(err)
			}
			real, err := ldcache.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			v, err := rootfs.Dir(root)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			l := New(v, WithoutSymbols(), WithLdconfig())
			s := l.system("/lib64/ld-linux-x86-64.so.2", "ELF64", "x86_64")
			if len(s.warnings) > 0 {
				t.Errorf("warnings: %q", s.warnings)
			}
			key := func(c *ldcache.Cache) []string {
				var out []string
				for _, e := range c.Entries {
					out = append(out, e.Name+" => "+e.Path)
				}
				return out
			}
			want, got := key(real), key(s.cache)
			if diff := cmp.Diff(want, got); diff != "" {
				sort.Strings(want)
				sort.Strings(got)
				t.Errorf("rebuilt cache (-ldconfig +hitch):\n%s\nas sets:\n%s", diff, cmp.Diff(want, got))
			}
		})
	}
}
