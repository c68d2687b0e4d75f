package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// adminTokenFile is where a lone server keeps the admin token it made,
// under the data directory.
const adminTokenFile = "admin-token"

// newToken is 256 bits from crypto/rand, as URL-safe text.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// resolveAdminToken returns the token that guards every state change:
// the configured one, or else the one this data directory (alone) or the
// cluster (on Redis, so that every node takes the same) has, made on the
// first start. where says where it is kept, "" for a configured one.
func resolveAdminToken(ctx context.Context, configured, dataDir string, rdb *goredis.Client, key string) (token, where string, err error) {
	if configured != "" {
		return configured, "", nil
	}
	if rdb != nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rdb.SetNX(ctx, key, newToken(), 0).Err(); err != nil {
			return "", "", fmt.Errorf("cannot keep the admin token in Redis (%w): give one with --admin-token", err)
		}
		tok, err := rdb.Get(ctx, key).Result()
		if err != nil {
			return "", "", fmt.Errorf("cannot read the admin token from Redis (%w): give one with --admin-token", err)
		}
		return tok, "redis key " + key, nil
	}
	path := filepath.Join(dataDir, adminTokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "":
		return strings.TrimSpace(string(b)), path, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("cannot read the admin token in %s: %w: fix its permissions or give one with --admin-token", path, err)
	}
	tok := newToken()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("cannot create the data directory %s: %w: pass a writable --data-dir", dataDir, err)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("cannot write the admin token to %s: %w: pass a writable --data-dir or give one with --admin-token", path, err)
	}
	return tok, path, nil
}
