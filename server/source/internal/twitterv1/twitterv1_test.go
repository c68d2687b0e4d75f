package twitterv1_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ChimeraCoder/anaconda"

	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/internal/twitterv1"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// The full texts behind the fixtures, as the author typed them.
const (
	normalText = "Doors are open at #GoConf! Coffee & stroopwafels in the hall, first talk at 10:00 → https://t.co/k3Yq9ZpXwA #golang"
	extText    = "Thread-safe <sync.Map> vs a plain map & a mutex: my rule of thumb after today's #GoConf talk. " +
		"Start with the mutex, measure, and only reach for sync.Map when keys are written once and read by many goroutines. " +
		"Benchmarks beat intuition every single time. #Go #GoConf #Concurrency 🚀"
	genericsText = "¡Increíble la charla sobre genéricos en #GoConf! Por fin entiendo los type parameters " +
		"y por qué tardaron tanto en llegar. Las diapositivas estarán online esta tarde. #golang #Genéricos 🎉🎉"
)

func at(h, m, s int) time.Time { return time.Date(2019, time.April, 25, h, m, s, 0, time.UTC) }

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		wantOK bool
		want   tweet.Update
	}{
		{
			name:   "normal status",
			file:   "normal.jsonl",
			wantOK: true,
			want: tweet.Post(tweet.Tweet{
				ID:        "twitter:1121338611069906945",
				Source:    "twitter",
				User:      "marta_codes",
				Name:      "Marta Kowalska",
				Picture:   "https://pbs.twimg.com/profile_images/1098765432101234567/aB3dE5fG_normal.jpg",
				Text:      normalText,
				CreatedAt: at(9, 2, 13),
				Hashtags:  []string{"goconf", "golang"},
				Lang:      "en",
				URL:       "https://twitter.com/marta_codes/status/1121338611069906945",
				Entities: []tweet.Entity{
					{Kind: "hashtag", Start: 18, End: 25, Href: "https://twitter.com/hashtag/GoConf"},
					{Kind: "url", Start: 84, End: 107, Href: "https://goconf.example/schedule", Display: "goconf.example/schedule"},
					{Kind: "hashtag", Start: 108, End: 115, Href: "https://twitter.com/hashtag/golang"},
				},
			}),
		},
		{
			name:   "extended-mode status with 280-character full_text",
			file:   "extended.jsonl",
			wantOK: true,
			want: tweet.Post(tweet.Tweet{
				ID:        "twitter:1121363500069842946",
				Source:    "twitter",
				User:      "alexwrites",
				Name:      "Alex Chen",
				Picture:   "https://pbs.twimg.com/profile_images/1023456789012345678/qWeRtY12_normal.jpg",
				Text:      extText,
				CreatedAt: at(10, 41, 7),
				Hashtags:  []string{"goconf", "go", "concurrency"},
				Lang:      "en",
				URL:       "https://twitter.com/alexwrites/status/1121363500069842946",
				Entities: []tweet.Entity{
					{Kind: "hashtag", Start: 80, End: 87, Href: "https://twitter.com/hashtag/GoConf"},
					{Kind: "hashtag", Start: 254, End: 257, Href: "https://twitter.com/hashtag/Go"},
					{Kind: "hashtag", Start: 258, End: 265, Href: "https://twitter.com/hashtag/GoConf"},
					{Kind: "hashtag", Start: 266, End: 278, Href: "https://twitter.com/hashtag/Concurrency"},
				},
			}),
		},
		{
			name:   "truncated status with extended_tweet",
			file:   "truncated.jsonl",
			wantOK: true,
			want: tweet.Post(tweet.Tweet{
				ID:        "twitter:1121372203250642947",
				Source:    "twitter",
				User:      "carmen_go",
				Name:      "Carmen Ruiz 🐹",
				Picture:   "https://pbs.twimg.com/profile_images/1112223334445556667/Xk9_Lm2p_normal.jpg",
				Text:      genericsText,
				CreatedAt: at(11, 15, 42),
				Hashtags:  []string{"goconf", "golang", "genéricos"},
				Lang:      "es",
				URL:       "https://twitter.com/carmen_go/status/1121372203250642947",
				Entities: []tweet.Entity{
					{Kind: "hashtag", Start: 40, End: 47, Href: "https://twitter.com/hashtag/GoConf"},
					{Kind: "hashtag", Start: 166, End: 173, Href: "https://twitter.com/hashtag/golang"},
					{Kind: "hashtag", Start: 174, End: 184, Href: "https://twitter.com/hashtag/Gen%C3%A9ricos"},
				},
			}),
		},
		{
			name:   "retweet of an extended status",
			file:   "retweet_extended.jsonl",
			wantOK: true,
			want: tweet.Post(tweet.Tweet{
				ID:        "twitter:1121372819813330948",
				Source:    "twitter",
				User:      "gopher_fan_99",
				Name:      "Sam Østergaard",
				Picture:   "https://pbs.twimg.com/profile_images/987654321098765432/zzTop_01_normal.jpg",
				Text:      "RT @carmen_go: " + genericsText,
				CreatedAt: at(11, 18, 9),
				Hashtags:  []string{"goconf", "golang", "genéricos"},
				Lang:      "es",
				URL:       "https://twitter.com/gopher_fan_99/status/1121372819813330948",
				Retweet:   true,
				RepostOf: &tweet.Original{
					User: "carmen_go", Name: "Carmen Ruiz 🐹", ID: "twitter:1121372203250642947",
					URL: "https://twitter.com/carmen_go/status/1121372203250642947", Reposts: 1284,
				},
				// The original's entities, moved past "RT @carmen_go: ".
				Entities: []tweet.Entity{
					{Kind: "mention", Start: 3, End: 13, Href: "https://twitter.com/carmen_go"},
					{Kind: "hashtag", Start: 55, End: 62, Href: "https://twitter.com/hashtag/GoConf"},
					{Kind: "hashtag", Start: 181, End: 188, Href: "https://twitter.com/hashtag/golang"},
					{Kind: "hashtag", Start: 189, End: 199, Href: "https://twitter.com/hashtag/Gen%C3%A9ricos"},
				},
			}),
		},
		{
			name:   "status deletion notice",
			file:   "delete.jsonl",
			wantOK: true,
			want:   tweet.Delete("twitter:1121338611069894657"),
		},
		{name: "limit notice is ignored", file: "limit.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok, err := twitterv1.Decode(sourcetest.Fixture(t, tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok {
				assertEvent(t, ev, tt.want)
			}
		})
	}
}

