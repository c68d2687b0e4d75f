// The stats page's timeline (server/web/assets/timeline.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { axisFormat, bucketTimeline, partialBar, sizeLabel } from "../../../server/web/assets/timeline.js";

function minutes(startISO, counts) {
  const start = Date.parse(startISO);
  return counts.map((count, i) => ({ minute: new Date(start + i * 60000).toISOString(), count }));
}

test("a short event keeps one bar per minute", () => {
  const { size, bars } = bucketTimeline(minutes("2026-11-25T18:00:00Z", [1, 0, 3]), 200);
  assert.equal(size, 1);
  assert.deepEqual(bars.map((b) => b.count), [1, 0, 3]);
});

test("a three-day event becomes readable buckets and keeps every post", () => {
  const counts = Array.from({ length: 3 * 1440 }, (_, i) => (i % 7 === 0 ? 2 : 1));
  const tl = minutes("2026-11-25T05:51:00Z", counts);
  const { size, bars } = bucketTimeline(tl, 120);
  assert.equal(size, 60, "hours");
  assert.ok(bars.length <= 120, `${bars.length} bars`);
  assert.equal(bars.reduce((n, b) => n + b.count, 0), counts.reduce((n, c) => n + c, 0), "no post lost in bucketing");
  assert.equal(new Date(bars[1].start).toISOString(), "2026-11-25T06:00:00.000Z", "buckets start on the hour");
  assert.equal(sizeLabel(size), "hour");
});

test("bucket names", () => {
  assert.equal(sizeLabel(1), "minute");
  assert.equal(sizeLabel(5), "5 minutes");
  assert.equal(sizeLabel(120), "2 hours");
  assert.equal(sizeLabel(1440), "day");
});

test("the axis says the date once the event runs past a day", () => {
  const a = Date.parse("2026-11-25T05:51:00Z");
  const sameDay = axisFormat(a, a + 3 * 3600_000, "en-GB", "UTC").format(a);
  assert.equal(sameDay, "05:51");
  const days = axisFormat(a, a + 3 * 86_400_000, "en-GB", "UTC").format(a);
  assert.match(days, /25 Nov/);
  assert.match(days, /05:51/);
});

test("the bucket containing now is partial while the event runs", () => {
  const tl = minutes("2026-11-25T18:00:00Z", Array.from({ length: 8 * 60 }, () => 1));
  const { size, bars } = bucketTimeline(tl, 60);
  assert.equal(size, 10);
  const now = Date.parse("2026-11-26T01:57:30Z"); // in the last bucket, 01:50–02:00
  assert.equal(partialBar(bars, size, now, true), bars.length - 1);
  assert.equal(partialBar(bars, size, now, false), -1, "an ended event has no partial bucket");
  assert.equal(partialBar(bars, size, Date.parse("2026-11-26T02:00:00Z"), true), -1, "a quiet new bucket is not the last bar");
  assert.equal(partialBar([], size, now, true), -1);
});
