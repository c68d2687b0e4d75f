// Notifier turns new posts into notifications. While posts are rare (no
// more than settings.digestPosts in digestSeconds; by default one in 10 s)
// each shows as itself. Faster than that, they are summed up in ONE digest
// notification ("12 new posts about #GoConf", the newest authors) that is
// updated in place, under the same id, as more arrive; the first post
// after a calm window is shown as itself again. Either way at most one
// notification goes out a second, so a digest is updated at most once a
// second. Which posts notify at all (off, paused, mute and alert lists) and
// the digest's wording are shared/notify-rules.js's, shared with the wall.

import { author, plainBidi } from "../shared/post.js";
import { DEFAULT_RATE, DIGEST_ID, digestText, RateSwitch, wantsNotification } from "../shared/notify-rules.js";
import { avatarIcon, BUNDLED_ICON } from "./avatar.js";

const INTERVAL_MS = 1000;

export class Notifier {
  /**
   * @param {(n: object) => Promise<void>} show sends one notification (see
   *   Type.NOTIFY in shared/messages.js for its shape)
   */
  constructor(show, { now = () => Date.now(), interval = INTERVAL_MS } = {}) {
    this.show = show;
    this.now = now;
    this.interval = interval;
    this.settings = { muteWords: [], alertWords: [], alertAuthors: [], notify: true, paused: false, serverUrl: "" };
    this.rate = this.newRate(DEFAULT_RATE.posts, DEFAULT_RATE.per);
    // Posts to show one by one, oldest first.
    this.queue = [];
    // The digest being built: every post it sums up, and those not yet in
    // the notification on screen; null while posts come one by one.
    this.digest = null;
    this.timer = null;
    this.busy = false;
    this.lastAt = -Infinity;
  }

  newRate(posts, per) {
    return new RateSwitch({ posts, per, now: this.now });
  }

  configure(settings) {
    this.settings = settings;
    const posts = settings.digestPosts ?? DEFAULT_RATE.posts;
    const per = (settings.digestSeconds ?? DEFAULT_RATE.per / 1000) * 1000;
    if (posts !== this.rate.posts || per !== this.rate.per) this.rate = this.newRate(posts, per);
    // Posts waiting for their turn obey the new settings too.
    this.queue = this.queue.filter((p) => this.wants(p));
    if (this.digest) this.digest.fresh = this.digest.fresh.filter((p) => this.wants(p));
  }

  wants(post) {
    return wantsNotification(post, this.settings);
  }

  add(posts) {
    const wanted = posts.filter((p) => this.wants(p));
    if (wanted.length === 0) return;
    for (const post of wanted) {
      if (this.rate.note() === "digest") {
        if (!this.digest || this.digest.ending) this.digest = { posts: [], fresh: [], ending: false };
        // Posts still waiting to show alone join the digest: by the time
        // their turn comes they are part of the rush.
        const early = this.queue.splice(0);
        this.digest.posts.push(...early, post);
        this.digest.fresh.push(...early, post);
      } else {
        // Calm again: the digest on screen stays as it is, and the next
        // rush starts a new one.
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

  /** clear drops everything pending (the server changed). */
  clear() {
    this.queue = [];
    this.digest = null;
    this.rate = this.newRate(this.rate.posts, this.rate.per);
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
      const n = await this.next();
      n.sentAt = this.now();
      await this.show(n);
    } catch (err) {
      console.error("tweetwire: cannot show a notification:", err);
    } finally {
      // Measured after the notification went out, so that a slow avatar
      // never lets two notifications through within a second.
      this.lastAt = this.now();
      this.busy = false;
      this.schedule();
    }
  }

  // next takes the next notification to show: the digest's update if it
  // has news (a digest only starts after the single posts before it), else
  // the oldest single post.
  async next() {
    const d = this.digest;
    if (d !== null && d.fresh.length > 0) {
      const fresh = d.fresh.splice(0);
      if (d.ending) this.digest = null;
      const { title, message } = digestText(d.posts);
      return {
        id: DIGEST_ID,
        title,
        message,
        iconUrl: BUNDLED_ICON,
        icon: "bundled",
        // The wall shows them all; there is no one permalink for a digest.
        url: this.settings.serverUrl,
        postIds: fresh.map((p) => p.id),
        count: d.posts.length,
      };
    }
    const post = this.queue.shift();
    const avatar = await avatarIcon(post.picture);
    return {
      id: "post:" + post.id,
      title: author(post),
      message: plainBidi(post.text),
      iconUrl: avatar ?? BUNDLED_ICON,
      icon: avatar ? "avatar" : "bundled",
      url: post.url || this.settings.serverUrl,
      postIds: [post.id],
    };
  }
}
