// Notifier turns new posts into chrome notifications. Which posts notify,
// when a rush becomes one digest updated in place and the pacing are
// shared/notify-rules.js's NotifyPacer, the same code the wall page runs;
// this file only builds what the service worker shows (Type.NOTIFY): a
// post with its author and avatar, or the digest with the bundled icon.

import { author, plainBidi } from "../shared/post.js";
import { DIGEST_ID, digestText, INTERVAL_MS, NotifyPacer } from "../shared/notify-rules.js";
import { avatarIcon, BUNDLED_ICON } from "./avatar.js";

export class Notifier {
  /**
   * @param {(n: object) => Promise<void>} show sends one notification (see
   *   Type.NOTIFY in shared/messages.js for its shape)
   */
  constructor(show, { now = () => Date.now(), interval = INTERVAL_MS } = {}) {
    this.serverUrl = "";
    this.pacer = new NotifyPacer(
      async (item) => {
        const n = await this.build(item);
        n.sentAt = now();
        await show(n);
      },
      { now, interval },
    );
  }

  configure(settings) {
    this.serverUrl = settings.serverUrl ?? "";
    this.pacer.configure(settings);
  }

  add(posts) {
    this.pacer.add(posts);
  }

  /** retract drops a deleted post that has not been shown yet. */
  retract(id) {
    this.pacer.retract(id);
  }

  /** clear drops everything pending (the server changed). */
  clear() {
    this.pacer.clear();
  }

  async build(item) {
    if (item.kind === "digest") {
      const { title, message } = digestText(item.posts);
      return {
        id: DIGEST_ID,
        title,
        message,
        iconUrl: BUNDLED_ICON,
        icon: "bundled",
        // The wall shows them all; there is no one permalink for a digest.
        url: this.serverUrl,
        postIds: item.fresh.map((p) => p.id),
        count: item.posts.length,
      };
    }
    const post = item.post;
    const avatar = await avatarIcon(post.picture);
    return {
      id: "post:" + post.id,
      title: author(post),
      message: plainBidi(post.text),
      iconUrl: avatar ?? BUNDLED_ICON,
      icon: avatar ? "avatar" : "bundled",
      url: post.url || this.serverUrl,
      postIds: [post.id],
    };
  }
}
