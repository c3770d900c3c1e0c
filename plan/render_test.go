package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"tags.cncf.io/container-device-interface/pkg/cdi"

	"github.com/google/go-cmp/cmp"
	"github.com/hitch-hpc/hitch/plan"
)

func TestWrite(t *testing.T) {
	p := &plan.Plan{
		Interface: "mpi", Family: "openmpi", Strategy: plan.Prepend,
		Binds: []plan.Bind{
			{Src: "/usr/lib64/libmpi.so.40.30.4", Dst: "/.hitch/host/lib/libmpi.so.40", Soname: "libmpi.so.40"},
			{Src: "/opt/it's here/libfoo.so.1", Dst: "/.hitch/host/lib/libfoo.so.1"},
		},
		Env: []string{"LD_LIBRARY_PATH=/.hitch/host/lib:/usr/local/lib"},
	}
	tests := map[string]string{
		"apptainer": "--bind /usr/lib64/libmpi.so.40.30.4:/.hitch/host/lib/libmpi.so.40:ro \\\n" +
			"--bind '/opt/it'\\''s here/libfoo.so.1:/.hitch/host/lib/libfoo.so.1:ro' \\\n" +
			"--env LD_LIBRARY_PATH=/.hitch/host/lib:/usr/local/lib\n",
		"podman": "-v /usr/lib64/libmpi.so.40.30.4:/.hitch/host/lib/libmpi.so.40:ro \\\n" +
			"-v '/opt/it'\\''s here/libfoo.so.1:/.hitch/host/lib/libfoo.so.1:ro' \\\n" +
			"-e LD_LIBRARY_PATH=/.hitch/host/lib:/usr/local/lib\n",
	}
	for format, want := range tests {
		var b bytes.Buffer
		if err := p.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", format, diff)
		}
	}
	var b bytes.Buffer
	if err := p.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var back plan.Plan
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*p, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	// The CDI spec passes the CDI library's own validation.
	b.Reset()
	if err := p.Write(&b, "cdi"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "hitch.json")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := cdi.ReadSpec(file, 0)
	if err != nil {
		t.Fatalf("CDI validation: %v\n%s", err, b.String())
	}
	if spec.GetVendor() != "hitch.hpc" || spec.GetClass() != "mpi" || spec.GetDevice("openmpi") == nil {
		t.Errorf("CDI spec %s/%s, devices %v", spec.GetVendor(), spec.GetClass(), spec.Devices)
	}
	if got := len(spec.Devices[0].ContainerEdits.Mounts); got != 2 {
		t.Errorf("%d mounts, want 2", got)
	}
	if err := p.Write(&b, "nosuch"); err == nil {
		t.Error("an unknown format was accepted")
	}
}
