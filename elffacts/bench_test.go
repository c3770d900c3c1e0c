package elffacts_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/hitch-hpc/hitch/elffacts"
)

const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"

// BenchmarkReadLibc reads the facts of this machine's libc.so.6 from
// memory (parsing and hashing, no I/O).
func BenchmarkReadLibc(b *testing.B) {
	data, err := os.ReadFile(libc)
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := elffacts.Read(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadLibcFile reads the same facts from the file (page cache).
func BenchmarkReadLibcFile(b *testing.B) {
	f, err := os.Open(libc)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := elffacts.Read(f, st.Size()); err != nil {
			b.Fatal(err)
		}
	}
}
