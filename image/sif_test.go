package image_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sylabs/sif/v2/pkg/sif"

	"github.com/hitch-hpc/hitch/image"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

func makeSIF(t *testing.T, dir, out string, mksquashfsArgs ...string) {
	t.Helper()
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("mksquashfs (squashfs-tools) not installed")
	}
	if err := fixture.MakeSIF(dir, out, mksquashfsArgs...); err != nil {
		t.Fatal(err)
	}
}

func TestSIF(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	for name, body := range map[string]string{
		"usr/lib/x86_64-linux-gnu/libfoo.so.1": "foo",
		".singularity.d/env/90-environment.sh": "#!/bin/sh\nexport LD_LIBRARY_PATH=\"/opt/lib\"\nPATH=/usr/bin:/bin\nexport X=$HOME\n",
		".singularity.d/runscript":             "#!/bin/sh\nexec /app\n",
		".singularity.d/labels.json":           `{"org.label-schema.name": "test"}`,
	} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("usr/lib", filepath.Join(src, "lib"))
	os.Symlink("/usr/lib/x86_64-linux-gnu/libfoo.so.1", filepath.Join(src, "usr/lib/x86_64-linux-gnu/libfoo.so"))

	file := filepath.Join(base, "test.sif")
	makeSIF(t, src, file, "-comp", "zstd")
	cache := filepath.Join(base, "cache")
	for i := range 2 {
		im := openImage(t, file, cache)
		if im.Kind != image.KindSIF || im.Cached != (i == 1) {
			t.Errorf("kind %s cached %v", im.Kind, im.Cached)
		}
		want := []string{
			".singularity.d/",
			".singularity.d/env/",
			".singularity.d/env/90-environment.sh = #!/bin/sh\nexport LD_LIBRARY_PATH=\"/opt/lib\"\nPATH=/usr/bin:/bin\nexport X=$HOME\n",
			".singularity.d/labels.json = {\"org.label-schema.name\": \"test\"}",
			".singularity.d/runscript = #!/bin/sh\nexec /app\n",
			"lib -> usr/lib",
			"usr/", "usr/lib/", "usr/lib/x86_64-linux-gnu/",
			"usr/lib/x86_64-linux-gnu/libfoo.so -> /usr/lib/x86_64-linux-gnu/libfoo.so.1",
			"usr/lib/x86_64-linux-gnu/libfoo.so.1 = foo",
		}
		if diff := cmp.Diff(want, listing(t, im.View)); diff != "" {
			t.Errorf("tree (-want +got):\n%s", diff)
		}
		wantCfg := image.Config{
			Env:        []string{"LD_LIBRARY_PATH=/opt/lib", "PATH=/usr/bin:/bin"},
			Entrypoint: []string{"/.singularity.d/runscript"},
			Labels:     map[string]string{"org.label-schema.name": "test"},
			Platform:   "linux/amd64",
		}
		if diff := cmp.Diff(wantCfg, im.Config); diff != "" {
			t.Errorf("config (-want +got):\n%s", diff)
		}
	}
}

func TestSIFErrors(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644)

	// lzo: a compression the squashfs reader cannot read, said so.
	lzo := filepath.Join(base, "lzo.sif")
	makeSIF(t, src, lzo, "-comp", "lzo")
	_, err := image.Open(t.Context(), lzo, image.WithCacheDir(filepath.Join(base, "cache")))
	if err == nil || !strings.Contains(err.Error(), "compressed with lzo") || !strings.Contains(err.Error(), lzo) {
		t.Errorf("lzo SIF: %v", err)
	}

	// A SIF with no system partition.
	none := filepath.Join(base, "none.sif")
	f, _ := os.Open(filepath.Join(src, "f"))
	di, err := sif.NewDescriptorInput(sif.DataGeneric, f)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := sif.CreateContainerAtPath(none, sif.OptCreateWithDescriptors(di))
	if err != nil {
		t.Fatal(err)
	}
	fi.UnloadContainer()
	f.Close()
	_, err = image.Open(t.Context(), none, image.WithCacheDir(filepath.Join(base, "cache")))
	if err == nil || !strings.Contains(err.Error(), "root file system partition") {
		t.Errorf("SIF without a partition: %v", err)
	}

	// Not a SIF at all.
	bad := filepath.Join(base, "bad.sif")
	os.WriteFile(bad, []byte("#!/bin/sh\n"), 0o644)
	_, err = image.Open(t.Context(), bad, image.WithCacheDir(filepath.Join(base, "cache")))
	if err == nil || !strings.Contains(err.Error(), "SIF") {
		t.Errorf("not a SIF: %v", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Errorf("wrong error class: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(base, "cache", "rootfs")); len(entries) != 0 {
		t.Errorf("failed opens left %d cache entries", len(entries))
	}
}
