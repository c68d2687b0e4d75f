// Package demo is a tweet.Source of made-up posts, for trying Tweetwire
// without credentials or network access and for testing the wall under a
// steady load. Everything it makes is marked as demo data: the source is
// "demo" and every display name ends with " (demo)", so nobody mistakes it
// for real people's posts.
package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"html"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/source/internal/rich"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// sourceName is the Tweet.Source of every demo post.
const sourceName = "demo"

// MaxRate is the highest rate New accepts. Beyond it the ticker interval
// nears the scheduler's resolution and the wall could not show the posts
// anyway.
const MaxRate = 1000

// maxText is the longest text a demo post gets, as on Twitter.
const maxText = 280

// Config says how the demo behaves. Zero values mean "use the default".
type Config struct {
	// Rate is in posts per second; 0 means 1.
	Rate float64
	// Track are the terms the wall follows. Every post carries one of
	// them, so the demo passes any filter on them: a single word (with
	// or without "#") as a hashtag, a phrase in the text. With none, the
	// posts are about "#GoConf".
	Track []string
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
	// Seed makes the posts reproducible; 0 seeds from the clock so that
	// each run shows different posts.
	Seed uint64
	// Logger gets a line when Run starts; nil means slog.Default(), as
	// for every source.
	Logger *slog.Logger
}

// Source makes up posts. It holds no resources and is safe to Run again.
type Source struct {
	interval time.Duration
	now      func() time.Time
	seed     uint64
	tags     []string // tracked terms usable as hashtags, without "#"
	phrases  []string // tracked terms that are not one word
	rate     float64
	log      *slog.Logger
}

var _ tweet.Source = (*Source)(nil)

// New checks cfg and fills in the defaults. Its errors are
// *tweet.FieldError about the Config field at fault.
func New(cfg Config) (*Source, error) {
	// !(x >= 0) also catches NaN.
	if !(cfg.Rate >= 0) || cfg.Rate > MaxRate {
		return nil, tweet.FieldErrorf("Rate", tweet.EINVALID,
			"rate %v is out of range: give posts per second, above 0 and up to %d, or 0 for the default of 1", cfg.Rate, MaxRate)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Rate == 0 {
		cfg.Rate = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Source{
		interval: time.Duration(float64(time.Second) / cfg.Rate),
		now:      cfg.Now,
		seed:     cfg.Seed,
		rate:     cfg.Rate,
		log:      cfg.Logger,
	}
	for _, term := range cfg.Track {
		term = strings.TrimSpace(term)
		switch tag := strings.TrimLeft(term, "#＃"); {
		case term == "" || tag == "":
		case isHashtag(tag):
			d.tags = append(d.tags, tag)
		default:
			d.phrases = append(d.phrases, term)
		}
	}
	if len(d.tags) == 0 && len(d.phrases) == 0 {
		d.tags = []string{"GoConf"}
	}
	return d, nil
}

// isHashtag reports whether s can follow "#" as one hashtag: letters,
// digits and underscores with at least one letter, as Twitter requires.
func isHashtag(s string) bool {
	letter := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r):
		default:
			return false
		}
	}
	return letter
}

