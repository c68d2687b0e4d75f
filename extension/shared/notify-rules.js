// The rules of desktop notifications, shared by the extension (offscreen/
// notifier.js) and the wall page (server/web/assets/wall-notify.js): which
// posts notify (mute and alert lists), when a stream is too fast for one
// notification per post (RateSwitch), what the digest that replaces them
// says, and the pacing of it all (NotifyPacer). No chrome.* and no DOM:
// each side only turns what NotifyPacer hands it into its own kind of
// notification.
//
// This file is the source. scripts/prepare copies it to
// server/web/assets/vendor/notify-rules.js (gitignored), as it copies the
// wall's rich-text.js into the extension the other way.

/** Above this rate posts are summed up in one digest: 1 post per 10 s. */
export const DEFAULT_RATE = Object.freeze({ posts: 1, per: 10_000 });

/** The id of the digest: one notification, updated in place. */
export const DIGEST_ID = "digest";

/** parseWords splits a text field into words: one per line or
 * comma-separated. */
export function parseWords(text) {
  return String(text ?? "")
    .split(/[\n,]/)
    .map((w) => w.trim())
    .filter(Boolean);
}

/** normalizeWords turns a list (or a text field) into the lower-case,
 * NFC-composed words the matchers expect. */
export function normalizeWords(raw) {
  const list = Array.isArray(raw) ? raw : parseWords(raw);
  return list.map((w) => fold(String(w).trim())).filter(Boolean);
}

/** normalizeAuthors is normalizeWords for handles: each starts with "@". */
export function normalizeAuthors(raw) {
  return normalizeWords(raw).map((a) => (a.startsWith("@") ? a : "@" + a)).filter((a) => a.length > 1);
}

// Case and composition do not matter: "É" and "é" are the same word, and
// so is "é" typed as one character or as "e" and a combining accent.
function fold(s) {
  return s.normalize("NFC").toLowerCase();
}

// Scripts written without spaces between words: a "whole word" there can
// only be a substring.
const UNSPACED = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]/u;

const patterns = new Map();

// wordPattern matches w as a whole word: not inside a longer word of any
// script ("art" is not in "party", nor "café" in "cafés"). A word may
// start with "@" or "#" to name a handle or a hashtag; a plain word also
// matches them ("goconf" is in "#GoConf").
function wordPattern(w) {
  let re = patterns.get(w);
  if (!re) {
    const escaped = w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    re = UNSPACED.test(w)
      ? new RegExp(escaped, "u")
      : new RegExp(`(?<![\\p{L}\\p{M}\\p{N}_])${escaped}(?![\\p{L}\\p{M}\\p{N}_])`, "u");
    if (patterns.size > 500) patterns.clear();
    patterns.set(w, re);
  }
  return re;
}

// haystack is what a word can match in a post: its text, its author's name
// and handle and its hashtags.
function haystack(post) {
  const tags = Array.isArray(post.hashtags) ? post.hashtags.map((h) => "#" + h) : [];
  return fold([post.text ?? "", post.name ?? "", "@" + (post.user ?? ""), ...tags].join("\n"));
}

/** matchesWords reports whether any of the (normalized) words is a whole
 * word of the post's text, author or hashtags, ignoring case. */
export function matchesWords(post, words) {
  if (!words || words.length === 0) return false;
  const hay = haystack(post);
  return words.some((w) => wordPattern(w).test(hay));
}

/** byAuthor reports whether the post is by one of the (normalized) "@"
 * handles. */
export function byAuthor(post, authors) {
  if (!authors || authors.length === 0) return false;
  const handle = fold("@" + (post.user ?? ""));
  return authors.includes(handle);
}

/**
 * wantsNotification reports whether a post should notify under settings
 * {notify, paused, muteWords, alertWords, alertAuthors} (normalized): not
 * while off or paused, never when muted, and, when there is an alert list,
 * only when the post is on it. Muting wins over alerting.
 */
