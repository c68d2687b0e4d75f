package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tweetwire/tweetwire/server/app"
)

// storeCommand is a subcommand that works on the database the server uses
// (stats, end): its name, its usage line, its own flags, and what it does
// once the database is open. With the embedded store the server must be
// stopped first: the embedded database has one process at a time.
type storeCommand struct {
	name  string
	usage string
	flags func(fs *flagSet)
	run   func(ctx context.Context, db *app.Database, stdout io.Writer) error
}

// main parses args (the flags of the command, then the store's), opens the
// database and runs the command; it returns the exit code.
func (c storeCommand) main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var dataDir, mongoURI string
	fs := newFlagSet("tweetwire " + c.name)
	c.flags(fs)
	fs.StringVar(&dataDir, "data-dir", "./data", "the data directory of the embedded store")
	fs.StringVar(&mongoURI, "mongo-uri", "", "MongoDB to use (default: the embedded store under --data-dir)")
	fs.env("mongo-uri", "MONGODB_URI")
	// Only the store's variables: TWEETWIRE_EVENT names the event the
	// server records, not the one this command is about.
	if err := fs.parse(args, storeVariables(getenv)); err != nil {
		if errors.Is(err, ErrHelp) {
			fmt.Fprintln(stdout, "Usage: tweetwire "+c.usage)
			fs.printFlags(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "tweetwire %s: %v\n", c.name, err)
		return 2
	}
	db, err := app.OpenDatabase(ctx, mongoURI, dataDir, newLogger(stderr, "warn"))
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire %s: %v\n", c.name, err)
		return 1
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := c.run(ctx, db, stdout); err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			fmt.Fprintf(stderr, "tweetwire %s: %v\n", c.name, err)
			return 2
		}
		fmt.Fprintf(stderr, "tweetwire %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

// usageError is a flag value a store command finds wrong: exit code 2.
type usageError struct{ error }

// storeVariables passes on only the environment variables that say where
// the store is.
func storeVariables(getenv func(string) string) func(string) string {
	return func(name string) string {
		switch name {
		case "MONGODB_URI", "TWEETWIRE_DATA_DIR":
			return getenv(name)
		}
		return ""
	}
}
