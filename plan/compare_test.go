package plan

import (
	"testing"

	"github.com/hitch-hpc/hitch/iface"
)

// Sarus's rules, on the versions in file names.
func TestCompareVersions(t *testing.T) {
	fam := &iface.Family{Name: "mpich-abi", Libraries: []iface.Library{{Soname: "libmpi.so.12", Anchor: true}}}
	tests := []struct {
		host, image, mode, want string
	}{
		{"libmpi.so.12.1.5", "libmpi.so.12.0.1", "major", "ok"},
		{"libmpi.so.12.1.5", "libmpi.so.12.0.1", "full", "ok"},
		{"libmpi.so.12.0.1", "libmpi.so.12.1.5", "full", "warning"},
		{"libmpi.so.12.1.5", "libmpi.so.12.0.1", "strict", "fails"},
		{"libmpi.so.12.1.5", "libmpi.so.12.1.0", "strict", "ok"},
		{"libmpi.so.40.30.4", "libmpi.so.12.1.0", "major", "fails"},
		{"libmpi.so.12", "libmpi.so.12.1.0", "full", "warning"},
		{"libmpi.so", "libmpi.so.12.1.0", "major", "warning"},
	}
	for _, tt := range tests {
		p := &Plan{Binds: []Bind{{Soname: "libmpi.so.12", HostFile: "/usr/lib/" + tt.host, Shadows: "/usr/lib/" + tt.image}}}
		if err := p.compareVersions(fam, tt.mode); err != nil {
			t.Fatal(err)
		}
		if len(p.Rules) != 1 || p.Rules[0].Status != tt.want {
			t.Errorf("%s host %s image %s: %+v, want %s", tt.mode, tt.host, tt.image, p.Rules, tt.want)
		}
	}
	if err := (&Plan{}).compareVersions(fam, "loose"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}
