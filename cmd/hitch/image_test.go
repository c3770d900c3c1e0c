package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// smallImage is a tiny Debian-like image: os-release, a dpkg database
// owning one library, and a program that is in no package.
func smallImage(t *testing.T) string {
	t.Helper()
	elf := fixture.ELF(t)
	src := t.TempDir()
	files := map[string]string{
		"etc/os-release":                 "PRETTY_NAME=\"Test Linux 1 (hitch)\"\nID=testlinux\nVERSION_ID=1\n",
		"var/lib/dpkg/status":            "Package: libver1\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n",
		"var/lib/dpkg/info/libver1.list": "/.\n/lib\n/lib/libver.so.1\n",
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// usrmerge: dpkg lists /lib/libver.so.1, the file is in /usr/lib.
	os.MkdirAll(filepath.Join(src, "usr/lib"), 0o755)
	os.MkdirAll(filepath.Join(src, "usr/bin"), 0o755)
	os.Symlink("usr/lib", filepath.Join(src, "lib"))
	for from, to := range map[string]string{"lib/libver.so.1": "usr/lib/libver.so.1", "bin/app_runpath": "usr/bin/app"} {
		b, err := os.ReadFile(filepath.Join(elf, from))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, to), b, 0o755)
	}
	return fixture.OCILayout(t, src)
}

func TestInspectImage(t *testing.T) {
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	oci := smallImage(t)
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"inspect", oci}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"image  " + oci + " (oci sha256:",
		"system Test Linux 1 (hitch); dpkg, 1 packages",
		"libver.so.1              libver1                /usr/lib/libver.so.1",
		"-                      /usr/bin/app",
		"2 ELF objects",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Opened again: from the cache.
	out.Reset()
	if code := cli.Main(t.Context(), []string{"inspect", "oci:" + oci}, &out, &errOut); code != cli.ExitOK || !strings.Contains(out.String(), ", from the cache)") {
		t.Errorf("second open: exit %d:\n%s", code, out.String())
	}

	out.Reset()
	if code := cli.Main(t.Context(), []string{"inspect", "--format", "json", oci}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var doc struct {
		Objects []struct {
			Path    string
			Package *struct{ Name, Version string }
		}
		Inputs []struct {
			Kind           string
			PackageManager string `json:"package_manager"`
			Config         struct{ Env []string }
		}
	}
	raw := append([]byte(nil), out.Bytes()...)
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Objects) != 2 || doc.Objects[1].Package == nil || doc.Objects[1].Package.Name != "libver1" || doc.Objects[0].Package != nil {
		t.Errorf("objects: %+v", doc.Objects)
	}
	if len(doc.Inputs) != 1 || doc.Inputs[0].Kind != "oci" || doc.Inputs[0].PackageManager != "dpkg" || len(doc.Inputs[0].Config.Env) != 2 {
		t.Errorf("inputs: %+v", doc.Inputs)
	}
	sch, err := jsonschema.NewCompiler().Compile(filepath.Join(fixture.RepoRoot(), "docs", "facts.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("image output does not follow the schema: %v", err)
	}
}

// TestCheckEntrypoint: --entrypoint finds the image's command through the
// PATH of its configuration and judges it with the image's environment.
func TestCheckEntrypoint(t *testing.T) {
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	oci := smallImage(t)
	var out, errOut bytes.Buffer
	code := cli.Main(t.Context(), []string{"check", "--entrypoint", oci}, &out, &errOut)
	if code != cli.ExitNo {
		t.Fatalf("exit %d, want %d (the image has no libc): %s%s", code, cli.ExitNo, out.String(), errOut.String())
	}
	for _, want := range []string{
		"fails    /usr/bin/app\n",
		"error: /usr/bin/app: cannot execute: the interpreter /lib64/ld-linux-x86-64.so.2 is missing",
		"1 object: 0 ok, 0 with warnings, 1 fail",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"ldd", "--format", "json", oci, "/usr/bin/app"}, &out, &errOut); code != cli.ExitNo {
		t.Fatalf("ldd exit %d: %s", code, errOut.String())
	}
	// The image's LD_LIBRARY_PATH is in force; libver.so.1 is found
	// through the program's $ORIGIN.
	if !strings.Contains(out.String(), `"path": "/usr/bin/../lib/libver.so.1"`) {
		t.Errorf("ldd JSON lacks libver.so.1 through $ORIGIN:\n%s", out.String())
	}
}

