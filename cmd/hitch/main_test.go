package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
	"github.com/hitch-hpc/hitch/internal/fixture"
	"github.com/hitch-hpc/hitch/verify"
)

func TestMain(m *testing.M) {
	verify.Main()
	testscript.Main(m, map[string]func(){
		"hitch": func() { os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the transcripts in testdata/script: command lines with
// their expected output and exit status. $FIXTURES is the directory of
// compiled C fixtures (testdata/elf), $LOADER the root of the loader
// fixture tree (testdata/loader).
func TestScripts(t *testing.T) {
	fixtures := fixture.ELF(t)
	loaderTree := fixture.LoaderTree(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures)
			env.Setenv("LOADER", loaderTree+"/root")
			return nil
		},
	})
}
