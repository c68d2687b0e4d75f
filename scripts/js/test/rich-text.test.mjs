// A post's links and photos (server/web/assets/rich-text.js, shared with
// the extension popup): splitting text by UTF-16 offsets, and refusing
// what a hostile or confused server sends.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mediaItems, repostLabel, safeHref, safeImageSrc, segments } from "../../../server/web/assets/rich-text.js";

// Offsets are UTF-16 code units, as JavaScript counts: computed here with
// indexOf, never by hand.
function entity(text, kind, literal, href, display) {
  const start = text.indexOf(literal);
  assert.ok(start >= 0, `${literal} is in the text`);
  return { kind, start, end: start + literal.length, href, ...(display ? { display } : {}) };
}

const text = "🎉👩‍💻 مرحبا @layla_dev! #GoConf 東京 → https://t.co/k3Yq9ZpXwA <b>&amp;</b>";
const mention = entity(text, "mention", "@layla_dev", "https://x.com/layla_dev");
const tag = entity(text, "hashtag", "#GoConf", "https://x.com/hashtag/GoConf");
const url = entity(text, "url", "https://t.co/k3Yq9ZpXwA", "https://goconf.example/schedule?day=2", "goconf.example/schedule…");

test("text is cut at UTF-16 offsets past emoji, Arabic and CJK, links in order", () => {
  // Given out of order, as a server lists kinds apart.
  const got = segments(text, [url, tag, mention]);
  assert.deepEqual(got, [
    { text: "🎉👩‍💻 مرحبا " },
    { text: "@layla_dev", href: "https://x.com/layla_dev", kind: "mention", title: "" },
    { text: "! " },
    { text: "#GoConf", href: "https://x.com/hashtag/GoConf", kind: "hashtag", title: "" },
    { text: " 東京 → " },
    { text: "goconf.example/schedule…", href: "https://goconf.example/schedule?day=2", kind: "url", title: "https://goconf.example/schedule?day=2" },
    { text: " <b>&amp;</b>" },
  ]);
});

test("markup in the text stays text", () => {
  const got = segments(text, []);
  assert.deepEqual(got, [{ text }]);
  assert.equal(segments(text, null).map((s) => s.text).join(""), text);
});

test("hostile or broken entities stay plain text, and the text stays whole", () => {
  const bad = [
    { ...mention, href: "javascript:alert(document.cookie)" },
    { ...mention, href: "JAVASCRIPT:alert(1)" },
    { ...mention, href: " javascript:alert(1)" },
    { ...mention, href: "data:text/html,<script>alert(1)</script>" },
    { ...mention, href: "/relative/profile" },
    { ...mention, href: "vbscript:msgbox(1)" },
    { ...tag, start: tag.start + 1 }, // does not start with "#": counted in another unit
    { ...mention, start: 1, end: 3 }, // inside 🎉's surrogate pair
    { ...tag, end: text.length + 5 },
    { ...tag, start: "3" },
    { ...tag, kind: "cashtag" },
    { ...url, start: url.start - 2 }, // takes in the space before it
    null,
    "#GoConf",
  ];
  for (const e of bad) {
    const got = segments(text, [e]);
    assert.equal(got.filter((s) => s.href).length, 0, `no link for ${JSON.stringify(e)}`);
    assert.equal(got.map((s) => s.text).join(""), text);
  }
});

test("an entity overlapping the one before is dropped", () => {
  const got = segments(text, [tag, { ...url, start: tag.start + 2 }]);
  assert.deepEqual(got.filter((s) => s.href).map((s) => s.text), ["#GoConf"]);
});

test("right-to-left text keeps its logical order", () => {
  const he = "שלום #כנס_גו ו-@noa";
  const got = segments(he, [entity(he, "hashtag", "#כנס_גו", "https://bsky.app/hashtag/%D7%9B"), entity(he, "mention", "@noa", "https://tooot.example/@noa")]);
  assert.deepEqual(got.map((s) => s.text), ["שלום ", "#כנס_גו", " ו-", "@noa"]);
});