// Run emits a post at once and then one every 1/Rate seconds until ctx is
// done. It never fails on its own.
func (d *Source) Run(ctx context.Context, sink tweet.Sink) error {
	d.log.Info("demo: making up posts", "per_second", d.rate)
	sink.SetState(tweet.StateRunning, nil)
	g := d.newGenerator()
	ticker := time.NewTicker(d.interval)
	defer ticker.Stop()
	for {
		if err := sink.Emit(ctx, tweet.Post(g.next())); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// tweet.Sink promises an error only once ctx is done.
			err = fmt.Errorf("demo: the sink refused a post: %w", err)
			sink.SetState(tweet.StateFailed, err)
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// generator makes the posts of one Run. It is not safe for concurrent use;
// each Run has its own, so a Demo is.
type generator struct {
	d    *Source
	rng  *rand.Rand
	base string // the start time in base 36, making ids unique across runs
	n    int
	// originals holds, per author, the post of theirs that retweets
	// repost now: at an event a few posts are retweeted again and again,
	// which the statistics' top posts show.
	originals map[string]*original
}

// original is a made-up post that the demo's retweets repost: it is
// never emitted itself, as the stream of a tracked term often carries only
// the retweets of a post.
type original struct {
	id, text string
	tags     []string
	links    []rich.Span
	// reposts is the count "the service" gives: it grows with each
	// retweet, faster than the retweets the demo emits, as a popular
	// post's count does with the retweets outside the event.
	reposts int64
}

func (d *Source) newGenerator() *generator {
	start := d.now()
	seed := d.seed
	if seed == 0 {
		seed = uint64(start.UnixNano())
	}
	return &generator{
		d:         d,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		base:      strconv.FormatInt(start.UnixNano(), 36),
		originals: map[string]*original{},
	}
}

// next makes up one post.
func (g *generator) next() tweet.Tweet {
	g.n++
	a := authors[g.rng.IntN(len(authors))]
	t := tweet.Tweet{
		ID:        "demo:" + g.base + "-" + strconv.Itoa(g.n),
		Source:    sourceName,
		User:      a.handle,
		Name:      a.name + " (demo)",
		Picture:   avatar(a),
		CreatedAt: g.d.now().UTC(),
	}
	// About one post in ten is a retweet, roughly Twitter's share at
	// events; the statistics page reports it.
	writer, prefix := a, ""
	if g.rng.IntN(10) == 0 {
		writer = authors[g.rng.IntN(len(authors))]
		for writer.handle == a.handle {
			writer = authors[g.rng.IntN(len(authors))]
		}
		prefix = "RT @" + writer.handle + ": "
		t.Retweet = true
	}
	var text string
	var tags []string
	var links []rich.Span
	if t.Retweet {
		o := g.original(writer, maxText-utf8.RuneCountInString(prefix))
		text, tags, links = o.text, o.tags, o.links
		t.RepostOf = &tweet.Original{
			User: writer.handle, Name: writer.name + " (demo)", ID: o.id, Reposts: o.reposts,
		}
		links = append([]rich.Span{mention(writer.handle)}, links...)
	} else {
		text, tags, links = g.compose(writer.lang, maxText)
	}
	t.Text = prefix + text
	t.Hashtags = tweet.NormalizeHashtags(tags)
	t.Lang = writer.lang
	t.Entities = place(t.Text, links)
	// One post in five shows a photo, as at a real event.
	if g.rng.IntN(5) == 0 {
		t.Media = []tweet.Media{photos[g.rng.IntN(len(photos))].media()}
	}
	return t
}

// original returns the post of writer's that a retweet reposts: the one
// before, mostly, or a new one (one time in four), its count grown.
func (g *generator) original(writer author, budget int) *original {
	o := g.originals[writer.handle]
	if o == nil || g.rng.IntN(4) == 0 {
		text, tags, links := g.compose(writer.lang, budget)
		g.n++
		o = &original{id: "demo:" + g.base + "-" + strconv.Itoa(g.n), text: text, tags: tags, links: links}
		g.originals[writer.handle] = o
	}
	o.reposts += 1 + g.rng.Int64N(40)
	return o
}

// mention links a demo author to a page that says nothing about anyone:
// the handles are made up, and a real service might have a real person
// behind the same handle.
func mention(handle string) rich.Span {
	return rich.Span{Kind: tweet.EntityMention, Literal: "@" + handle, Href: "https://example.com/demo/@" + handle}
}

// place finds links in text in the order given, as the services report
// them: with where they start.
func place(text string, links []rich.Span) []tweet.Entity {
	from := 0
	for i := range links {
		at := strings.Index(text[from:], links[i].Literal)
		if at < 0 {
			links[i].Hint = -1
			continue
		}
		links[i].Hint = utf8.RuneCountInString(text[:from+at])
		from += at + len(links[i].Literal)
	}
	return rich.Place(text, links)
}

// compose writes a text of at most budget characters (unless a tracked
// phrase alone is longer) in lang, and returns it with the hashtags it
// ends with and its links (a mention, a URL, the hashtags), in the order
// they appear. Lengths are drawn so the wall shows short and long posts.
func (g *generator) compose(lang string, budget int) (string, []string, []rich.Span) {
	// One tracked term per post: a phrase goes into the text, a tag
	// joins the tags.
	var tags []string
	var lead string
	terms := len(g.d.tags) + len(g.d.phrases)
	if i := g.rng.IntN(terms); i < len(g.d.tags) {
		tags = append(tags, g.d.tags[i])
	} else {
		lead = fmt.Sprintf(phraseSentence[lang], g.d.phrases[i-len(g.d.tags)])
	}
	// Perm draws distinct extras: "#wasm #wasm" reads as a bug.
	for _, i := range g.rng.Perm(len(extraTags))[:g.rng.IntN(3)] {
		if len(tags) == 0 || !strings.EqualFold(tags[0], extraTags[i]) {
			tags = append(tags, extraTags[i])
		}
	}

	var tail strings.Builder
	var links []rich.Span
	// Some posts mention another attendee, some link to a page.
	if g.rng.IntN(4) == 0 {
		a := authors[g.rng.IntN(len(authors))]
		tail.WriteString(" cc @" + a.handle)
		links = append(links, mention(a.handle))
	}
	if g.rng.IntN(5) == 0 {
		l := pages[g.rng.IntN(len(pages))]
		tail.WriteString(" → " + l.url)
		links = append(links, rich.Span{Kind: tweet.EntityURL, Literal: l.url, Href: l.url, Display: rich.ShortURL(l.url)})
	}
	for _, i := range g.rng.Perm(len(emoji))[:g.rng.IntN(3)] {
		tail.WriteString(" " + emoji[i])
	}
	for _, tag := range tags {
		tail.WriteString(" #" + tag)
		// Tags lead to Bluesky's search: real posts about a real topic.
		links = append(links, rich.Span{Kind: tweet.EntityHashtag, Literal: "#" + tag, Href: "https://bsky.app/hashtag/" + url.PathEscape(tag)})
	}

	var target int
	switch r := g.rng.IntN(10); {
	case r < 3:
		target = 60
	case r < 7:
		target = 160
	default:
		target = budget
	}
	target = min(target, budget) - utf8.RuneCountInString(tail.String())

	// Japanese runs sentences together without spaces.
	sep := " "
	if lang == "ja" {
		sep = ""
	}
	var body strings.Builder
	body.WriteString(lead)
	pool := sentences[lang]
	for _, i := range g.rng.Perm(len(pool)) {
		s := pool[i]
		n := utf8.RuneCountInString(body.String())
		if n > 0 && n+len(sep)+utf8.RuneCountInString(s) > target {
			continue
		}
		if n > 0 {
			body.WriteString(sep)
		}
		body.WriteString(s)
	}
	return body.String() + tail.String(), tags, links
}

// pages are what demo posts link to: real pages about Go, which is what
// the demo's posts talk about.
var pages = []struct{ url string }{
	{"https://go.dev/blog/"},
	{"https://go.dev/doc/effective_go"},
	{"https://pkg.go.dev/net/http"},
	{"https://go.dev/play/"},
}

// photo is a picture drawn in SVG, so that the demo shows photos with no
// network: a stage with a slide, in the photo's colours.
type photo struct {
	hue   int
	slide string
	alt   string
}

var photos = []photo{
	{210, "func main() {}", "A conference stage with a slide reading “func main() {}” (demo picture)"},
	{20, "¡Hola, gophers!", "Audience in front of a slide reading “¡Hola, gophers!” (demo picture)"},
	{140, "こんにちは 🐹", "A slide reading “こんにちは” with a gopher emoji (demo picture)"},
	{280, "مرحبا GoConf", "A slide greeting the room in Arabic: “مرحبا GoConf” (demo picture)"},
}

// media draws p as a 640×360 SVG data: URL.
func (p photo) media() tweet.Media {
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">`+
		`<rect width="640" height="360" fill="hsl(%d,35%%,22%%)"/>`+
		`<rect x="120" y="50" width="400" height="220" rx="8" fill="hsl(%d,60%%,92%%)"/>`+
		`<text x="320" y="170" text-anchor="middle" font-family="sans-serif" font-size="30" fill="hsl(%d,50%%,25%%)">%s</text>`+
		`<rect x="0" y="300" width="640" height="60" fill="hsl(%d,30%%,12%%)"/></svg>`,
		p.hue, p.hue, p.hue, html.EscapeString(p.slide), p.hue)
	return tweet.Media{Type: tweet.MediaPhoto, URL: "data:image/svg+xml," + url.PathEscape(svg), Alt: p.alt, Width: 640, Height: 360}
}

type author struct {
	handle, name, lang string
}

// authors are made up; names from many places show that the wall renders
// any script.
var authors = []author{
	{"gopher_grace", "Grace Hopkins", "en"},
	{"marta_codes", "Marta Kowalska", "en"},
	{"carmen_go", "Carmen Ruiz", "es"},
	{"kenji_dev", "田中 健二", "ja"},
	{"lea_dubois", "Léa Dubois", "fr"},
	{"jonas_m", "Jonas Müller", "de"},
	{"priya_builds", "Priya Raman", "en"},
	{"tiago_sousa", "Tiago Sousa", "pt"},
	{"femke_codes", "Femke de Vries", "en"},
	{"seun_dev", "Oluwaseun Adeyemi", "en"},
	{"giulia_r", "Giulia Rossi", "en"},
	{"ahmed_k", "Ahmed Karim", "en"},
	{"yuki_gopher", "佐藤 ゆき", "ja"},
	{"chris_ops", "Chris O'Neill", "en"},
	{"ana_lima", "Ana Lima", "pt"},
	{"mikko_h", "Mikko Häkkinen", "en"},
	{"zoe_m", "Zoë Martin", "fr"},
	{"raj_cloud", "Rajesh Kumar", "en"},
	{"nina_k", "Nina Kovač", "en"},
	{"the_real_bob", "Bob ☕", "en"},
	{"sara_sec", "Sara Lindqvist", "en"},
	{"dmitri_go", "Дмитрий Орлов", "en"},
	{"hannah_tests", "Hannah Becker", "de"},
	{"sofia_gz", "Sofía González", "es"},
	{"jp_laurent", "Jean-Pierre Laurent", "fr"},
	{"minjun_kim", "김민준", "en"},
	{"lucas_br", "Lucas Ferreira", "pt"},
	{"ingrid_n", "Ingrid Nørgaard", "en"},
	{"omar_f", "Omar Farouk", "en"},
	{"mei_lin", "林美", "en"},
	{"klaus_dev", "Klaus Schäfer", "de"},
	{"aiko_t", "山本 愛子", "ja"},
}

var sentences = map[string][]string{
	"en": {
		"Great energy in the room this morning.",
		"That last talk was packed with practical tips.",
		"Just learned three things I'll use on Monday.",
		"The hallway track is as good as the talks.",
		"Coffee queue update: still long, still worth it.",
		"Live demo worked on the first try & the crowd went wild.",
		"Slides are up already, kudos to the speaker.",
		"Met the maintainers of a library I use every day.",
		"Taking notes as fast as I can type.",
		"Whoever picked the venue: thank you, the wifi actually works.",
		"Best question of the Q&A: how do you test this in production?",
		"The sticker table has been raided, only a few left.",
		"Lunch was excellent and the conversations even better.",
		"Counting down to the lightning talks.",
		"If you're watching the stream, say hi!",
	},
	"es": {
		"¡Qué buen ambiente hay esta mañana!",
		"La última charla estuvo llena de consejos prácticos.",
		"Tomando notas sin parar.",
		"Los pasillos están llenos de conversaciones interesantes.",
		"La demo en vivo funcionó a la primera.",
		"Ya están las diapositivas online, ¡gracias!",
		"Nos vemos en las charlas relámpago.",
	},
	"de": {
		"Tolle Stimmung heute Morgen.",
		"Der letzte Vortrag war voller praktischer Tipps.",
		"Die Schlange am Kaffee ist lang, aber es lohnt sich.",
		"Die Live-Demo hat auf Anhieb funktioniert!",
		"Gerade die Maintainer meiner Lieblingsbibliothek getroffen.",
		"Ich schreibe mit, so schnell ich kann.",
		"Die Folien sind schon online, danke!",
	},
	"fr": {
		"Super ambiance ce matin !",
		"Le dernier talk était plein de conseils pratiques.",
		"La démo en direct a marché du premier coup.",
		"Les couloirs sont aussi intéressants que les talks.",
		"Je prends des notes à toute vitesse.",
		"Les slides sont déjà en ligne, merci !",
		"Vivement les lightning talks.",
	},
	"ja": {
		"今朝の会場はすごい熱気です。",
		"さっきのセッション、実践的なヒントが満載でした。",
		"ライブデモが一発で成功して会場が沸きました。",
		"廊下での会話もとても面白いです。",
		"メモを取る手が止まりません。",
		"スライドがもう公開されています、ありがたい！",
		"ライトニングトークが楽しみです。",
	},
	"pt": {
		"Que energia boa aqui hoje!",
		"A última palestra foi cheia de dicas práticas.",
		"A demo ao vivo funcionou de primeira.",
		"As conversas no corredor estão ótimas.",
		"Anotando tudo o mais rápido que posso.",
		"Os slides já estão online, obrigado!",
		"Contando os minutos para as lightning talks.",
	},
}

// phraseSentence puts a tracked phrase into a post in each language.
var phraseSentence = map[string]string{
	"en": "Everyone here is talking about %s.",
	"es": "Todo el mundo habla de %s.",
	"de": "Alle reden hier über %s.",
	"fr": "Tout le monde parle de %s.",
	"ja": "みんな「%s」の話をしています。",
	"pt": "Todo mundo está falando de %s.",
}

var extraTags = []string{
	"golang", "gophers", "DevLife", "OpenSource", "CloudNative",
	"wasm", "testing", "generics", "pprof", "Kubernetes",
}

var emoji = []string{"🎉", "🚀", "🐹", "☕", "🔥", "💡", "👏", "🙌", "😂", "🤯", "❤️", "✨", "📣", "🎤", "💻"}

// avatar returns a picture that needs no network: a circle in a colour
// drawn from the handle, with the author's initials. It is the same for an
// author every time, so people can recognise them on the wall.
func avatar(a author) string {
	h := fnv.New32a()
	h.Write([]byte(a.handle))
	hue := h.Sum32() % 360
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">`+
		`<circle cx="24" cy="24" r="24" fill="hsl(%d,55%%,45%%)"/>`+
		`<text x="24" y="24" dy=".35em" text-anchor="middle" font-family="sans-serif" font-size="20" fill="#fff">%s</text></svg>`,
		hue, html.EscapeString(initials(a.name)))
	// PathEscape also encodes "#" and "%", which would otherwise end or
	// corrupt a data: URL.
	return "data:image/svg+xml," + url.PathEscape(svg)
}

// initials takes the first letter of the first two words that start with
// one, upper-cased: "Léa Dubois" gives "LD", "田中 健二" gives "田健", and
// "Bob ☕" gives "B".
func initials(name string) string {
	var out []rune
	for _, word := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(word)
		if !unicode.IsLetter(r) {
			continue
		}
		out = append(out, unicode.ToUpper(r))
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}
