package loader

import (
	"bufio"
	"os"
	"strings"
)

// levelFlags are the /proc/cpuinfo flags each x86-64 level adds to the
// one below (the x86-64 psABI; glibc sysdeps/x86/get-isa-level.h).
var levelFlags = []struct {
	level string
	flags []string
}{
	{"x86-64-v2", []string{"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"}},
	{"x86-64-v3", []string{"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}},
	{"x86-64-v4", []string{"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}},
}

// HostLevel returns the x86-64 level of the machine hitch runs on, from
// /proc/cpuinfo: "baseline" to "x86-64-v4". It reads the host, not a
// View: the CPU is the one thing a container does not bring.
func HostLevel() (string, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	have := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, fl := range strings.Fields(v) {
				have[fl] = true
			}
			break
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	level := "baseline"
	for _, l := range levelFlags {
		for _, fl := range l.flags {
			if !have[fl] {
				return level, nil
			}
		}
		level = l.level
	}
	return level, nil
}