export function wantsNotification(post, s) {
  if (s.notify === false || s.paused === true) return false;
  if (matchesWords(post, s.muteWords)) return false;
  const alerting = (s.alertWords?.length ?? 0) + (s.alertAuthors?.length ?? 0) > 0;
  return !alerting || matchesWords(post, s.alertWords) || byAuthor(post, s.alertAuthors);
}

/**
 * RateSwitch decides, post by post, whether the stream is calm enough for
 * one notification per post. More than `posts` within `per` ms switches to
 * the digest; it switches back as soon as a post arrives after a window
 * that held no more than that. Exactly at the threshold stays per post.
 */
export class RateSwitch {
  constructor({ posts = DEFAULT_RATE.posts, per = DEFAULT_RATE.per, now = () => Date.now() } = {}) {
    if (!(posts >= 1) || !(per > 0)) throw new RangeError("RateSwitch: posts must be >= 1 and per > 0");
    this.posts = posts;
    this.per = per;
    this.now = now;
    this.times = [];
  }

  /** note counts one post arriving now and returns "post" or "digest". */
  note() {
    const t = this.now();
    this.times = this.times.filter((at) => at > t - this.per);
    this.times.push(t);
    return this.times.length > this.posts ? "digest" : "post";
  }
}

// Bidi controls: a name keeps none of its own in a list of names, where
// each is isolated instead.
const BIDI_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const FSI = "\u2068";
const PDI = "\u2069";

/** digestName is how an author reads in a digest: the handle, or the name
 * when there is none, isolated so that a right-to-left name cannot reorder
 * the list around it. */
function digestName(post) {
  const label = post.user ? "@" + post.user : post.name || "someone";
  return FSI + label.replace(BIDI_CONTROLS, "") + PDI;
}

