package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
	"github.com/hitch-hpc/hitch/internal/fixture"
)

// TestInspectJSONSchema checks that the JSON that hitch inspect prints
// follows docs/facts.schema.json, which forbids undocumented fields: a new
// field in Facts fails here until the schema and docs/facts.md say what it
// means.
func TestInspectJSONSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join(fixture.RepoRoot(), "docs", "facts.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{fixture.ELF(t)}
	if !testing.Short() {
		dirs = append(dirs, "/usr/lib/x86_64-linux-gnu")
	}
	for _, dir := range dirs {
		var out, errOut bytes.Buffer
		if code := cli.Main(t.Context(), []string{"inspect", "--format", "json", dir}, &out, &errOut); code != cli.ExitOK {
			t.Fatalf("inspect %s: exit %d: %s", dir, code, errOut.String())
		}
		doc, err := jsonschema.UnmarshalJSON(&out)
		if err != nil {
			t.Fatalf("inspect %s: output is not JSON: %v", dir, err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("inspect %s: output does not follow the schema:\n%v", dir, err)
		}
	}
}
