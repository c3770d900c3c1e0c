package profcmd

import (
	"bytes"
	"os"
	"testing"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
)

func TestProf(t *testing.T) {
	b, _ := os.ReadFile(os.Getenv("EDSP"))
	var out, errOut bytes.Buffer
	cli.MainInput(t.Context(), []string{"solve", "--edsp"}, bytes.NewReader(b), &out, &errOut)
	t.Log(errOut.String())
}