// spelling returns the hashtag as the posts write it ("GoConf"): sources
// may send their hashtags in lower case.
function spelling(tag, posts) {
  const want = fold(tag);
  for (const p of posts) {
    for (const m of String(p.text ?? "").matchAll(/#([\p{L}\p{M}\p{N}_]+)/gu)) {
      if (fold(m[1]) === want) return m[1];
    }
  }
  return tag;
}

/**
 * digestText says what a digest of posts (oldest first) holds:
 *   title   "12 new posts about #GoConf" (the hashtag that at least half of
 *           them carry) or "12 new posts"
 *   message "@newest, @next, @third and 4 others": distinct authors,
 *           newest first.
 */
export function digestText(posts, { names = 3 } = {}) {
  const count = new Map();
  for (const p of posts) {
    for (const tag of new Set((p.hashtags ?? []).map((h) => String(h)))) {
      const key = fold(tag);
      const seen = count.get(key) ?? { tag, n: 0 };
      seen.n++;
      count.set(key, seen);
    }
  }
  let top = null;
  for (const c of count.values()) if (!top || c.n > top.n) top = c;
  const noun = posts.length === 1 ? "new post" : "new posts";
  const about = top && top.n * 2 >= posts.length ? ` about #${spelling(top.tag, posts).replace(BIDI_CONTROLS, "")}` : "";

  const authors = [];
  const seenAuthors = new Set();
  for (const p of [...posts].reverse()) {
    const key = fold(p.user || p.name || "");
    if (seenAuthors.has(key)) continue;
    seenAuthors.add(key);
    authors.push(p);
  }
  const listed = authors.slice(0, names).map(digestName);
  const others = authors.length - listed.length;
  let message = listed.join(", ");
  if (others > 0) message += ` and ${others} ${others === 1 ? "other" : "others"}`;
  return { title: `${posts.length} ${noun}${about}`, message };
}

/** At most one notification (or digest update) a second. */
export const INTERVAL_MS = 1000;

/**
 * NotifyPacer decides what to show for a stream of posts. While posts are
 * rare (no more than settings.digestPosts in digestSeconds; by default one
 * in 10 s) each is handed to show as {kind: "post", post}. Faster than
 * that they are summed up in one digest, handed as {kind: "digest", posts
 * (all it sums up, oldest first), fresh (those new since the last
 * update)} and shown under DIGEST_ID, so that it updates in place; the
 * first post after a calm window comes alone again. Either way show is
 * called at most once an interval, and never again before its promise
 * settled. Only the posts that wantsNotification accepts count.
 */
export class NotifyPacer {
  constructor(show, { now = () => Date.now(), interval = INTERVAL_MS } = {}) {
    this.show = show;
    this.now = now;
    this.interval = interval;
    this.settings = { notify: true, paused: false, muteWords: [], alertWords: [], alertAuthors: [] };
    this.rate = new RateSwitch({ now });
    // Posts to show one by one, oldest first.
    this.queue = [];
    // The digest being built, or null while posts come one by one.
    this.digest = null;
    this.timer = null;
    this.busy = false;
    this.lastAt = -Infinity;
  }

  configure(settings) {
    this.settings = settings;
    const posts = settings.digestPosts ?? DEFAULT_RATE.posts;
    const per = (settings.digestSeconds ?? DEFAULT_RATE.per / 1000) * 1000;
    if (posts !== this.rate.posts || per !== this.rate.per) this.rate = new RateSwitch({ posts, per, now: this.now });
    // Posts waiting for their turn obey the new settings too.
    this.queue = this.queue.filter((p) => this.wants(p));
    if (this.digest) this.digest.fresh = this.digest.fresh.filter((p) => this.wants(p));
  }

  wants(post) {
    return wantsNotification(post, this.settings);
  }

  add(posts) {
    for (const post of posts.filter((p) => this.wants(p))) {
      if (this.rate.note() === "digest") {
        if (!this.digest || this.digest.ending) this.digest = { posts: [], fresh: [], ending: false };
        // Posts still waiting to show alone join the digest: by the time
        // their turn came they would be part of the rush.
        const early = this.queue.splice(0);
        this.digest.posts.push(...early, post);
        this.digest.fresh.push(...early, post);
      } else {
        // Calm again: the digest on screen stays as it is (after its last
        // update, if one is due), and the next rush starts a new one.
        if (this.digest) {
          if (this.digest.fresh.length === 0) this.digest = null;
          else this.digest.ending = true;
        }
        this.queue.push(post);
      }
    }
    this.schedule();
  }

  /** retract drops a deleted post that has not been shown yet, and from
   * the digest's next update. */
  retract(id) {
    this.queue = this.queue.filter((p) => p.id !== id);
    if (this.digest) {
      this.digest.posts = this.digest.posts.filter((p) => p.id !== id);
      this.digest.fresh = this.digest.fresh.filter((p) => p.id !== id);
    }
  }

  /** clear drops everything pending and forgets the rate (a new server). */
  clear() {
    this.queue = [];
    this.digest = null;
    this.rate = new RateSwitch({ posts: this.rate.posts, per: this.rate.per, now: this.now });
  }

  pending() {
    return this.queue.length > 0 || (this.digest !== null && this.digest.fresh.length > 0);
  }

  schedule() {
    if (this.timer !== null || this.busy || !this.pending()) return;
    const wait = Math.max(0, this.lastAt + this.interval - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  async flush() {
    this.timer = null;
    if (!this.pending()) return;
    this.busy = true;
    try {
      await this.show(this.next());
    } catch (err) {
      console.error("tweetwire: cannot show a notification:", err);
    } finally {
      // Measured after the notification went out, so that a slow one never
      // lets two through within an interval.
      this.lastAt = this.now();
      this.busy = false;
      this.schedule();
    }
  }

  // next takes what to show: the digest's update if it has news (a digest
  // only starts after the single posts before it), else the oldest post.
  next() {
    const d = this.digest;
    if (d !== null && d.fresh.length > 0) {
      const fresh = d.fresh.splice(0);
      if (d.ending) this.digest = null;
      return { kind: "digest", posts: d.posts.slice(), fresh };
    }
    return { kind: "post", post: this.queue.shift() };
  }
}