test("URLs: only absolute http(s) for links; images may also be inline", () => {
  assert.equal(safeHref("https://goconf.example/a b"), "https://goconf.example/a%20b");
  for (const bad of ["javascript:alert(1)", "data:image/png;base64,AAAA", "//evil.example/", "ftp://x.example/", "", null, 42]) {
    assert.equal(safeHref(bad), "", String(bad));
  }
  assert.equal(safeImageSrc("data:image/svg+xml,%3Csvg%2F%3E"), "data:image/svg+xml,%3Csvg%2F%3E");
  assert.equal(safeImageSrc("data:text/html,<script>"), "");
  assert.equal(safeImageSrc("javascript:alert(1)"), "");
});

test("media: safe images with alt text and size, at most four", () => {
  const photo = { type: "photo", url: "https://pbs.twimg.com/media/a.jpg", alt: "Die Bühne «GoConf» 🎤", width: 2048, height: 1365 };
  const got = mediaItems([
    photo,
    { type: "video", url: "https://x.com/v/1", preview: "https://pbs.twimg.com/v.jpg" },
    { type: "photo", url: "javascript:alert(1)", alt: "evil" },
    { type: "audio", url: "https://files.example/a.mp3" },
    { type: "photo", url: "https://cdn.example/b.jpg", width: -1, height: 10 },
    photo,
    photo,
  ]);
  assert.deepEqual(got, [
    { type: "photo", src: "https://pbs.twimg.com/media/a.jpg", alt: "Die Bühne «GoConf» 🎤", width: 2048, height: 1365 },
    { type: "video", src: "https://pbs.twimg.com/v.jpg", alt: "", width: 0, height: 0 },
    { type: "photo", src: "https://cdn.example/b.jpg", alt: "", width: 0, height: 0 },
    { type: "photo", src: "https://pbs.twimg.com/media/a.jpg", alt: "Die Bühne «GoConf» 🎤", width: 2048, height: 1365 },
  ]);
  assert.deepEqual(mediaItems("nope"), []);
});

test("a repost says whose post it is", () => {
  assert.equal(repostLabel({ retweet: true, repost_of: { user: "carmen_go", name: "Carmen" } }), "reposted @carmen_go");
  assert.equal(repostLabel({ retweet: { user: "@old_client" } }), "reposted @old_client");
  assert.equal(repostLabel({ retweet: true }), "reposted");
  assert.equal(repostLabel({ retweet: false, repost_of: { user: "x" } }), "");
});

test("the extension keeps a post's links and photos, bounded, with safe image URLs", async () => {
  const { normalizePost } = await import("../../../extension/shared/post.js");
  const raw = {
    id: "x:1", user: "noa", text,
    retweet: true, repost_of: { user: "layla_dev", name: "ليلى", extra: "dropped" },
    entities: [...Array(60)].map(() => ({ ...tag, junk: "x".repeat(10) })),
    media: [
      { type: "photo", url: "javascript:alert(1)", preview: "/img/p.jpg", alt: "Bühne", width: 640, height: 360, junk: 1 },
      null, "photo", { type: "photo", url: "https://a.example/1.jpg" }, {}, {}, {},
    ],
  };
  const post = normalizePost(raw, "http://localhost:8124/");
  assert.deepEqual(post.repost_of, { user: "layla_dev", name: "ليلى" });
  assert.equal(post.entities.length, 50);
  assert.deepEqual(post.entities[0], { kind: "hashtag", start: tag.start, end: tag.end, href: tag.href, display: "" });
  assert.equal(post.media.length, 4);
  assert.deepEqual(post.media[0], { type: "photo", url: "", preview: "http://localhost:8124/img/p.jpg", alt: "Bühne", width: 640, height: 360 });
  assert.equal(normalizePost({ id: "x:2", text: "plain" }).entities, undefined);
});
