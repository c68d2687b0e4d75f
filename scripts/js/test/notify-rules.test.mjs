// The notification rules shared by the extension and the wall
// (extension/shared/notify-rules.js), on a hand-driven clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_RATE,
  digestText,
  normalizeAuthors,
  normalizeWords,
  RateSwitch,
  wantsNotification,
} from "../../../extension/shared/notify-rules.js";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const post = (user, text, extra = {}) => ({ id: `bluesky:${user}`, user, name: "", text, hashtags: [], ...extra });

const settings = (over = {}) => ({
  notify: true,
  paused: false,
  muteWords: [],
  alertWords: [],
  alertAuthors: [],
  ...over,
});

test("one post per 10 s, exactly at the threshold, notifies each post", () => {
  const c = clock();
  const r = new RateSwitch({ now: c.now });
  assert.deepEqual(DEFAULT_RATE, { posts: 1, per: 10_000 });
  assert.equal(r.note(), "post");
  c.advance(10_000);
  assert.equal(r.note(), "post");
  c.advance(10_000);
  assert.equal(r.note(), "post");
});

test("a faster stream switches to the digest and back once it calms down", () => {
  const c = clock();
  const r = new RateSwitch({ now: c.now });
  assert.equal(r.note(), "post");
  const modes = [];
  for (let i = 0; i < 28; i++) {
    c.advance(500); // 2 posts a second
    modes.push(r.note());
  }
  assert.deepEqual(new Set(modes), new Set(["digest"]));
  c.advance(9_999);
  assert.equal(r.note(), "digest", "the last post was less than 10 s ago");
  c.advance(10_000);
  assert.equal(r.note(), "post", "a quiet window brings single notifications back");
});

test("the threshold is configurable", () => {
  const c = clock();
  const r = new RateSwitch({ posts: 3, per: 1000, now: c.now });
  assert.deepEqual([r.note(), r.note(), r.note(), r.note()], ["post", "post", "post", "digest"]);
  assert.throws(() => new RateSwitch({ posts: 0 }), RangeError);
});

test("the digest names its hashtag and its newest authors once each, in any script", () => {
  const tag = { hashtags: ["GoConf"] };
  const posts = [
    post("ana", "olá 👋", tag),
    post("", "سلام", { ...tag, name: "مريم" }),
    post("kenji", "こんにちは", { hashtags: ["goconf", "東京"] }),
    post("ana", "again", tag),
    post("zoë", "Grüße", {}),
  ];
  const { title, message } = digestText(posts);
  assert.equal(title, "5 new posts about #GoConf");
  const iso = (s) => `\u2068${s}\u2069`;
  assert.equal(message, `${iso("@zoë")}, ${iso("@ana")}, ${iso("@kenji")} and 1 other`);
  assert.equal(digestText(posts, { names: 5 }).message, [iso("@zoë"), iso("@ana"), iso("@kenji"), iso("مريم")].join(", "));
});

test("the digest's hashtag is spelled as the posts write it", () => {
  const posts = [post("a", "Grüße aus #GoConf", { hashtags: ["goconf"] }), post("b", "x", { hashtags: ["goconf"] })];
  assert.equal(digestText(posts).title, "2 new posts about #GoConf");
  assert.equal(digestText([post("a", "no tag here", { hashtags: ["東京"] })]).title, "1 new post about #東京");
});

test("a digest without a common hashtag has a plain title; names lose their own bidi controls", () => {
  const { title, message } = digestText([
    post("a", "x", { hashtags: ["one"] }),
    post("b", "y", { hashtags: ["two"] }),
    post("c", "z", { hashtags: ["three"] }),
    post("", "evil", { name: "\u202Eevil" }),
  ]);
  assert.equal(title, "4 new posts");
  assert.equal(message, "\u2068evil\u2069, \u2068@c\u2069, \u2068@b\u2069 and 1 other");
});

test("mute words match whole words, any case, accents composed or not", () => {
  const mute = normalizeWords("Spoiler, CAFÉ\n#hidden");
  const s = settings({ muteWords: mute });
  assert.equal(wantsNotification(post("a", "a SPOILER about the keynote"), s), false);
  assert.equal(wantsNotification(post("a", "spoilers ahead"), s), true, "not inside a longer word");
  assert.equal(wantsNotification(post("a", "le cafe\u0301 est bon"), s), false, "decomposed é is é");
  assert.equal(wantsNotification(post("a", "cafés"), s), true);
  assert.equal(wantsNotification(post("a", "nothing", { hashtags: ["Hidden"] }), s), false);
  assert.equal(wantsNotification(post("a", "hidden in plain sight"), s), true, "#hidden is the hashtag only");
});

test("alert words and authors: only matching posts notify, and mute still wins", () => {
  const s = settings({
    alertWords: normalizeWords(["keynote", "東京", "#GoConf"]),
    alertAuthors: normalizeAuthors("Alice, @ZOË"),
    muteWords: normalizeWords(["spoiler"]),
  });
  assert.equal(wantsNotification(post("bob", "The KEYNOTE starts"), s), true);
  assert.equal(wantsNotification(post("bob", "keynotes"), s), false, "whole words only");
  assert.equal(wantsNotification(post("bob", "明日は東京です"), s), true, "CJK words match inside a sentence");
  assert.equal(wantsNotification(post("bob", "see you", { hashtags: ["goconf"] }), s), true);
  assert.equal(wantsNotification(post("alice", "hi"), s), true);
  assert.equal(wantsNotification(post("zoë", "hi"), s), true);
  assert.equal(wantsNotification(post("alice2", "hi"), s), false, "a handle matches whole");
  assert.equal(wantsNotification(post("carol", "<b>hi</b> مرحبا"), s), false);
  assert.equal(wantsNotification(post("alice", "a spoiler"), s), false, "muting wins");
  assert.equal(wantsNotification(post("alice", "hi"), { ...s, paused: true }), false);
  assert.equal(wantsNotification(post("alice", "hi"), { ...s, notify: false }), false);
});

test("an @word matches a mention as well as the author", () => {
  const s = settings({ alertWords: normalizeWords(["@dana"]) });
  assert.equal(wantsNotification(post("bob", "thanks @Dana!"), s), true);
  assert.equal(wantsNotification(post("dana", "hello"), s), true);
  assert.equal(wantsNotification(post("bob", "thanks @danas"), s), false);
});
