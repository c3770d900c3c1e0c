package elffacts_test

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// TestAgainstReadelf compares the facts of every ELF file in the fixtures
// and under this machine's /usr/lib/x86_64-linux-gnu with what binutils'
// readelf reports for the same file: needed, soname, rpath, runpath,
// DT_FLAGS_1, version definitions and needs, dynamic symbols with their
// versions, build-id and x86 ISA level.
func TestAgainstReadelf(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Skip("readelf (binutils) not installed")
	}
	dirs := []string{fixture.ELF(t)}
	if !testing.Short() {
		dirs = append(dirs, "/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/lib/gcc")
	}
	var files []string
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			t.Logf("skipping %s: %v", dir, err)
			continue
		}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && isELF(path) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) == 0 {
		t.Fatal("no ELF files found")
	}

	type result struct {
		path string
		diff string
		err  error
	}
	jobs := make(chan string)
	results := make(chan result)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for path := range jobs {
				want, err := readelfView(t.Context(), path)
				if err != nil {
					results <- result{path: path, err: err}
					continue
				}
				got, err := factsView(path)
				if err != nil {
					results <- result{path: path, err: err}
					continue
				}
				results <- result{path: path, diff: cmp.Diff(want, got)}
			}
		})
	}
	go func() {
		for _, f := range files {
			jobs <- f
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	failed := 0
	for r := range results {
		switch {
		case r.err != nil:
			failed++
			t.Errorf("%s: %v", r.path, r.err)
		case r.diff != "":
			failed++
			t.Errorf("%s: hitch and readelf disagree (-readelf +hitch):\n%s", r.path, r.diff)
		}
	}
	t.Logf("compared %d ELF files with readelf, %d disagree", len(files), failed)
}

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	ok, _ := elffacts.HasMagic(f)
	return ok
}

// view is what both sides can report, as sorted strings per aspect.
type view struct {
	Needed         []string // in order
	Soname         string
	RPath, RunPath string
	Flags1         []string
	VersionDefs    []string
	VersionNeeds   []string
	Symbols        []string
	BuildID        string
	ISA            []string
	CopyRelocs     []string // names of the targets of COPY relocations, sorted
}

