// The extension's notifier (extension/offscreen/notifier.js) on a
// hand-driven clock: a 2 posts/s stream becomes one updating digest, and a
// calm stream notifies post by post again. Posts have no avatar, so no
// fetch happens; chrome.runtime.getURL is all the module needs.
import assert from "node:assert/strict";
import { test } from "node:test";

globalThis.chrome ??= { runtime: { getURL: (p) => `chrome-extension://test/${p}` } };
const { Notifier } = await import("../../../extension/offscreen/notifier.js");

const tick = () => new Promise((r) => setTimeout(r, 5));

function setup(settings = {}) {
  let t = 1_000_000;
  const shown = [];
  const n = new Notifier(async (x) => void shown.push(x), { now: () => t, interval: 0 });
  n.configure({ notify: true, paused: false, muteWords: [], alertWords: [], alertAuthors: [], serverUrl: "http://wall.test", ...settings });
  return { n, shown, advance: (ms) => (t += ms) };
}

const names = ["Zoë", "مريم", "陈静", "José 🎉", "Ada"];
const post = (i) => ({
  id: `mastodon:${i}`,
  user: `user${i % names.length}`,
  name: names[i % names.length],
  text: `post ${i} <b>not bold</b> #GoConf`,
  hashtags: ["GoConf"],
});

test("2 posts a second: the first alone, then one digest updated in place", async () => {
  const { n, shown, advance } = setup();
  for (let i = 0; i < 12; i++) {
    n.add([post(i)]);
    await tick();
    advance(500);
  }
  assert.equal(shown[0].id, "post:mastodon:0");
  assert.equal(shown[0].title, "Zoë @user0");
  const digests = shown.slice(1);
  assert.ok(digests.length >= 2, "the digest is updated");
  assert.deepEqual(new Set(digests.map((d) => d.id)), new Set(["digest"]));
  assert.deepEqual(digests.flatMap((d) => d.postIds), Array.from({ length: 11 }, (_, i) => `mastodon:${i + 1}`), "each post once");
  const last = digests.at(-1);
  assert.equal(last.title, "11 new posts about #GoConf");
  assert.equal(last.count, 11);
  assert.match(last.message, /^\u2068@user1\u2069, \u2068@user0\u2069, \u2068@user4\u2069 and 2 others$/);
  assert.equal(last.url, "http://wall.test");

  advance(10_000);
  n.add([post(20)]);
  await tick();
  assert.equal(shown.at(-1).id, "post:mastodon:20", "calm again: one notification per post");
});

test("alert lists: only matching posts notify, and only they count towards the rate", async () => {
  const { n, shown, advance } = setup({ alertAuthors: ["@user2"], alertWords: ["keynote"] });
  for (let i = 0; i < 30; i++) {
    n.add([i === 11 ? { ...post(i), text: "The Keynote starts" } : post(i)]);
    await tick();
    advance(2000);
  }
  assert.deepEqual(shown.flatMap((s) => s.postIds), ["mastodon:2", "mastodon:7", "mastodon:11", "mastodon:12", "mastodon:17", "mastodon:22", "mastodon:27"]);
  // user2 posts every 10 s: exactly the threshold, so one by one; the
  // keynote post between two of them makes a digest of the two that
  // follow within 10 s of another, and then it is calm again.
  assert.deepEqual(shown.map((s) => s.id), ["post:mastodon:2", "post:mastodon:7", "digest", "digest", "post:mastodon:17", "post:mastodon:22", "post:mastodon:27"]);
  assert.equal(shown[3].title, "2 new posts about #GoConf");
  assert.equal(shown[3].message, "\u2068@user2\u2069, \u2068@user1\u2069");
});

test("a post deleted before its turn is never shown, and leaves the digest's count", async () => {
  const { n, shown, advance } = setup();
  n.add([post(0)]);
  await tick();
  advance(500);
  // Retracted in the same turn: the next notification is not out yet.
  n.add([post(1), post(2), post(3)]);
  n.retract("mastodon:2");
  await tick();
  assert.deepEqual(shown.map((s) => s.id), ["post:mastodon:0", "digest"]);
  assert.deepEqual(shown[1].postIds, ["mastodon:1", "mastodon:3"]);
  assert.equal(shown[1].title, "2 new posts about #GoConf");
});
