package elffacts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// FuzzRead feeds arbitrary bytes to Read: it must return facts or an
// error, never panic or hang, and the facts it returns must be valid.
// Seeds are the compiled fixtures (when gcc is present) and the corpus in
// testdata/fuzz/FuzzRead, which keeps inputs that once found a bug.
func FuzzRead(f *testing.F) {
	if dir := fixtureDir(f); dir != "" {
		for _, name := range []string{"lib/libver.so.1", "bin/app_copyreloc", "bin/hello_v3", "bin/hello_32", "lib/libnodeflib.so"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := elffacts.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if facts != nil {
				t.Fatalf("facts and error both returned")
			}
			return
		}
		if facts.Size != int64(len(data)) || len(facts.SHA256) != 64 {
			t.Fatalf("identity: size %d sha256 %q", facts.Size, facts.SHA256)
		}
	})
}

func fixtureDir(f *testing.F) (dir string) {
	defer func() {
		if recover() != nil {
			dir = ""
		}
	}()
	return fixture.ELF(f)
}
