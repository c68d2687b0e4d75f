// Command tweetwire follows posts about an event and pushes each one live
// to every browser and extension watching. Everything but the process
// (signals, exit code) is in server/cli, and the server itself is
// server/app.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tweetwire/tweetwire/server/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
