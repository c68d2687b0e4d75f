package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// FilePositions keeps a lone node's positions in one small JSON file
// (<data dir>/positions.json), by event and source: a position means
// nothing to another source, and the next start of this server resumes
// there.
type FilePositions struct {
	path string
	key  string
}

var _ Positions = FilePositions{}

// NewFilePositions keeps the position of the named source for the named
// event under dataDir.
func NewFilePositions(dataDir, event, source string) FilePositions {
	return FilePositions{path: filepath.Join(dataDir, "positions.json"), key: event + "/" + source}
}

func (p FilePositions) read() (map[string]string, error) {
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

// Load returns the saved position, "" when there is none.
func (p FilePositions) Load(context.Context) (string, error) {
	all, err := p.read()
	if err != nil {
		return "", err
	}
	return all[p.key], nil
}

// save replaces the file whole (write, sync, rename), so a crash leaves
// the old position or the new one, never half of either.
func (p FilePositions) Save(_ context.Context, pos string) error {
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

// resume starts src where its last run stood, if that was saved.
func (r Runner) resume(ctx context.Context, src tweet.Resumable) {
	pos, err := r.Positions.Load(ctx)
	switch {
	case err != nil:
		r.Logger.Warn("cannot read where the source stood; it starts live", "err", err)
	case pos != "":
		r.Logger.Info("resuming the source where it last stood", "position", pos)
		src.ResumeFrom(pos)
	}
}

// keepPosition saves the source's position every second until ctx is
// done, and once more then, so that a clean stop loses nothing.
func (r Runner) keepPosition(ctx context.Context, src tweet.Resumable) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	saved := ""
	keep := func(ctx context.Context) {
		pos := src.Position()
		if pos == "" || pos == saved {
			return
		}
		if err := r.Positions.Save(ctx, pos); err != nil {
			r.Logger.Warn("cannot save where the source stands", "err", err)
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
