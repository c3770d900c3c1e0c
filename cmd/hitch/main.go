// Command hitch tells whether a container image will run on an HPC host
// once the host's own libraries are bound into it. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/hitch-hpc/hitch/cmd/hitch/internal/cli"
	"github.com/hitch-hpc/hitch/verify"
)

func main() {
	// hitch verify runs this executable again inside a mount namespace.
	verify.Main()
	// hitch is a short-lived process that builds a large heap of facts it
	// keeps to the end: collecting less often saves a tenth of a check,
	// and a soft limit keeps the trade from growing without bound. The
	// environment (GOGC, GOMEMLIMIT) still decides when set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
