package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tweetwire/tweetwire/server/store/embedded"
)

// runDB is `tweetwire db`: the embedded MongoDB-compatible store on its
// own, so that several servers can share one without installing MongoDB
// (and so that tests can stop the database under a running server).
func runDB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var addr, dataDir string
	fs := flag.NewFlagSet("tweetwire db", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&addr, "addr", "127.0.0.1:27017", "address to serve the MongoDB wire protocol on")
	fs.StringVar(&dataDir, "data-dir", "./data", "where the store keeps its files (in <data-dir>/db, as the server does)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: tweetwire db [--addr HOST:PORT] [--data-dir DIR]; then run servers with --mongo-uri mongodb://HOST:PORT/")
			return 0
		}
		fmt.Fprintf(stderr, "tweetwire db: %v: run tweetwire db --help to see the flags\n", err)
		return 2
	}
	if err := checkAddr(addr); err != nil {
		fmt.Fprintf(stderr, "tweetwire db: %v\n", err)
		return 2
	}
	log := newLogger(stderr, "info")
	srv, err := embedded.Start(embedded.Config{Dir: filepath.Join(dataDir, "db"), Addr: addr, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire db: %v\n", err)
		return 1
	}
	log.Info("listening", "uri", srv.URI())
	<-ctx.Done()
	_ = srv.Close()
	log.Info("stopped")
	return 0
}
