// Package cli is the tweetwire command without its process: flags and
// environment variables to an app.Config, the sources they can name, and
// the subcommands (stats, end, db, healthcheck). server/cmd/tweetwire calls
// Main; the end-to-end tests call it too, or ParseConfig, in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tweetwire/tweetwire/server/app"
)

// Main runs the command with args (without the program name) and returns
// its exit code: 0, 1 when the server or a subcommand failed, 2 when the
// command line is wrong.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "stats":
			return statsCommand().main(ctx, args[1:], getenv, stdout, stderr)
		case "end":
			return endCommand().main(ctx, args[1:], getenv, stdout, stderr)
		case "db":
			return runDB(ctx, args[1:], stdout, stderr)
		case "healthcheck":
			return runHealthcheck(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, err := ParseConfig(args, getenv, stdout)
	if errors.Is(err, ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire: %v\n", err)
		return 2
	}
	appCfg, err := cfg.AppConfig(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire: %v\n", err)
		return 2
	}
	if err := serve(ctx, appCfg); err != nil {
		fmt.Fprintf(stderr, "tweetwire: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the application until ctx is done, then closes it.
func serve(ctx context.Context, cfg app.Config) error {
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	runErr := a.Run(ctx)
	closeErr := a.Close(context.WithoutCancel(ctx))
	return errors.Join(runErr, closeErr)
}
