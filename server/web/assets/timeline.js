// timeline.js: how the stats page turns posts per minute into a chart a
// person can read at any length of event. A day of minutes is 1,440 bars,
// three days 4,320: thinner than a pixel. So minutes are summed into
// buckets of a round size (5 minutes, an hour, a day...) with at most
// maxBars of them, and the axis is labelled with dates once the event runs
// past a day.

// Bucket sizes, in minutes, that a reader recognises.
const SIZES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/**
 * bucketTimeline sums a per-minute timeline ([{minute: ISO, count}], in
 * order, one entry per minute) into at most maxBars buckets of a round size.
 * Buckets start on multiples of their size since the Unix epoch (whole
 * hours, whole days in UTC), so the same minute always lands in the same
 * bucket. It returns {size: minutes per bucket, bars: [{start: ms, count}]}.
 */
export function bucketTimeline(timeline, maxBars) {
  if (!Array.isArray(timeline) || timeline.length === 0) return { size: 1, bars: [] };
  const first = Date.parse(timeline[0].minute);
  const last = Date.parse(timeline[timeline.length - 1].minute);
  const span = Math.round((last - first) / 60000) + 1;
  const size = SIZES.find((s) => Math.ceil(span / s) + 1 <= maxBars) ?? SIZES[SIZES.length - 1];
  const ms = size * 60000;
  const bars = [];
  for (const m of timeline) {
    const t = Date.parse(m.minute);
    if (Number.isNaN(t)) continue;
    const start = Math.floor(t / ms) * ms;
    const tail = bars[bars.length - 1];
    if (tail && tail.start === start) tail.count += m.count;
    else bars.push({ start, count: m.count });
  }
  return { size, bars };
}

/** sizeLabel names a bucket size: "minute", "5 minutes", "hour", "day". */
export function sizeLabel(size) {
  if (size === 1) return "minute";
  if (size === 60) return "hour";
  if (size === 1440) return "day";
  return size % 60 === 0 ? `${size / 60} hours` : `${size} minutes`;
}

/**
 * axisFormat returns how to write the instants of an axis running from
 * first to last (ms): clock times within a day, dates with them past it.
 */
export function axisFormat(first, last, locale, timeZone) {
  const opts = { hour: "2-digit", minute: "2-digit", timeZone };
  const day = new Intl.DateTimeFormat(locale, { year: "numeric", month: "2-digit", day: "2-digit", timeZone });
  if (last - first >= 86_400_000 || day.format(first) !== day.format(last)) {
    Object.assign(opts, { month: "short", day: "numeric" });
  }
  return new Intl.DateTimeFormat(locale, opts);
}

/**
 * partialBar returns the index in bars of the bucket still filling: the
 * one containing now (ms) while the event runs; -1 when the event has
 * ended or now is outside every bar. Its count is a count "so far", not
 * comparable with the others yet.
 */
export function partialBar(bars, size, now, running) {
  if (!running || !Array.isArray(bars) || bars.length === 0) return -1;
  const ms = size * 60000;
  const i = bars.length - 1; // now is never before the newest post's bucket
  const start = Math.floor(now / ms) * ms;
  return bars[i].start === start ? i : -1;
}