// assertEvent compares field by field so a failure names the field, and
// compares times with Equal plus an explicit check that they are in UTC.
func assertEvent(t *testing.T, got, want tweet.Update) {
	t.Helper()
	if got.Kind != want.Kind || got.ID != want.ID {
		t.Fatalf("event = {Kind:%v ID:%q}, want {Kind:%v ID:%q}", got.Kind, got.ID, want.Kind, want.ID)
	}
	g, w := got.Tweet, want.Tweet
	if !g.CreatedAt.Equal(w.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", g.CreatedAt, w.CreatedAt)
	}
	if want.Kind == tweet.KindPost && g.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", g.CreatedAt.Location())
	}
	if want.Kind == tweet.KindPost && g.Hashtags == nil {
		t.Error("Hashtags is nil, want a non-nil slice")
	}
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if name == "CreatedAt" {
			continue
		}
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("%s = %#v\n\twant %#v", name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func TestDecodeNeverShowsTruncatedText(t *testing.T) {
	for _, file := range []string{"extended.jsonl", "truncated.jsonl", "retweet_extended.jsonl"} {
		t.Run(file, func(t *testing.T) {
			ev, _, err := twitterv1.Decode(sourcetest.Fixture(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(ev.Tweet.Text, "…") {
				t.Errorf("Text %q has Twitter's truncation ellipsis", ev.Tweet.Text)
			}
			if strings.Contains(ev.Tweet.Text, "&amp;") || strings.Contains(ev.Tweet.Text, "&lt;") {
				t.Errorf("Text %q still has HTML escapes", ev.Tweet.Text)
			}
		})
	}
	if n := utf8.RuneCountInString(extText); n != 280 {
		t.Fatalf("extended fixture text has %d characters, want 280 (the fixture is meant to be at the limit)", n)
	}
}

func TestDecodeFixtureLines(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantErr string
	}{
		{name: "keep-alive lines are skipped", file: "keepalive.jsonl"},
		{name: "line cut off mid-object is an error", file: "malformed.jsonl", wantErr: "not one complete JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := bytes.Split(sourcetest.Fixture(t, tt.file), []byte("\n"))
			for i, line := range lines {
				if i == len(lines)-1 && len(line) == 0 {
					break // after the last newline
				}
				ev, ok, err := twitterv1.Decode(line)
				if ok || ev.Kind != 0 {
					t.Errorf("line %d: Decode = %+v, ok, want nothing", i+1, ev)
				}
				if tt.wantErr == "" && err != nil {
					t.Errorf("line %d: err = %v, want nil", i+1, err)
				}
				if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Errorf("line %d: err = %v, want one containing %q", i+1, err, tt.wantErr)
				}
			}
		})
	}
}