func factsView(path string) (view, error) {
	f, err := os.Open(path)
	if err != nil {
		return view{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return view{}, err
	}
	facts, err := elffacts.Read(f, st.Size())
	if err != nil {
		return view{}, err
	}
	if err := elffacts.Validate(facts); err != nil {
		return view{}, fmt.Errorf("invalid facts: %w", err)
	}
	v := view{
		Needed:  facts.Needed,
		Soname:  facts.Soname,
		RPath:   strings.Join(facts.RPath, ":"),
		RunPath: strings.Join(facts.RunPath, ":"),
		Flags1:  facts.Flags1,
		BuildID: facts.BuildID,
		ISA:     facts.X86ISANeeded,
	}
	for _, d := range facts.VersionDefs {
		v.VersionDefs = append(v.VersionDefs, fmt.Sprintf("%d %s base=%t weak=%t parents=%v", d.Index, d.Name, d.Base, d.Weak, d.Parents))
	}
	for _, n := range facts.VersionNeeds {
		for _, ver := range n.Versions {
			v.VersionNeeds = append(v.VersionNeeds, fmt.Sprintf("%s %d %s weak=%t", n.File, ver.Index, ver.Name, ver.Weak))
		}
	}
	for _, s := range facts.Defined {
		name := s.Name
		switch {
		case s.Name == s.Version && s.Type == "object" && s.Size == 0:
			// readelf prints the absolute symbol that names a version
			// node without its version.
		case s.Default():
			name += "@@" + s.Version
		case s.Version != "":
			name += "@" + s.Version
		}
		v.Symbols = append(v.Symbols, fmt.Sprintf("def %s %s %s %d", strings.ToUpper(s.Binding), strings.ToUpper(s.Type), name, s.Size))
		if s.Copy {
			v.CopyRelocs = append(v.CopyRelocs, s.Name)
		}
	}
	slices.Sort(v.CopyRelocs)
	for _, s := range facts.Required {
		name := s.Name
		if s.Version != "" {
			name += "@" + s.Version
		}
		bind := "GLOBAL"
		if s.Weak {
			bind = "WEAK"
		}
		v.Symbols = append(v.Symbols, fmt.Sprintf("und %s %s %s", bind, strings.ToUpper(s.Type), name))
	}
	slices.Sort(v.Symbols)
	return v, nil
}

var (
	dynRe     = regexp.MustCompile(`^\s*0x[0-9a-f]+ \((\w+)\)\s+(.*)$`)
	bracketRe = regexp.MustCompile(`\[(.*)\]$`)
	symRe     = regexp.MustCompile(`^\s*\d+: [0-9a-f]+\s+(\d+|0x[0-9a-f]+) (\w+)\s+(\w+|<OS specific>: \d+)\s+\w+\s+(\w+)\s+(.*)$`)
	verdefRe  = regexp.MustCompile(`Flags: (.*?)\s+Index: (\d+)\s+Cnt: \d+\s+Name: (.*)$`)
	parentRe  = regexp.MustCompile(`Parent \d+: (.*)$`)
	fileRe    = regexp.MustCompile(`Version: \d+\s+File: (.*?)\s+Cnt: \d+$`)
	verneedRe = regexp.MustCompile(`^\s*0x[0-9a-f]+:\s+Name: (.*?)\s+Flags: (.*?)\s+Version: (\d+)$`)
	verSuffix = regexp.MustCompile(` \(\d+\)$`)
)

func readelfView(ctx context.Context, path string) (view, error) {
	cmd := exec.CommandContext(ctx, "readelf", "-W", "-d", "--dyn-syms", "-V", "-n", "-r", path)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		return view{}, fmt.Errorf("readelf: %w", err)
	}
	var v view
	section := ""
	var defs []string
	var curDef string
	var parents []string
	flushDef := func() {
		if curDef != "" {
			defs = append(defs, fmt.Sprintf("%s parents=%v", curDef, parents))
		}
		curDef, parents = "", nil
	}
	var needFile string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Dynamic section"):
			section = "dyn"
			continue
		case strings.HasPrefix(line, "Symbol table '.dynsym'"):
			section = "sym"
			continue
		case strings.HasPrefix(line, "Version definition section"):
			section = "verdef"
			continue
		case strings.HasPrefix(line, "Version needs section"):
			flushDef()
			section = "verneed"
			continue
		case strings.HasPrefix(line, "Relocation section"):
			flushDef()
			section = "reloc"
			continue
		case strings.HasPrefix(line, "Version symbols section"), strings.HasPrefix(line, "Displaying notes"):
			flushDef()
			section = "notes"
			continue
		case section == "reloc" && strings.Contains(line, "_COPY "):
			// 0000000000004040  0000000300000005 R_X86_64_COPY  0000000000004040 ver_table@VER_2 + 0
			if f := strings.Fields(line); len(f) >= 5 && strings.HasSuffix(f[2], "_COPY") {
				name, _, _ := strings.Cut(f[4], "@")
				v.CopyRelocs = append(v.CopyRelocs, name)
			}
			continue
		case section == "reloc":
			continue
		}
		switch section {
		case "dyn":
			m := dynRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			val := ""
			if b := bracketRe.FindStringSubmatch(m[2]); b != nil {
				val = b[1]
			}
			switch m[1] {
			case "NEEDED":
				v.Needed = append(v.Needed, val)
			case "SONAME":
				v.Soname = val
			case "RPATH":
				v.RPath = val
			case "RUNPATH":
				v.RunPath = val
			case "FLAGS_1":
				v.Flags1 = strings.Fields(strings.TrimPrefix(m[2], "Flags:"))
			}
		case "sym":
			m := symRe.FindStringSubmatch(line)
			if m == nil || m[3] == "LOCAL" {
				continue
			}
			size, typ, bind, ndx, name := m[1], m[2], m[3], m[4], verSuffix.ReplaceAllString(m[5], "")
			if bind == "<OS specific>: 10" {
				// STB_GNU_UNIQUE, named by readelf only when EI_OSABI
				// is GNU; glibc honours it either way.
				bind = "UNIQUE"
			}
			if ndx == "UND" {
				v.Symbols = append(v.Symbols, fmt.Sprintf("und %s %s %s", bind, typ, name))
			} else {
				var n uint64
				fmt.Sscan(size, &n)
				v.Symbols = append(v.Symbols, fmt.Sprintf("def %s %s %s %d", bind, typ, name, n))
			}
		case "verdef":
			if m := verdefRe.FindStringSubmatch(line); m != nil {
				flushDef()
				flags := m[1]
				curDef = fmt.Sprintf("%s %s base=%t weak=%t", m[2], m[3], strings.Contains(flags, "BASE"), strings.Contains(flags, "WEAK"))
			} else if m := parentRe.FindStringSubmatch(line); m != nil {
				parents = append(parents, m[1])
			}
		case "verneed":
			if m := fileRe.FindStringSubmatch(line); m != nil {
				needFile = m[1]
			} else if m := verneedRe.FindStringSubmatch(line); m != nil {
				v.VersionNeeds = append(v.VersionNeeds, fmt.Sprintf("%s %s %s weak=%t", needFile, m[3], m[1], strings.Contains(m[2], "WEAK")))
			}
		case "notes":
			if _, s, ok := strings.Cut(line, "Build ID: "); ok {
				v.BuildID = strings.TrimSpace(s)
			}
			if _, s, ok := strings.Cut(line, "x86 ISA needed: "); ok {
				v.ISA = strings.Split(strings.TrimSpace(s), ", ")
			}
		}
	}
	flushDef()
	v.VersionDefs = defs
	slices.Sort(v.Symbols)
	slices.Sort(v.CopyRelocs)
	return v, sc.Err()
}