// TestPlan runs hitch plan between two Debian roots, and against a host
// without the interface.
func TestPlan(t *testing.T) {
	image, host := fixture.Rootfs(t, "trixie"), fixture.Rootfs(t, "bookworm")
	var out, errOut bytes.Buffer
	code := cli.Main(t.Context(), []string{"plan", image, "--interface", "mpi", "--host", host, "--emit", "json"}, &out, &errOut)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var p struct {
		Family     string
		Binds      []struct{ Src, Dst, Soname, Why string }
		Candidates []struct {
			Family, Soname, Note string
			Chosen               bool
		}
	}
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Family != "mpich-abi" || len(p.Binds) == 0 || p.Binds[0].Soname != "libmpich.so.12" {
		t.Errorf("plan: %+v", p)
	}
	// The host has two MPIs: both are listed, one chosen, the other
	// saying why not.
	chosen, other := 0, ""
	for _, c := range p.Candidates {
		if c.Chosen {
			chosen++
		} else if c.Family == "openmpi" {
			other = c.Note
		}
	}
	if chosen != 1 || other == "" {
		t.Errorf("candidates: %+v", p.Candidates)
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"plan", image, "--interface", "openmpi", "--host", host, "--emit", "podman"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "-v "+host+"/usr/lib/x86_64-linux-gnu/libmpi.so.40.30.4:") {
		t.Errorf("podman flags:\n%s", out.String())
	}
	// A host without MPI: exit 1, naming what was searched.
	out.Reset()
	errOut.Reset()
	code = cli.Main(t.Context(), []string{"plan", image, "--interface", "mpi", "--host", t.TempDir()}, &out, &errOut)
	if code != cli.ExitNo || !strings.Contains(errOut.String(), "searched the host for") || !strings.Contains(errOut.String(), "libmpi.so.40") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := cli.Main(t.Context(), []string{"plan", image, "--interface", "nosuch"}, &out, &errOut); code != cli.ExitUsage || !strings.Contains(errOut.String(), `unknown interface "nosuch"`) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// TestCheckInterface: check with the host's MPI planned and bound in,
// only the objects it reaches, with the shadowing report and a fix.
func TestCheckInterface(t *testing.T) {
	image, host := fixture.Rootfs(t, "bullseye"), fixture.Rootfs(t, "bookworm")
	var out, errOut bytes.Buffer
	code := cli.Main(t.Context(), []string{"check", image, "/opt/hitch/hello_openmpi", "--interface", "openmpi", "--host", host}, &out, &errOut)
	if code != cli.ExitNo {
		t.Fatalf("exit %d, want 1 (bookworm's Open MPI needs a newer glibc than bullseye's): %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"with the host's openmpi (",
		"fails    /opt/hitch/hello_openmpi",
		"uses the host's libmpi.so.40",
		"version `GLIBC_2.33' not found",
		"fix: the host's libraries need GLIBC_2.34 from libc.so.6, which the image's lacks: use an image with glibc ≥ 2.34",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	// The other way round the plan works.
	code = cli.Main(t.Context(), []string{"check", host, "/opt/hitch/hello_openmpi", "--interface", "openmpi", "--host", image, "--strategy", "prepend", "--format", "json"}, &out, &errOut)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	var doc struct {
		Plan     struct{ Family string }
		Verdicts []struct {
			Status   string
			Shadowed []struct{ Soname string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Plan.Family != "openmpi" || len(doc.Verdicts) != 1 || doc.Verdicts[0].Status != "ok" || len(doc.Verdicts[0].Shadowed) == 0 {
		t.Errorf("JSON: %+v", doc)
	}
}

// TestVerify runs hitch verify with a plan between two Debian roots: the
// real loader, in a mount namespace, agrees with the prediction.
func TestVerify(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	image, host := fixture.Rootfs(t, "trixie"), fixture.Rootfs(t, "bookworm")
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	var out, errOut bytes.Buffer
	code := cli.Main(t.Context(), []string{"verify", image, "/opt/hitch/hello_openmpi", "/opt/hitch/hello_mpich", "--interface", "mpi", "--host", host}, &out, &errOut)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"agree    loads /opt/hitch/hello_mpich\n",
		"2 files: hitch and the loader agree on 2\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	entries, _ := os.ReadDir(os.Getenv("HITCH_CACHE_DIR"))
	if len(entries) != 0 {
		t.Errorf("verify left %d entries in the cache", len(entries))
	}
}

// TestVerifyPlanFile: a plan written by hitch plan --emit json is what
// verify --plan runs; edited so that MPICH's libmpich stays the image's,
// the edited plan is what runs, and hitch and the loader agree on it.
func TestVerifyPlanFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs mount namespaces (root)")
	}
	image, host := fixture.Rootfs(t, "trixie"), fixture.Rootfs(t, "bookworm")
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"plan", image, "--interface", "mpi", "--host", host, "--emit", "json"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("plan: exit %d: %s", code, errOut.String())
	}
	var p map[string]any
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := cli.Main(t.Context(), []string{"verify", image, "/opt/hitch/hello_mpich", "--plan", file}, &out, &errOut)
	if code != cli.ExitOK || !strings.Contains(out.String(), "1 file: hitch and the loader agree on 1") && !strings.Contains(out.String(), "1 files: hitch and the loader agree on 1") {
		t.Fatalf("verify --plan: exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	// Edited: no bind of libmpich.
	binds := p["binds"].([]any)
	var kept []any
	for _, b := range binds {
		if !strings.HasPrefix(b.(map[string]any)["soname"].(string), "libmpich.so") {
			kept = append(kept, b)
		}
	}
	if len(kept) == len(binds) {
		t.Fatalf("the plan binds no libmpich: %v", binds)
	}
	p["binds"] = kept
	b, _ := json.Marshal(p)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code = cli.Main(t.Context(), []string{"verify", image, "/opt/hitch/hello_mpich", "--plan", file, "--format", "json"}, &out, &errOut)
	if code != cli.ExitOK {
		t.Fatalf("verify the edited plan: exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	var doc struct {
		Plan struct {
			Binds []struct{ Soname string }
		}
		Results []struct{ Agree bool }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, b := range doc.Plan.Binds {
		if strings.HasPrefix(b.Soname, "libmpich.so") {
			t.Errorf("the edited plan still binds %s", b.Soname)
		}
	}
	if len(doc.Results) != 1 || !doc.Results[0].Agree {
		t.Errorf("results %+v: want the loader and hitch to agree on the edited plan", doc.Results)
	}
	if code := cli.Main(t.Context(), []string{"verify", image, "--plan", file, "--interface", "mpi"}, &out, &errOut); code != cli.ExitUsage {
		t.Errorf("--plan with --interface: exit %d", code)
	}
}

// TestScanAndLs: hitch scan into a catalog named by --db, twice, then
// hitch ls.
func TestScanAndLs(t *testing.T) {
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	oci := smallImage(t)
	db := filepath.Join(t.TempDir(), "catalog.db")
	var out, errOut bytes.Buffer
	if code := cli.Main(t.Context(), []string{"scan", oci, "--db", db, "--name", "small"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "small: 2 objects, 2 new (") {
		t.Errorf("first scan: %q", out.String())
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"scan", oci, "--db", db, "--name", "small"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "small: 2 objects, unchanged (") {
		t.Errorf("second scan: %q", out.String())
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"ls", "--db", db}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "small") || !strings.Contains(out.String(), "oci") {
		t.Errorf("ls:\n%s", out.String())
	}
	// Queries on it.
	out.Reset()
	if code := cli.Main(t.Context(), []string{"query", "provides", "libver.so.1", "--db", db}, &out, &errOut); code != cli.ExitOK || !strings.Contains(out.String(), "small") || !strings.Contains(out.String(), "1 files") {
		t.Errorf("query provides: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"query", "defines", "foo@VER_2", "--db", db, "--format", "json"}, &out, &errOut); code != cli.ExitOK || !strings.Contains(out.String(), `"match": "foo@VER_2"`) {
		t.Errorf("query defines: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"query", "needs", "GLIBC_99.0", "--db", db}, &out, &errOut); code != cli.ExitNo {
		t.Errorf("query needs (none): exit %d\n%s", code, out.String())
	}
	// A name taken by another reference; a reference that cannot be read.
	errOut.Reset()
	if code := cli.Main(t.Context(), []string{"scan", t.TempDir(), "--db", db, "--name", "small"}, &out, &errOut); code != cli.ExitPartial || !strings.Contains(errOut.String(), "the name is taken") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	// Several references at once, one unreadable: the others are
	// scanned, the JSON lists all in argument order, the exit says some
	// failed.
	out.Reset()
	errOut.Reset()
	empty, missing := t.TempDir(), filepath.Join(t.TempDir(), "nope")
	code := cli.Main(t.Context(), []string{"scan", "--db", db, "--format", "json", "--parallel", "3", oci, missing, empty}, &out, &errOut)
	var doc struct {
		Scanned []struct {
			Name      string
			Unchanged bool
			Error     string
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || code != cli.ExitPartial || len(doc.Scanned) != 3 ||
		doc.Scanned[0].Name != oci || doc.Scanned[1].Error == "" || doc.Scanned[2].Name != empty || doc.Scanned[2].Error != "" {
		t.Errorf("exit %d, %+v, %v; stderr %q", code, doc, err, errOut.String())
	}
}

// TestCatalogCommands: a host scanned into the catalog serves as --host
// catalog:NAME: the same plan and check as its files, binds named by the
// host's own paths; verify refuses it (it needs files). hitch matrix and
// hitch drift answer from the same catalog.
func TestCatalogCommands(t *testing.T) {
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	image, host := fixture.Rootfs(t, "bullseye"), fixture.Rootfs(t, "bookworm")
	db := filepath.Join(t.TempDir(), "catalog.db")
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := cli.Main(t.Context(), args, &out, &errOut); code != want {
			t.Fatalf("hitch %s: exit %d, want %d: %s", strings.Join(args, " "), code, want, errOut.String())
		}
		return out.String() + errOut.String()
	}
	run(cli.ExitOK, "scan", "--db", db, "--role", "host", "--name", "cluster", host)
	run(cli.ExitOK, "scan", "--db", db, "--name", "app", image)

	files := run(cli.ExitNo, "check", image, "--interface", "openmpi", "--host", host, "--format", "json")
	cat := run(cli.ExitNo, "check", "catalog:app", "--db", db, "--interface", "openmpi", "--host", "catalog:cluster", "--format", "json")
	var a, b map[string]any
	if err := json.Unmarshal([]byte(files), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(cat), &b); err != nil {
		t.Fatal(err)
	}
	// The binds differ only in their sources: the files' are under the
	// root directory, the catalog's are the host's own paths.
	for _, bd := range a["plan"].(map[string]any)["binds"].([]any) {
		m := bd.(map[string]any)
		m["src"] = strings.TrimPrefix(m["src"].(string), host)
	}
	delete(a, "image")
	delete(b, "image")
	ja, _ := json.MarshalIndent(a, "", " ")
	jb, _ := json.MarshalIndent(b, "", " ")
	if !bytes.Equal(ja, jb) {
		t.Errorf("check from the catalog differs from the files:\n%s\n---\n%s", jb, ja)
	}
	if !strings.Contains(cat, `"src": "/usr/lib/x86_64-linux-gnu/libmpi.so.40`) {
		t.Errorf("binds not named by the host's paths:\n%s", cat)
	}
	ldd := run(cli.ExitOK, "ldd", "catalog:app", "--db", db, "/usr/bin/mpirun")
	if want := run(cli.ExitOK, "ldd", image, "/usr/bin/mpirun"); ldd != want || !strings.Contains(ldd, "libopen-rte.so.40 => /usr/lib/x86_64-linux-gnu/libopen-rte.so.40") {
		t.Errorf("ldd from the catalog:\n%s\nfrom the files:\n%s", ldd, want)
	}
	if out := run(cli.ExitUsage, "verify", "catalog:app", "--db", db); !strings.Contains(out, "the catalog holds facts, not files") {
		t.Errorf("verify: %s", out)
	}
	if out := run(cli.ExitUsage, "check", "catalog:nope", "--db", db); !strings.Contains(out, `no system named "nope"`) {
		t.Errorf("missing name: %s", out)
	}

	// The matrix of the one image on the one host: bullseye's programs
	// with bookworm's Open MPI fail, as check said.
	out := run(cli.ExitNo, "matrix", "--db", db, "--interface", "openmpi")
	if !strings.Contains(out, "app") || !strings.Contains(out, "FAILS") || !strings.Contains(out, "app on cluster: fails: ") {
		t.Errorf("matrix:\n%s", out)
	}
	var m struct {
		Schema int
		Cells  []struct{ Image, Host, Status string }
	}
	if err := json.Unmarshal([]byte(run(cli.ExitNo, "matrix", "--db", db, "--interface", "openmpi", "--format", "json")), &m); err != nil || m.Schema != 1 || len(m.Cells) != 1 || m.Cells[0].Status != "fails" {
		t.Errorf("matrix json: %+v, %v", m, err)
	}
	if html := run(cli.ExitNo, "matrix", "--db", db, "--interface", "openmpi", "--format", "html"); !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, `id="cell-0"`) {
		t.Errorf("matrix html: %.300s", html)
	}
	if out := run(cli.ExitUsage, "matrix", "--db", db, "--hosts", "nope*"); !strings.Contains(out, `no host in the catalog matches "nope*"`) {
		t.Errorf("matrix --hosts nope: %s", out)
	}
	// Drift from bookworm's stack to bullseye's (a downgrade): MPICH and
	// UCX lose symbols, Open MPI does not; the image, built on bullseye,
	// now loads (with a warning) where it failed.
	run(cli.ExitOK, "scan", "--db", db, "--role", "host", "--name", "old", image)
	out = run(cli.ExitOK, "drift", "--db", db, "cluster", "old", "--interface", "openmpi")
	if !strings.Contains(out, "cluster → old: ") || !strings.Contains(out, "compatible   libmpi.so.40 (openmpi)") || !strings.Contains(out, "incompatible libucp.so.0 (ucx)") || !strings.Contains(out, "app: fails → warning") {
		t.Errorf("drift:\n%s", out)
	}
	if out := run(cli.ExitUsage, "drift", "--db", db, "cluster", "nope"); !strings.Contains(out, `no system named "nope"`) {
		t.Errorf("drift to a missing host: %s", out)
	}
}

// TestDiff: hitch diff keeps abidiff's exit bitmask — 0, 4, 12 for the
// corpus pairs, 1 for a file it cannot read, 2 for usage — and its JSON
// carries the changes and the exit.
func TestDiff(t *testing.T) {
	dir := fixture.ABIPairs(t)
	pair := func(name string) []string {
		return []string{filepath.Join(dir, name, "old.so"), filepath.Join(dir, name, "new.so")}
	}
	for name, want := range map[string]int{"same": 0, "added": 4, "removed": 12, "version-moved": 12, "param-type": 12, "enum-added": 4, "typedef-renamed": 0} {
		var out, errOut bytes.Buffer
		code := cli.Main(t.Context(), append([]string{"diff"}, pair(name)...), &out, &errOut)
		if code != want {
			t.Errorf("%s: exit %d, want %d\n%s%s", name, code, want, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	code := cli.Main(t.Context(), append([]string{"diff", "--format", "json"}, pair("version-moved")...), &out, &errOut)
	var doc struct {
		Schema  int
		Exit    int
		Changes []struct {
			Kind, Subject string
			Incompatible  bool
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || code != 12 || doc.Exit != 12 || len(doc.Changes) != 3 {
		t.Errorf("json: exit %d, %+v, %v", code, doc, err)
	}
	errOut.Reset()
	notELF := filepath.Join(t.TempDir(), "README")
	os.WriteFile(notELF, []byte("text\n"), 0o644)
	if code := cli.Main(t.Context(), []string{"diff", notELF, pair("same")[1]}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), notELF) {
		t.Errorf("not ELF: exit %d, %q", code, errOut.String())
	}
	if code := cli.Main(t.Context(), []string{"diff", notELF}, &out, &errOut); code != 2 {
		t.Errorf("one argument: exit %d", code)
	}
	// Suppressions.
	rules := filepath.Join(t.TempDir(), "rules")
	os.WriteFile(rules, []byte("# PAIR_2 is not ours\nversion PAIR_2\n"), 0o644)
	out.Reset()
	if code := cli.Main(t.Context(), append([]string{"diff", "--suppress", rules}, pair("version-removed")...), &out, &errOut); code != 0 || !strings.Contains(out.String(), "2 changes suppressed") {
		t.Errorf("suppressed: exit %d\n%s", code, out.String())
	}
	os.WriteFile(rules, []byte("version PAIR_2\nfunction pair_g\n"), 0o644)
	errOut.Reset()
	if code := cli.Main(t.Context(), append([]string{"diff", "--suppress", rules}, pair("version-removed")...), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), rules+":2: unknown rule") {
		t.Errorf("bad rules: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := cli.Main(t.Context(), []string{"help", "suppressions"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "version PATTERN") {
		t.Errorf("help suppressions: exit %d", code)
	}
	// Two trees: libraries paired by soname, bumps reported.
	out.Reset()
	code = cli.Main(t.Context(), []string{"diff", "--format", "json", fixture.Rootfs(t, "bullseye"), fixture.Rootfs(t, "bookworm")}, &out, &errOut)
	var tree struct {
		Exit  int
		Pairs []struct {
			Soname    string
			NewSoname string `json:"new_soname"`
			Status    string
		}
	}
	bump := false
	if err := json.Unmarshal(out.Bytes(), &tree); err != nil || code != 12 || tree.Exit != 12 {
		t.Fatalf("trees: exit %d, %v", code, err)
	}
	for _, p := range tree.Pairs {
		bump = bump || p.Soname == "libssl.so.1.1" && p.NewSoname == "libssl.so.3" && p.Status == "bumped"
	}
	if !bump {
		t.Errorf("trees: no libssl bump among %d pairs", len(tree.Pairs))
	}
	if code := cli.Main(t.Context(), []string{"diff", pair("same")[0], fixture.Rootfs(t, "bullseye")}, &out, &errOut); code != 2 {
		t.Errorf("a file and a tree: exit %d", code)
	}
	// Two Debian packages: libffi7 against libffi8 is a soname bump,
	// which abipkgdiff (pairing by file name) passes with exit 0.
	debs := fixture.Debs(t)
	old7, new8 := filepath.Join(debs, "bullseye", "libffi7.deb"), filepath.Join(debs, "bookworm", "libffi8.deb")
	out.Reset()
	t.Setenv("HITCH_CACHE_DIR", t.TempDir())
	if code := cli.Main(t.Context(), []string{"diff", old7, new8}, &out, &errOut); code != 12 || !strings.Contains(out.String(), "libffi.so.7 → libffi.so.8") {
		t.Errorf("libffi7 → libffi8: exit %d\n%s", code, out.String())
	}
	if _, err := exec.LookPath("abipkgdiff"); err == nil {
		cmd := exec.Command("abipkgdiff", old7, new8)
		cmd.Run()
		if cmd.ProcessState.ExitCode() != 0 {
			t.Errorf("abipkgdiff now exits %d on the libffi bump; README and the issue say it passes it", cmd.ProcessState.ExitCode())
		}
	} else if os.Getenv("CI") != "" {
		t.Error("abipkgdiff is not installed (.ci/run installs abigail-tools)")
	}
	// hitch compat: only what the program uses.
	// In this order: the output checked below is app-g's.
	for _, c := range []struct {
		app  string
		want int
	}{{"app-f", 0}, {"app-g", 12}} {
		app, want := c.app, c.want
		out.Reset()
		args := append([]string{"compat", filepath.Join(dir, "removed", app)}, pair("removed")...)
		if code := cli.Main(t.Context(), args, &out, &errOut); code != want {
			t.Errorf("compat %s: exit %d, want %d\n%s", app, code, want, out.String())
		}
	}
	if !strings.Contains(out.String(), "undefined symbol: pair_g") {
		t.Errorf("compat app-g: %s", out.String())
	}
}

// TestCheckRequireCUDA: an image whose NVIDIA_REQUIRE_CUDA the host's
// driver does not meet does not start, whatever its objects do: check
// exits 1 and says why, in the container toolkit's words.
func TestCheckRequireCUDA(t *testing.T) {
	image, host := fixture.Rootfs(t, "trixie"), fixture.CUDA(t, "bookworm")+"/driver"
	for _, c := range []struct {
		require string
		code    int
	}{{"cuda>=12.4", cli.ExitNo}, {"cuda>=12.2", cli.ExitOK}} {
		var out, errOut bytes.Buffer
		code := cli.Main(t.Context(), []string{"check", image, "/opt/hitch/hello_mpich", "--interface", "cuda", "--host", host,
			"--host-env", "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/nvidia/current", "--env", "NVIDIA_REQUIRE_CUDA=" + c.require}, &out, &errOut)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d:\n%s%s", c.require, code, c.code, out.String(), errOut.String())
		}
		if c.code == cli.ExitNo && !strings.Contains(out.String(), "the container does not start: the host's driver 535.261.03 (CUDA 12.2): \"requirement error: unsatisfied condition: cuda>=12.4,") {
			t.Errorf("%s: output lacks the reason:\n%s", c.require, out.String())
		}
	}
}