// minimal is the least a status needs to decode.
const minimal = `{"created_at":"Thu Apr 25 09:00:00 +0000 2019","id":1,"id_str":"1","text":"hi","user":{"screen_name":"a"}`

func TestDecodeLines(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		wantOK  bool
		want    tweet.Update
		wantErr string // a substring; empty means no error
	}{
		// Keep-alives and messages the wall has no use for.
		{name: "empty line", line: ""},
		{name: "spaces and CR", line: " \t\r"},
		{name: "stall warning", line: `{"warning":{"code":"FALLING_BEHIND","message":"Your connection is falling behind and messages are being queued for delivery to you. Your queue is now over 60% full. You will be disconnected when the queue is full.","percent_full":60}}`},
		{name: "scrub_geo", line: `{"scrub_geo":{"user_id":14090452,"user_id_str":"14090452","up_to_status_id":23260136625,"up_to_status_id_str":"23260136625"}}`},
		{name: "status_withheld", line: `{"status_withheld":{"id":1234567890,"user_id":123456,"withheld_in_countries":["DE","AR"]}}`},
		{name: "user_withheld", line: `{"user_withheld":{"id":123456,"withheld_in_countries":["DE","AR"]}}`},
		{name: "disconnect", line: `{"disconnect":{"code":4,"stream_name":"tweetwire-filter","reason":"Stall detected"}}`},
		{name: "friends list", line: `{"friends":[1497,169686021,790205]}`},
		{name: "user event", line: `{"event":"favorite","created_at":"Thu Apr 25 09:00:00 +0000 2019","source":{"id":1},"target":{"id":2}}`},
		{name: "direct message deletion", line: `{"delete":{"direct_message":{"id":1234,"user_id":3}}}`},
		{name: "unknown message", line: `{"something_new":{"x":1}}`},

		// Deletes.
		{
			name:   "delete with only a numeric id keeps every digit",
			line:   `{"delete":{"status":{"id":1121338611069894657,"user_id":3}}}`,
			wantOK: true,
			want:   tweet.Delete("twitter:1121338611069894657"),
		},
		{name: "delete without an id", line: `{"delete":{"status":{"user_id":3}}}`, wantErr: "no status id"},
		{name: "delete with a non-numeric id", line: `{"delete":{"status":{"id_str":"12a"}}}`, wantErr: "not a number"},

		// Statuses.
		{
			name:   "minimal status",
			line:   minimal + `}`,
			wantOK: true,
			want: tweet.Post(tweet.Tweet{
				ID: "twitter:1", Source: "twitter", User: "a", Text: "hi",
				CreatedAt: time.Date(2019, 4, 25, 9, 0, 0, 0, time.UTC), Hashtags: []string{},
				URL: "https://twitter.com/a/status/1",
			}),
		},
		{
			name:   "byte order mark before the first line",
			line:   "\xef\xbb\xbf" + minimal + `}`,
			wantOK: true,
			want: tweet.Post(tweet.Tweet{
				ID: "twitter:1", Source: "twitter", User: "a", Text: "hi",
				CreatedAt: time.Date(2019, 4, 25, 9, 0, 0, 0, time.UTC), Hashtags: []string{},
				URL: "https://twitter.com/a/status/1",
			}),
		},
		{name: "status without id_str", line: `{"id":1,"text":"hi","user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}`, wantErr: "no id_str"},
		{name: "status with a non-numeric id_str", line: `{"id_str":"abc","text":"hi","user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}`, wantErr: "not a number"},
		{name: "status without a user", line: `{"id_str":"1","text":"hi","created_at":"Thu Apr 25 09:00:00 +0000 2019"}`, wantErr: "no user.screen_name"},
		{name: "status with an ISO date", line: `{"id_str":"1","text":"hi","user":{"screen_name":"a"},"created_at":"2019-04-25T09:00:00Z"}`, wantErr: "created_at"},
		{name: "status with a wrongly typed field", line: minimal + `,"favorite_count":"many"}`, wantErr: "field types"},
		{
			// anaconda slices full_text by this range unchecked and panics.
			name:    "display_text_range past the end of full_text",
			line:    `{"id_str":"1","full_text":"hi","display_text_range":[0,50],"user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}`,
			wantErr: "display_text_range",
		},
		{
			name:    "bad display_text_range in a nested retweet",
			line:    minimal + `,"retweeted_status":{"full_text":"x","display_text_range":[3,1]}}`,
			wantErr: "display_text_range",
		},

		// Not JSON objects.
		{name: "cut-off object", line: `{"id_str":"1","text":"h`, wantErr: "not one complete JSON object"},
		{name: "two objects on one line", line: minimal + `}` + minimal + `}`, wantErr: "not one complete JSON object"},
		{name: "array", line: `[1,2,3]`, wantErr: "not a JSON object"},
		{name: "string", line: `"hello"`, wantErr: "not a JSON object"},
		{name: "null", line: `null`, wantErr: "not a JSON object"},
		{name: "plain text", line: `hello world`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok, err := twitterv1.Decode([]byte(tt.line))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok {
				assertEvent(t, ev, tt.want)
			}
		})
	}
}

