package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// positions keeps where a resumable source stands (Jetstream's cursor, X's
// backfill), so that the next run of it starts there instead of live: in
// Redis with several nodes, for the next lease holder; in a file under
// --data-dir alone, for the next start of this server.
type positions interface {
	load(ctx context.Context) (string, error)
	save(ctx context.Context, pos string) error
}

// redisPositions keeps the position under one key per event.
type redisPositions struct {
	rdb *goredis.Client
	key string
}

func (p redisPositions) load(ctx context.Context) (string, error) {
	pos, err := p.rdb.Get(ctx, p.key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	return pos, err
}

func (p redisPositions) save(ctx context.Context, pos string) error {
	return p.rdb.Set(ctx, p.key, pos, 24*time.Hour).Err()
}

// filePositions keeps positions in one small JSON file, by event and
// source: a position means nothing to another source.
type filePositions struct {
	path string
	key  string
}

func newFilePositions(dataDir, event, source string) filePositions {
	return filePositions{path: filepath.Join(dataDir, "positions.json"), key: event + "/" + source}
}

func (p filePositions) read() (map[string]string, error) {
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	all := map[string]string{}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s is not the JSON this server writes (remove it to start the source live): %w", p.path, err)
	}
	return all, nil
}

func (p filePositions) load(context.Context) (string, error) {
	all, err := p.read()
	if err != nil {
		return "", err
	}
	return all[p.key], nil
}

// save replaces the file whole (write, sync, rename), so a crash leaves
// the old position or the new one, never half of either.
func (p filePositions) save(_ context.Context, pos string) error {
	all, err := p.read()
	if err != nil {
		all = map[string]string{} // unreadable: this position replaces it
	}
	all[p.key] = pos
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.path), ".positions-*")
	if err != nil {
		return fmt.Errorf("save the source's position under %s: %w", filepath.Dir(p.path), err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save the source's position: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save the source's position: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save the source's position: %w", err)
	}
	if err := os.Rename(tmp.Name(), p.path); err != nil {
		return fmt.Errorf("save the source's position: %w", err)
	}
	return nil
}

// resume starts r where the last run stood, if it was saved.
func (c *cluster) resume(ctx context.Context, r tweet.Resumable) {
	pos, err := c.positions.load(ctx)
	switch {
	case err != nil:
		c.log.Warn("cannot read where the source stood; it starts live", "err", err)
	case pos != "":
		c.log.Info("resuming the source where it last stood", "position", pos)
		r.ResumeFrom(pos)
	}
}

// keepPosition saves the source's position every second until ctx is
// done, and once more then, so that a clean stop loses nothing.
func (c *cluster) keepPosition(ctx context.Context, r tweet.Resumable) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	saved := ""
	keep := func(ctx context.Context) {
		pos := r.Position()
		if pos == "" || pos == saved {
			return
		}
		if err := c.positions.save(ctx, pos); err != nil {
			c.log.Warn("cannot save where the source stands", "err", err)
			return
		}
		saved = pos
	}
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			keep(final)
			cancel()
			return
		case <-t.C:
			keep(ctx)
		}
	}
}
