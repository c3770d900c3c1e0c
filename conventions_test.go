// Package hitch_test holds tests of repository-wide conventions: every
// package documents itself, and low layers do not import high ones.
package hitch_test

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs: every package has a "// Package x ..." comment.
func TestPackageDocs(t *testing.T) {
	dirs := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range dirs {
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pkgs {
			documented := false
			for _, f := range p.Files {
				if f.Doc != nil && (strings.HasPrefix(f.Doc.Text(), "Package "+name+" ") || strings.HasPrefix(f.Doc.Text(), "Command ")) {
					documented = true
				}
			}
			if !documented {
				t.Errorf("package %s in %s has no \"// Package %s ...\" comment", name, dir, name)
			}
		}
	}
}

// TestLayers: the fact readers, the loader emulation and the binding
// check stay free of the CLI, of image transports and of test helpers,
// so a library user can take them alone; none imports a registry client.
func TestLayers(t *testing.T) {
	forbidden := map[string][]string{
		"./elffacts":  {"/elfwalk", "/cmd/", "/internal/"},
		"./elfwalk":   {"/cmd/", "/internal/"},
		"./ldcache":   {"/cmd/", "/internal/", "/rootfs", "/elffacts"},
		"./loader":    {"/cmd/", "/internal/", "/image", "/inspect", "/link", "/check", "go-containerregistry"},
		"./link":      {"/cmd/", "/internal/", "/image", "/inspect", "/check", "go-containerregistry"},
		"./check":     {"/cmd/", "/internal/", "/image", "/inspect", "go-containerregistry"},
		"./iface":     {"/cmd/", "/internal/", "/rootfs", "/loader", "/image"},
		"./plan":      {"/cmd/", "/internal/", "/image", "/inspect", "/check", "go-containerregistry"},
		"./verify":    {"/cmd/", "/internal/", "/image", "/inspect", "/plan", "go-containerregistry"},
		"./store":     {"/cmd/", "/internal/", "/image", "/inspect", "/loader", "/rootfs", "go-containerregistry"},
		"./storeview": {"/cmd/", "/internal/", "/check", "/plan", "/scan"},
		"./matrix":    {"/cmd/", "/internal/", "/scan", "chromedp"},
		"./abidiff":   {"/cmd/", "/internal/", "/loader", "/rootfs", "/image", "/store"},
		"./treediff":  {"/cmd/", "/internal/", "/image", "/store"},
		"./dwarfabi":  {"/cmd/", "/internal/", "/loader", "/rootfs", "/image", "/store", "/abidiff"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				ours := strings.HasPrefix(dep, "github.com/hitch-hpc/hitch")
				if strings.Contains(dep, b) && (ours || !strings.HasPrefix(b, "/")) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
