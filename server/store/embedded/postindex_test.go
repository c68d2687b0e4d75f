package embedded

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// post is a stored post as far as the index reads it (store.postDoc).
type post struct {
	ID        string    `bson:"_id"`
	Event     string    `bson:"event"`
	Text      string    `bson:"text"`
	CreatedAt time.Time `bson:"created_at"`
}

// startWith starts a server in a temporary directory and inserts posts into
// collection "posts" of database "tweetwire".
func startWith(t *testing.T, posts []post) (*Server, *mongo.Collection) {
	t.Helper()
	return startIn(t, t.TempDir(), posts)
}

func startIn(t *testing.T, dir string, posts []post) (*Server, *mongo.Collection) {
	t.Helper()
	srv, err := Start(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("tweetwire").Collection("posts")
	for _, p := range posts {
		if _, err := coll.InsertOne(t.Context(), p); err != nil {
			t.Fatalf("insert %s: %v", p.ID, err)
		}
	}
	return srv, coll
}

func openIndex(t *testing.T, srv *Server, database string) *PostIndex {
	t.Helper()
	x, err := srv.PostIndex(database, "posts", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x
}

// worldPosts are posts of two events as a wall sees them: several in the
// same millisecond, ids that sort differently as bytes and as numbers,
// text in many scripts.
func worldPosts() []post {
	base := time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC)
	texts := []string{"Bonjour à tous 👋", "東京からこんにちは", "مرحبا بالعالم", "Grüße aus Zürich 🇨🇭", "नमस्ते", "😀😃😄"}
	var out []post
	for i := range 60 {
		event := "GoConf 2026 ☕"
		if i%4 == 3 {
			event = "Rencontre Gophers à Montréal"
		}
		out = append(out, post{
			ID:    fmt.Sprintf("%s:%d", []string{"twitter", "bluesky", "mastodon"}[i%3], i*7%61),
			Event: event,
			Text:  texts[i%len(texts)],
			// Groups of five share a millisecond.
			CreatedAt: base.Add(time.Duration(i/5) * time.Millisecond),
		})
	}
	return out
}

// newestFirst is the store's order: created_at, then _id, descending.
func newestFirst(posts []post, event string) []string {
	var sel []post
	for _, p := range posts {
		if p.Event == event {
			sel = append(sel, p)
		}
	}
	slices.SortFunc(sel, func(a, b post) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	ids := make([]string, len(sel))
	for i, p := range sel {
		ids[i] = p.ID
	}
	return ids
}

// Paging from every post on gives what follows it in the store's order,
// within its event only, across posts of the same millisecond.
func TestPostIndexOrder(t *testing.T) {
	posts := worldPosts()
	srv, _ := startWith(t, posts)
	x := openIndex(t, srv, "tweetwire")
	ctx := t.Context()
	for _, event := range []string{"GoConf 2026 ☕", "Rencontre Gophers à Montréal", "nobody's event"} {
		want := newestFirst(posts, event)
		n, err := x.Count(ctx, event)
		if err != nil || n != int64(len(want)) {
			t.Errorf("Count(%q) = %d, %v; want %d", event, n, err, len(want))
		}
		got, err := x.RecentIDs(ctx, event, 1000, time.Time{}, "")
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("RecentIDs(%q) = %q, %v\nwant %q", event, got, err, want)
		}
		byID := map[string]post{}
		for _, p := range posts {
			byID[p.ID] = p
		}
		for i, id := range want {
			page, err := x.RecentIDs(ctx, event, 7, byID[id].CreatedAt, id)
			if w := want[i+1 : min(i+8, len(want))]; err != nil || !slices.Equal(page, w) {
				t.Errorf("RecentIDs(%q, 7, before %s) = %q, %v; want %q", event, id, page, err, w)
			}
		}
	}
}

// The queries seek indexes, FerretDB's lookups by _id included: none reads
// the whole table.
func TestPostIndexPlans(t *testing.T) {
	srv, _ := startWith(t, worldPosts())
	x := openIndex(t, srv, "tweetwire")
	table, err := x.prepare(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		args        []any
		seek        string // what the plan must say it seeks
	}{
		{"newest", recentQuery(table, false), []any{"e", 1}, "(<expr>=?)"},
		{"deep page", recentQuery(table, true), []any{"e", 0, 0, "x", 1}, "(<expr>=? AND <expr><?)"},
		{"count", countQuery(table), []any{"e"}, "(<expr>=?)"},
		// What FerretDB 1.24 runs for {_id: v} (sqlite/collection.go).
		{"FerretDB's _id lookup", fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), []any{`"twitter:1"`}, "(<expr>=?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := x.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH ") || !strings.Contains(plan[0], "INDEX "+table+"_tweetwire_") ||
				!strings.HasSuffix(plan[0], tt.seek) {
				t.Errorf("plan %q: want one SEARCH of a tweetwire index on %s", plan, tt.seek)
			}
		})
	}
}

// An index on a database that does not exist, or whose collection does
// not, fails (the store then takes the slow path) and creates nothing.
func TestPostIndexMissing(t *testing.T) {
	srv, coll := startWith(t, nil)
	if _, err := coll.Database().Collection("events").InsertOne(t.Context(), bson.D{{Key: "_id", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, database string }{
		{"no database file", "typo"},
		{"no posts collection yet", "tweetwire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := openIndex(t, srv, tt.database)
			if ids, err := x.RecentIDs(t.Context(), "e", 10, time.Time{}, ""); err == nil {
				t.Errorf("RecentIDs = %q, no error", ids)
			}
			if n, err := x.Count(t.Context(), "e"); err == nil {
				t.Errorf("Count = %d, no error", n)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(srv.dir, "typo.sqlite")); !os.IsNotExist(err) {
		t.Errorf("the index created a database file: %v", err)
	}
}

// The database file is found in a directory whose name a URI must escape.
// ('#' and '?' are left out: FerretDB 1.24 itself writes its file
// elsewhere then, since it puts the path into its URI unescaped; the
// index then fails, and the store falls back.)
func TestPostIndexDirectoryName(t *testing.T) {
	posts := worldPosts()
	srv, _ := startIn(t, filepath.Join(t.TempDir(), "mes données/100% ферма"), posts)
	x := openIndex(t, srv, "tweetwire")
	want := newestFirst(posts, "GoConf 2026 ☕")
	if n, err := x.Count(t.Context(), "GoConf 2026 ☕"); err != nil || n != int64(len(want)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(want))
	}
}