type hashtagEntity = struct {
	Indices []int  `json:"indices"`
	Text    string `json:"text"`
}

func entities(tags ...string) anaconda.Entities {
	var e anaconda.Entities
	for _, tag := range tags {
		e.Hashtags = append(e.Hashtags, hashtagEntity{Text: tag})
	}
	return e
}

// base is a status as anaconda hands it over, built without JSON so that
// Normalize is tested on values anaconda's UnmarshalJSON has not touched.
func base() anaconda.Tweet {
	return anaconda.Tweet{
		IdStr:     "42",
		CreatedAt: "Thu Apr 25 09:00:00 +0000 2019",
		Text:      "short text",
		Lang:      "en",
		User: anaconda.User{
			ScreenName:           "gopher",
			Name:                 "Gopher",
			ProfileImageUrlHttps: "https://pbs.twimg.com/profile_images/1/g_normal.png",
			ProfileImageURL:      "http://pbs.twimg.com/profile_images/1/g_normal.png",
		},
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*anaconda.Tweet)
		check  func(*testing.T, tweet.Tweet)
		errHas string
	}{
		{
			name: "maps every field",
			edit: func(*anaconda.Tweet) {},
			check: func(t *testing.T, got tweet.Tweet) {
				want := tweet.Tweet{
					ID: "twitter:42", Source: "twitter", User: "gopher", Name: "Gopher",
					Picture:   "https://pbs.twimg.com/profile_images/1/g_normal.png",
					Text:      "short text",
					CreatedAt: time.Date(2019, 4, 25, 9, 0, 0, 0, time.UTC),
					Hashtags:  []string{}, Lang: "en",
					URL: "https://twitter.com/gopher/status/42",
				}
				assertEvent(t, tweet.Post(got), tweet.Post(want))
			},
		},
		{
			name: "picture falls back to the http URL",
			edit: func(tw *anaconda.Tweet) { tw.User.ProfileImageUrlHttps = "" },
			check: func(t *testing.T, got tweet.Tweet) {
				if got.Picture != "http://pbs.twimg.com/profile_images/1/g_normal.png" {
					t.Errorf("Picture = %q", got.Picture)
				}
			},
		},
		{
			name: "full_text wins over text",
			edit: func(tw *anaconda.Tweet) { tw.FullText = "the full text" },
			check: func(t *testing.T, got tweet.Tweet) {
				if got.Text != "the full text" {
					t.Errorf("Text = %q", got.Text)
				}
			},
		},
		{
			name: "extended_tweet wins, with its own hashtags",
			edit: func(tw *anaconda.Tweet) {
				tw.Text = "cut #A…"
				tw.FullText = "cut #A…"
				tw.Entities = entities("A")
				tw.ExtendedTweet = anaconda.ExtendedTweet{FullText: "cut #A no more #B #a", Entities: entities("A", "B", "a")}
			},
			check: func(t *testing.T, got tweet.Tweet) {
				if got.Text != "cut #A no more #B #a" {
					t.Errorf("Text = %q", got.Text)
				}
				if !reflect.DeepEqual(got.Hashtags, []string{"a", "b"}) {
					t.Errorf("Hashtags = %q, want [a b]", got.Hashtags)
				}
			},
		},
		{
			name: "hashtags from entities, lower-case and deduplicated",
			edit: func(tw *anaconda.Tweet) { tw.Entities = entities("GoConf", "golang", "GOCONF") },
			check: func(t *testing.T, got tweet.Tweet) {
				if !reflect.DeepEqual(got.Hashtags, []string{"goconf", "golang"}) {
					t.Errorf("Hashtags = %q", got.Hashtags)
				}
			},
		},
		{
			name: "Twitter's HTML escapes are undone once",
			edit: func(tw *anaconda.Tweet) {
				tw.Text = "a &lt;3 b &amp; c &gt; d, typed: &amp;lt; &amp;amp; &quot;q&quot;"
			},
			check: func(t *testing.T, got tweet.Tweet) {
				if want := `a <3 b & c > d, typed: &lt; &amp; &quot;q&quot;`; got.Text != want {
					t.Errorf("Text = %q, want %q", got.Text, want)
				}
			},
		},
		{
			name: "created_at in another zone is converted to UTC",
			edit: func(tw *anaconda.Tweet) { tw.CreatedAt = "Thu Apr 25 11:00:00 +0200 2019" },
			check: func(t *testing.T, got tweet.Tweet) {
				want := time.Date(2019, 4, 25, 9, 0, 0, 0, time.UTC)
				if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
					t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
				}
			},
		},
		{
			name: "retweet shows the original's full text and hashtags",
			edit: func(tw *anaconda.Tweet) {
				tw.Text = "RT @orig: the original, cut to 140 characters…"
				tw.Entities = entities("Cut")
				tw.Lang = ""
				tw.RetweetedStatus = &anaconda.Tweet{
					IdStr:         "7",
					Text:          "the original, cut…",
					Entities:      entities("Cut"),
					ExtendedTweet: anaconda.ExtendedTweet{FullText: "the original, whole &amp; well #Full #Tags", Entities: entities("Full", "Tags")},
					Lang:          "de",
					User:          anaconda.User{ScreenName: "orig"},
				}
			},
			check: func(t *testing.T, got tweet.Tweet) {
				if want := "RT @orig: the original, whole & well #Full #Tags"; got.Text != want {
					t.Errorf("Text = %q, want %q", got.Text, want)
				}
				if !got.Retweet {
					t.Error("Retweet = false, want true")
				}
				if !reflect.DeepEqual(got.Hashtags, []string{"full", "tags"}) {
					t.Errorf("Hashtags = %q, want [full tags]", got.Hashtags)
				}
				if got.Lang != "de" {
					t.Errorf("Lang = %q, want the original's when the retweet has none", got.Lang)
				}
				if got.ID != "twitter:42" || got.User != "gopher" || got.URL != "https://twitter.com/gopher/status/42" {
					t.Errorf("ID/User/URL = %q/%q/%q, want the retweet's own", got.ID, got.User, got.URL)
				}
			},
		},
		{name: "no id_str", edit: func(tw *anaconda.Tweet) { tw.IdStr = "" }, errHas: "no id_str"},
		{name: "no screen name", edit: func(tw *anaconda.Tweet) { tw.User.ScreenName = "" }, errHas: "no user.screen_name"},
		{name: "empty created_at", edit: func(tw *anaconda.Tweet) { tw.CreatedAt = "" }, errHas: "created_at"},
		{name: "created_at in the wrong layout", edit: func(tw *anaconda.Tweet) { tw.CreatedAt = "Thu, 25 Apr 2019 09:00:00 GMT" }, errHas: "created_at"},
		{
			name:   "retweet of a status with no author",
			edit:   func(tw *anaconda.Tweet) { tw.RetweetedStatus = &anaconda.Tweet{Text: "x"} },
			errHas: "retweets a status with no user.screen_name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := base()
			tt.edit(&tw)
			got, err := twitterv1.Normalize(tw)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			tt.check(t, got)
		})
	}
}

