package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
)

func TestCorpus(t *testing.T) {
	c := corpus{N: 2000, Seed: 1, Start: eventStart, Span: eventSpan}
	posts := c.posts()
	if len(posts) != c.N {
		t.Fatalf("%d posts, want %d", len(posts), c.N)
	}
	if !reflect.DeepEqual(c.posts(), posts) {
		t.Errorf("the same corpus gave different posts")
	}

	ids, authors, tags := map[string]bool{}, map[string]int{}, map[string]bool{}
	retweets := 0
	first, last := posts[0].CreatedAt, posts[0].CreatedAt
	for _, p := range posts {
		if ids[p.ID] {
			t.Fatalf("id %s repeats: saves would be duplicates", p.ID)
		}
		ids[p.ID] = true
		if !strings.HasPrefix(p.ID, p.Source+":") {
			t.Errorf("id %s does not start with its source %s", p.ID, p.Source)
		}
		authors[store.AuthorKey(p.Source, p.User)]++
		for _, h := range p.Hashtags {
			tags[h] = true
		}
		if p.Retweet {
			retweets++
		}
		if p.CreatedAt.Before(first) {
			first = p.CreatedAt
		}
		if p.CreatedAt.After(last) {
			last = p.CreatedAt
		}
	}
	if n := len(authors); n < c.N/20/3 || n > c.N/20 {
		t.Errorf("%d distinct authors, want about N/20 = %d", n, c.N/20)
	}
	if most := maxValue(authors); most < c.N/100 {
		t.Errorf("the most active author wrote %d posts: want a few very active ones", most)
	}
	if len(tags) < 10 {
		t.Errorf("only %d distinct hashtags", len(tags))
	}
	if share := float64(retweets) / float64(c.N); share < 0.2 || share > 0.4 {
		t.Errorf("repost share %.2f, want about 0.3", share)
	}
	if spread := last.Sub(first); spread < c.Span-time.Minute || spread > c.Span+time.Minute {
		t.Errorf("posts spread over %v, want about %v", spread, c.Span)
	}
}

func maxValue(m map[string]int) int {
	most := 0
	for _, v := range m {
		most = max(most, v)
	}
	return most
}
