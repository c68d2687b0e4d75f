// pacer.js: the display's pace. Whatever the rate posts arrive at, each one
// stays in the spotlight for at least `pace` ms so that a room can read it.
// A burst waits in a queue; when the queue would make the newest post wait
// more than `maxLag` ms, the oldest waiting posts are skipped, and counted,
// so the screen can say "+N more" instead of silently running late.
//
// The pacer holds no timer: the page asks due() when to call next() again.

export class Pacer {
  /**
   * @param {{pace?: number, maxLag?: number, now?: () => number}} [options]
   */
  constructor({ pace = 6000, maxLag = 60000, now = () => Date.now() } = {}) {
    if (!(pace > 0)) throw new RangeError(`pace must be a positive number of ms, not ${pace}`);
    this.pace = pace;
    this.now = now;
    // At most this many posts wait: the last of them is shown maxLag ms
    // from now at the latest.
    this.capacity = Math.max(1, Math.floor(maxLag / pace));
    this.queue = [];
    // When the post now in the spotlight came up (-Infinity: none yet).
    this.shownAt = -Infinity;
    // Times at which posts were skipped, for skippedRecently.
    this.skips = [];
  }

  /** push queues a post; it is skipped later if the queue overflows. */
  push(post) {
    this.queue.push(post);
    while (this.queue.length > this.capacity) {
      this.queue.shift();
      this.skips.push(this.now());
    }
  }

  /** remove takes a post (deleted, hidden) out of the queue by id. */
  remove(id) {
    const i = this.queue.findIndex((p) => String(p.id) === String(id));
    if (i >= 0) this.queue.splice(i, 1);
    return i >= 0;
  }

  /** waiting is how many posts are queued. */
  get waiting() {
    return this.queue.length;
  }

  /**
   * due returns how many ms until next() gives a post: 0 when it would now,
   * Infinity when nothing waits.
   */
  due() {
    if (this.queue.length === 0) return Infinity;
    return Math.max(0, this.shownAt + this.pace - this.now());
  }

  /** next returns the post to show now, or null when none is due. */
  next() {
    if (this.due() !== 0) return null;
    this.shownAt = this.now();
    return this.queue.shift();
  }

  /**
   * release ends the current post's time early (it was deleted or hidden),
   * so that the next waiting post may come up at once.
   */
  release() {
    this.shownAt = -Infinity;
  }

  /** skippedRecently counts the posts skipped in the last `window` ms. */
  skippedRecently(window = 60000) {
    const since = this.now() - window;
    while (this.skips.length > 0 && this.skips[0] < since) this.skips.shift();
    return this.skips.length;
  }
}