// TestDecodeRichStatus reads a status whose text has astral emoji, accents,
// CJK, Arabic and escaped markup before its links, so that Twitter's code
// point indices, Tweetwire's unescaped text and the UTF-16 offsets clients
// use all differ: the entities must still cover the right words.
func TestDecodeRichStatus(t *testing.T) {
	ev, ok, err := twitterv1.Decode(sourcetest.Fixture(t, "rich.jsonl"))
	if err != nil || !ok {
		t.Fatalf("Decode = ok %v, err %v", ok, err)
	}
	sourcetest.CheckEvent(t, ev, "twitter")
	tw := ev.Tweet
	if !strings.Contains(tw.Text, "& <welcome> →") {
		t.Fatalf("Text = %q, want its HTML escapes undone", tw.Text)
	}
	want := []string{
		"hashtag #GoConf -> https://twitter.com/hashtag/GoConf",
		"mention @marta_codes -> https://twitter.com/marta_codes",
		"url https://t.co/AbCdEf1234 -> https://goconf.example/2026/slides/día-2?lang=ja [goconf.example/2026/slides/dí…]",
		// The javascript: link is left as text.
		"url https://t.co/PhotoPh0to -> https://twitter.com/marta_codes/status/1121400000000000001/photo/1 [pic.twitter.com/PhotoPh0to]",
	}
	if got := sourcetest.Links(t, tw); !reflect.DeepEqual(got, want) {
		t.Errorf("entities:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	wantMedia := []tweet.Media{
		{Type: "photo", URL: "https://pbs.twimg.com/media/D5aBcDeF.jpg", Alt: "Stage of GoConf Tokyo: a speaker in front of a slide reading «こんにちは»", Width: 2048, Height: 1365},
		{Type: "video", URL: "https://twitter.com/marta_codes/status/1121400000000000001/video/2", Preview: "https://pbs.twimg.com/ext_tw_video_thumb/2/pu/img/Vid30.jpg", Width: 1280, Height: 720},
	}
	if !reflect.DeepEqual(tw.Media, wantMedia) {
		t.Errorf("Media = %+v\n\twant %+v", tw.Media, wantMedia)
	}
}
