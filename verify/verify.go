// Package verify runs the real dynamic loader on a container's files with
// host paths bound in, to confirm what hitch predicts. It does what a
// container runtime does, and no more: in a private mount namespace it
// mounts the image's root filesystem as an overlay (so missing mount
// points can be made without touching it), bind-mounts the host paths
// read-only, and for each file runs the image's own loader chrooted into
// that tree, in ldd's mode with every symbol bound now (LD_TRACE_LOADED_OBJECTS,
// LD_WARN, LD_BIND_NOW). Nothing is mounted outside the namespace, which
// ends with the process; the overlay's scratch directories are removed.
//
// The namespace is entered by running the current executable again: a
// program that uses this package calls Main first thing in its main
// function (and in TestMain), which does the work when it is that child
// and returns otherwise.
package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/hitch-hpc/hitch/link"
	"github.com/hitch-hpc/hitch/loader"
	"github.com/hitch-hpc/hitch/rootfs"
)

// Options say what to run.
type Options struct {
	// Binds are host paths (symlinks resolved) and container paths.
	Binds []rootfs.Bind
	// Env is the environment the files run with (the image's and the
	// plan's), LD_LIBRARY_PATH included.
	Env []string
	// Interp is the loader to run, default /lib64/ld-linux-x86-64.so.2.
	Interp string
	// Scratch is a directory for the overlay's work (default the system
	// temporary directory); a subdirectory is made and removed.
	Scratch string
}

// Observation is what the real loader said about one file.
type Observation struct {
	Path string `json:"path"`
	// List is the load list without addresses and the vDSO.
	List []string `json:"list"`
	// Messages are the version and symbol messages, in hitch's form
	// (as link prints them), sorted, without duplicates.
	Messages []string `json:"messages,omitempty"`
	// Stderr is all the loader printed there.
	Stderr string `json:"stderr,omitempty"`
	// Crashed is set when the loader died of a signal.
	Crashed bool `json:"crashed,omitempty"`
}

// childEnv marks the re-executed child and carries its request.
const childEnv = "HITCH_VERIFY_CHILD"

type request struct {
	Root    string        `json:"root"`
	Scratch string        `json:"scratch"`
	Binds   []rootfs.Bind `json:"binds"`
	Env     []string      `json:"env"`
	Interp  string        `json:"interp"`
	Files   []string      `json:"files"`
}

// ErrUnsupported is returned where verify cannot run: not Linux, or no
// permission to make a mount namespace.
var ErrUnsupported = errors.New("verify needs Linux and the right to create mount namespaces (root)")

// Run runs the real loader on each file of the image rooted at the host
// directory root.
func Run(ctx context.Context, root string, files []string, opts Options) ([]Observation, error) {
	if os.Geteuid() != 0 {
		return nil, ErrUnsupported
	}
	if opts.Interp == "" {
		opts.Interp = "/lib64/ld-linux-x86-64.so.2"
	}
	var binds []rootfs.Bind
	for _, b := range opts.Binds {
		src, err := filepath.EvalSymlinks(b.Src)
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", b, err)
		}
		binds = append(binds, rootfs.Bind{Src: src, Dst: b.Dst})
	}
	scratch, err := os.MkdirTemp(opts.Scratch, "hitch-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	req, err := json.Marshal(request{Root: root, Scratch: scratch, Binds: binds, Env: opts.Env, Interp: opts.Interp, Files: files})
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = []string{childEnv + "=1"}
	cmd.Stdin = bytes.NewReader(req)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("verify: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	var obs []Observation
	if err := json.Unmarshal(out.Bytes(), &obs); err != nil {
		return nil, fmt.Errorf("verify: reading the child's answer: %w", err)
	}
	return obs, nil
}

// Main runs the verify child when the process is one, and exits; it
// returns at once otherwise. Call it first in main (and TestMain).
func Main() {
	if os.Getenv(childEnv) == "" {
		return
	}
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "reading the request: %v\n", err)
		os.Exit(2)
	}
	obs, err := child(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(obs); err != nil {
		os.Exit(2)
	}
	os.Exit(0)
}

