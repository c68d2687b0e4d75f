// Notifier turns new posts into at most one notification per second. The
// first post after a quiet second shows at once, as itself; posts arriving
// within the next second wait and show together as "N new posts". Muted
// posts, and every post while notifications are off or paused, are only
// listed, never notified.

import { author, plainBidi } from "../shared/post.js";
import { isMuted } from "../shared/settings.js";
import { avatarIcon, BUNDLED_ICON } from "./avatar.js";

const INTERVAL_MS = 1000;
const SUMMARY_LINES = 3;

export class Notifier {
  /**
   * @param {(n: object) => Promise<void>} show sends one notification (see
   *   Type.NOTIFY in shared/messages.js for its shape)
   */
  constructor(show, { now = () => Date.now(), interval = INTERVAL_MS } = {}) {
    this.show = show;
    this.now = now;
    this.interval = interval;
    this.settings = { muteWords: [], notify: true, paused: false, serverUrl: "" };
    this.pending = [];
    this.timer = null;
    this.busy = false;
    this.lastAt = -Infinity;
  }

  configure(settings) {
    this.settings = settings;
    // Posts waiting for their turn obey the new settings too.
    this.pending = this.pending.filter((p) => this.wants(p));
  }

  wants(post) {
    const s = this.settings;
    return s.notify && !s.paused && !isMuted(post, s.muteWords);
  }

  add(posts) {
    const wanted = posts.filter((p) => this.wants(p));
    if (wanted.length === 0) return;
    this.pending.push(...wanted);
    this.schedule();
  }

  /** retract drops a deleted post that has not been shown yet. */
  retract(id) {
    this.pending = this.pending.filter((p) => p.id !== id);
  }

  /** clear drops everything pending (the server changed). */
  clear() {
    this.pending = [];
  }

  schedule() {
    if (this.timer !== null || this.busy || this.pending.length === 0) return;
    const wait = Math.max(0, this.lastAt + this.interval - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  async flush() {
    this.timer = null;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    this.busy = true;
    try {
      const n = await this.build(batch);
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

  async build(batch) {
    if (batch.length === 1) {
      const post = batch[0];
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
    const newest = batch.slice(-SUMMARY_LINES).reverse();
    const lines = newest.map((p) => `${author(p)}: ${plainBidi(p.text)}`.slice(0, 120));
    if (batch.length > SUMMARY_LINES) lines.push(`and ${batch.length - SUMMARY_LINES} more`);
    return {
      id: `burst:${batch[batch.length - 1].id}`,
      title: `${batch.length} new posts`,
      message: lines.join("\n"),
      iconUrl: BUNDLED_ICON,
      icon: "bundled",
      // The wall shows them all; there is no one permalink for a burst.
      url: this.settings.serverUrl,
      postIds: batch.map((p) => p.id),
    };
  }
}
