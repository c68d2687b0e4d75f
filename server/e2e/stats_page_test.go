package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A three-day event on the stats page, on a phone (375 px) and a laptop:
// the timeline sums minutes into hours (no hairline bars), its axis names
// the days, and its labels keep a readable size.
func TestStatsPageOfALongEvent(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	start := time.Date(2026, 11, 23, 5, 51, 0, 0, time.UTC)
	n := 0
	for m := 0; m < 3*24*60; m += 17 {
		n++
		line, _ := json.Marshal(map[string]any{
			"id_str": fmt.Sprint(5000 + n), "id": 5000 + n, "lang": "de",
			"text":       fmt.Sprintf("Tag %d, Beitrag %d — Grüße 👋 #GoConf", m/1440+1, n),
			"created_at": start.Add(time.Duration(m) * time.Minute).Format(time.RubyDate),
			"user":       map[string]any{"screen_name": fmt.Sprintf("gast%d", n%13), "name": "Gäst"},
			"entities":   map[string]any{"hashtags": []any{map[string]any{"text": "GoConf"}}},
		})
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "three-days.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--source", "replay", "--replay-file", path, "--replay-rate", "0", "--event", "three-days")
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	deadline := time.Now().Add(20 * time.Second)
	for storedPosts(t, srv) != n {
		if time.Now().After(deadline) {
			t.Fatalf("the store never held the %d posts\n%s", n, srv.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, width := range []int{375, 1280} {
		t.Run(fmt.Sprint(width, "px"), func(t *testing.T) {
			out, err := exec.Command("node", filepath.Join(nodeModules(t), "stats-check.mjs"), "--url", srv.URL+"/stats", "--width", fmt.Sprint(width)).Output()
			if err != nil {
				t.Fatalf("stats-check: %v\n%s", err, out)
			}
			var shown struct {
				Total        string
				Bucket       int
				TimelineBars int
				Ticks        []string
				TickPx       float64
				PageErrors   []string
			}
			if err := json.Unmarshal(out, &shown); err != nil {
				t.Fatalf("stats-check printed %q: %v", out, err)
			}
			if shown.Total != fmt.Sprintf("%d", n) && shown.Total != fmt.Sprintf("%d,%03d", n/1000, n%1000) {
				t.Errorf("total %q, want %d", shown.Total, n)
			}
			// Bars at least 4 px apart: no hairlines.
			if shown.Bucket <= 1 || shown.TimelineBars*4 > width {
				t.Errorf("a three-day timeline drawn as %d bars of %d minutes at %d px: hairline bars", shown.TimelineBars, shown.Bucket, width)
			}
			days := regexp.MustCompile(`2[3-6]`)
			dated := 0
			for _, tick := range shown.Ticks {
				if days.MatchString(tick) {
					dated++
				}
			}
			if len(shown.Ticks) < 2 || dated != len(shown.Ticks) {
				t.Errorf("axis labels %q: each must name its day", shown.Ticks)
			}
			if shown.TickPx < 11 {
				t.Errorf("axis labels drawn %.1f px tall at %d px wide: unreadable", shown.TickPx, width)
			}
			if len(shown.PageErrors) > 0 {
				t.Errorf("page errors %v", shown.PageErrors)
			}
		})
	}
}