// child runs inside the new mount namespace.
func child(req request) ([]Observation, error) {
	// Nothing done here may leak to the host's namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("making mounts private: %w", err)
	}
	merged := filepath.Join(req.Scratch, "root")
	upper, work := filepath.Join(req.Scratch, "upper"), filepath.Join(req.Scratch, "work")
	for _, d := range []string{merged, upper, work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	opts := "lowerdir=" + req.Root + ",upperdir=" + upper + ",workdir=" + work
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return nil, fmt.Errorf("mounting the image as an overlay: %w", err)
	}
	for _, b := range req.Binds {
		dst := filepath.Join(merged, b.Dst)
		if err := mountPoint(merged, b); err != nil {
			return nil, fmt.Errorf("bind %s: %w", b, err)
		}
		if err := syscall.Mount(b.Src, dst, "", syscall.MS_BIND, ""); err != nil {
			return nil, fmt.Errorf("bind %s: %w", b, err)
		}
		if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			return nil, fmt.Errorf("bind %s read-only: %w", b, err)
		}
	}
	var obs []Observation
	for _, f := range req.Files {
		obs = append(obs, runLoader(merged, req.Interp, f, req.Env))
	}
	return obs, nil
}

// mountPoint makes the file or directory a bind needs, in the overlay.
func mountPoint(merged string, b rootfs.Bind) error {
	dst := filepath.Join(merged, b.Dst)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	fi, err := os.Stat(b.Src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, nil, 0o644)
}

var address = regexp.MustCompile(` \(0x[0-9a-f]+\)$`)

// runLoader runs the loader on one file, chrooted, with exactly env.
func runLoader(root, interp, file string, env []string) Observation {
	o := Observation{Path: file}
	cmd := &exec.Cmd{Path: interp, Args: []string{interp, file}, Dir: "/"}
	cmd.Env = append([]string{"LD_TRACE_LOADED_OBJECTS=1", "LD_WARN=yes", "LD_BIND_NOW=yes"}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			o.Crashed = true
		}
	} else if err != nil {
		o.Stderr = err.Error()
		return o
	}
	o.Stderr = errb.String()
	for _, l := range strings.Split(out.String(), "\n") {
		if l == "" || strings.HasPrefix(l, "\tlinux-vdso.so.") {
			continue
		}
		o.List = append(o.List, address.ReplaceAllString(l, ""))
	}
	o.Messages = Messages(o.Stderr, file)
	return o
}

// Messages turns what the loader printed into link's messages: "OBJECT:
// undefined symbol: NAME[, version V]", version messages without the
// program prefix, the copy-size warning; sorted, without duplicates.
func Messages(stderr, file string) []string {
	seen := map[string]bool{}
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(l, "undefined symbol: "):
			sym, obj, ok := strings.Cut(l, "\t(")
			if !ok {
				continue
			}
			l = strings.TrimSuffix(obj, ")") + ": " + sym
		case strings.Contains(l, "version `") || strings.Contains(l, "no version information") ||
			strings.HasSuffix(l, "has different size in shared object, consider re-linking"):
			l = strings.TrimPrefix(l, file+": ")
		case strings.HasPrefix(l, "Error relocating ") && strings.HasSuffix(l, ": symbol not found"):
		default:
			continue
		}
		seen[l] = true
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Predict is hitch's prediction for one file in the same form as an
// Observation: the load list as ldd prints it and the binding messages.
func Predict(ctx context.Context, view *rootfs.View, file string, opts ...loader.Option) (Observation, error) {
	g, err := loader.New(view, opts...).Load(ctx, file)
	if err != nil {
		return Observation{}, err
	}
	o := Observation{Path: file, List: g.Ldd()}
	seen := map[string]bool{}
	for _, p := range link.NewChecker().Check(g) {
		if !seen[p.Message] {
			seen[p.Message] = true
			o.Messages = append(o.Messages, p.Message)
		}
	}
	sort.Strings(o.Messages)
	return o, nil
}

// Agree compares a prediction with an observation: the same list and the
// same messages. A loader that crashed says nothing about binding, so
// then only the lists are compared. It returns a description of the
// differences, empty when they agree.
func Agree(predicted, observed Observation) string {
	var diffs []string
	if !slices.Equal(predicted.List, observed.List) {
		diffs = append(diffs, fmt.Sprintf("list:\n  hitch:  %s\n  loader: %s",
			strings.Join(predicted.List, "\n          "), strings.Join(observed.List, "\n          ")))
	}
	if !observed.Crashed && !slices.Equal(predicted.Messages, observed.Messages) {
		only := func(a, b []string) []string {
			var out []string
			for _, x := range a {
				if !slices.Contains(b, x) {
					out = append(out, x)
				}
			}
			return out
		}
		for _, m := range only(predicted.Messages, observed.Messages) {
			diffs = append(diffs, "only hitch: "+m)
		}
		for _, m := range only(observed.Messages, predicted.Messages) {
			diffs = append(diffs, "only the loader: "+m)
		}
	}
	return strings.Join(diffs, "\n")
}
