// The display's pacing (server/web/assets/pacer.js), on a hand-driven clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Pacer } from "../../../server/web/assets/pacer.js";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const post = (i) => ({ id: `bluesky:${i}`, text: `پست ${i} — Grüße 👋 #GoConf` });

test("a quiet stream shows each post at once", () => {
  const c = clock();
  const p = new Pacer({ pace: 6000, now: c.now });
  assert.equal(p.due(), Infinity);
  p.push(post(1));
  assert.equal(p.due(), 0);
  assert.equal(p.next().id, "bluesky:1");
  c.advance(7000);
  p.push(post(2));
  assert.equal(p.next().id, "bluesky:2", "the previous post has had its time");
});

test("a burst is shown one post per pace, in order", () => {
  const c = clock();
  const p = new Pacer({ pace: 6000, now: c.now });
  for (let i = 1; i <= 4; i++) p.push(post(i));
  const shown = [p.next().id];
  for (let i = 0; i < 3; i++) {
    assert.equal(p.next(), null, "nothing before the pace is over");
    assert.equal(p.due(), 6000);
    c.advance(6000);
    shown.push(p.next().id);
  }
  assert.deepEqual(shown, ["bluesky:1", "bluesky:2", "bluesky:3", "bluesky:4"]);
  assert.equal(p.skippedRecently(), 0);
});

test("a queue that would lag more than a minute drops its oldest and counts them", () => {
  const c = clock();
  const p = new Pacer({ pace: 6000, maxLag: 60000, now: c.now });
  for (let i = 1; i <= 25; i++) p.push(post(i));
  assert.equal(p.waiting, 10, "ten posts at 6 s each is the minute");
  assert.equal(p.skippedRecently(), 15);
  assert.equal(p.next().id, "bluesky:16", "the newest ten are kept");
  c.advance(61000);
  assert.equal(p.skippedRecently(), 0, "the count is of the last minute");
});

test("a hidden post leaves the queue", () => {
  const c = clock();
  const p = new Pacer({ pace: 6000, now: c.now });
  p.push(post(1));
  p.push(post(2));
  p.next();
  assert.equal(p.remove("bluesky:2"), true);
  assert.equal(p.remove("bluesky:2"), false);
  c.advance(6000);
  assert.equal(p.next(), null);
});

test("a post taken off the spotlight lets the next one up at once", () => {
  const c = clock();
  const p = new Pacer({ pace: 6000, now: c.now });
  p.push(post(1));
  p.push(post(2));
  p.next();
  assert.equal(p.next(), null);
  p.release();
  assert.equal(p.next().id, "bluesky:2");
});

test("a pace that is not a positive number is refused", () => {
  assert.throws(() => new Pacer({ pace: 0 }), RangeError);
  assert.throws(() => new Pacer({ pace: Number.NaN }), RangeError);
});
