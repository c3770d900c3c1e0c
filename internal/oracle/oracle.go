// Package oracle runs the real dynamic loader the way the tests use it as
// the judge of hitch's predictions: chrooted into a root filesystem,
// optionally in a private mount namespace with host paths bound in, in
// ldd's trace mode (LD_TRACE_LOADED_OBJECTS=1), and with LD_WARN and
// LD_BIND_NOW for "ldd -r", which processes every relocation. It returns
// the listing and the loader's messages in the forms hitch prints them.
// It needs root and is for tests only.
package oracle

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/hitch-hpc/hitch/verify"
)

// Bind is a host path mounted at a path inside the root.
type Bind struct{ Src, Dst string }

// Run says how to run the loader.
type Run struct {
	Root   string
	Interp string // default /lib64/ld-linux-x86-64.so.2
	File   string // the program or library, inside Root
	Env    []string
	Binds  []Bind
	// Bind asks for "ldd -r": relocate everything now and report.
	Bind bool
	// Musl runs a musl loader, whose trace mode is "--list" and which
	// always relocates.
	Musl bool
	// ChrootExec is the static helper that enters Root with exactly the
	// loader's environment (fixture.ChrootExec); needed with Binds.
	ChrootExec string
}

// Result is what the loader printed.
type Result struct {
	// List is the load list without addresses and without the vDSO.
	List []string
	// Messages are the version and symbol messages, rewritten to link's
	// form ("OBJECT: undefined symbol: NAME[, version V]"; version
	// messages without the program prefix), sorted, without duplicates.
	Messages []string
	// Stderr is everything the loader printed there.
	Stderr string
	// Crashed is set when the loader died of a signal. glibc's does, in
	// ldd -r's mode, when libc.so.6 itself is not found; it then says
	// nothing about binding.
	Crashed bool
}

var address = regexp.MustCompile(` \(0x[0-9a-f]+\)$`)

// Do runs the loader. The exit code is ignored: ldd's mode exits 0 with a
// missing version and 1 with a missing library; the text is what counts.
func (r Run) Do() (Result, error) {
	interp := r.Interp
	if interp == "" {
		interp = "/lib64/ld-linux-x86-64.so.2"
	}
	env := []string{"LD_TRACE_LOADED_OBJECTS=1"}
	if r.Bind {
		env = append(env, "LD_WARN=yes", "LD_BIND_NOW=yes")
	}
	args := []string{interp, r.File}
	if r.Musl {
		env, args = nil, []string{interp, "--list", r.File}
	}
	env = append(env, r.Env...)
	var cmd *exec.Cmd
	if len(r.Binds) == 0 {
		cmd = &exec.Cmd{Path: interp, Args: args, Dir: "/", Env: env}
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.Root}
	} else {
		// A private mount namespace: the binds vanish with the process
		// and never touch the root on disk. The root is an overlay with a
		// scratch upper layer, so mount points the root lacks can be
		// made (as a container runtime makes them).
		if r.ChrootExec == "" {
			return Result{}, fmt.Errorf("oracle: binds need the ChrootExec helper")
		}
		scratch, err := os.MkdirTemp("", "hitch-oracle-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(scratch)
		merged := filepath.Join(scratch, "m")
		var script strings.Builder
		fmt.Fprintf(&script, "mkdir -p %s %s %s\n", quote(merged), quote(filepath.Join(scratch, "u")), quote(filepath.Join(scratch, "w")))
		fmt.Fprintf(&script, "mount -t overlay overlay -o %s %s\n",
			quote("lowerdir="+r.Root+",upperdir="+filepath.Join(scratch, "u")+",workdir="+filepath.Join(scratch, "w")), quote(merged))
		for _, b := range r.Binds {
			dst := quote(merged + b.Dst)
			fmt.Fprintf(&script, "if [ -d %s ]; then mkdir -p %s; else mkdir -p \"$(dirname %s)\"; [ -e %s ] || [ -L %s ] || : > %s; fi\n",
				quote(b.Src), dst, dst, dst, dst, dst)
			fmt.Fprintf(&script, "mount --bind %s %s\n", quote(b.Src), dst)
		}
		fmt.Fprintf(&script, "exec %s %s", quote(r.ChrootExec), quote(merged))
		for _, a := range env {
			script.WriteString(" " + quote(a))
		}
		script.WriteString(" --")
		for _, a := range args {
			script.WriteString(" " + quote(a))
		}
		args := []string{"--mount", "--propagation", "private", "sh", "-ec", script.String()}
		cmd = exec.Command("unshare", args...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Crashed = true
		}
	}
	if err != nil && out.Len() == 0 && errb.Len() == 0 && !res.Crashed {
		return Result{}, fmt.Errorf("running %s on %s in %s: %w", interp, r.File, r.Root, err)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if l == "" || strings.HasPrefix(l, "\tlinux-vdso.so.") {
			continue
		}
		res.List = append(res.List, address.ReplaceAllString(l, ""))
	}
	res.Messages = verify.Messages(res.Stderr, r.File)
	return res, nil
}

// quote makes s one shell word.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// DynamicObjects lists the regular files under root that the x86-64
// loader can list (dynamic, ELF64, x86-64), as absolute paths inside
// root, sorted. /proc, /sys and /dev are skipped.
func DynamicObjects(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root)
		if d.IsDir() && (rel == "/proc" || rel == "/sys" || rel == "/dev") {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if ok, _ := elffacts.HasMagic(f); !ok {
			return nil
		}
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		facts, err := elffacts.Read(f, fi.Size(), elffacts.WithoutHash())
		if err != nil || !facts.Dynamic || facts.Class != "ELF64" || facts.Machine != "x86_64" {
			return nil
		}
		files = append(files, rel)
		return nil
	})
	sort.Strings(files)
	return files, err
}

// HostHWCaps asks the machine's own loader which glibc-hwcaps
// subdirectories this CPU uses, most preferred first ("ld.so --help",
// glibc 2.33 and later).
func HostHWCaps() ([]string, error) {
	out, err := exec.Command("/lib64/ld-linux-x86-64.so.2", "--help").Output()
	if err != nil {
		return nil, fmt.Errorf("ld.so --help: %w", err)
	}
	var levels []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && strings.HasPrefix(f[0], "x86-64-v") && strings.Contains(l, "(supported") {
			levels = append(levels, f[0])
		}
	}
	return levels, nil
}

// DefinedSymbols is binutils' nm list of a shared library's defined
// dynamic symbols, as name@version (name when unversioned; nm's "@@" of
// a default version written "@"), the absolute symbols naming version
// nodes left out.
func DefinedSymbols(file string) (map[string]bool, error) {
	out, err := exec.Command("nm", "-D", "--defined-only", file).Output()
	if err != nil {
		return nil, fmt.Errorf("nm %s: %w", file, err)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] == "A" {
			continue
		}
		set[strings.Replace(f[2], "@@", "@", 1)] = true
	}
	return set, nil
}
