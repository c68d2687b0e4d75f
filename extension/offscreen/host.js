// The connection host: the Socket.IO connection, the recent posts in
// localStorage and the notification pacing, wired together. Chrome runs it
// in the offscreen document (offscreen/main.js), Firefox in the event page
// itself (event-page.js); each gives it the three ways out, which are
// messages to the service worker in Chrome and direct calls in Firefox.

import { isFor, Target, Type } from "../shared/messages.js";
import { normalizePost } from "../shared/post.js";
import { normalizeSettings } from "../shared/settings.js";
import { Connection } from "./connection.js";
import { Notifier } from "./notifier.js";
import { RecentStore } from "./store.js";

function logError(err) {
  console.error("tweetwire:", err);
}

/**
 * @typedef {object} Outlets
 * @property {(n: object) => Promise<void>} notify shows one notification (Type.NOTIFY's data)
 * @property {(id: string) => Promise<void>} retract clears a deleted post's notification
 * @property {(count: number) => Promise<void>} badge shows the unread count
 * @property {() => void} [alive] the connection is up (Connection's onAlive)
 */

/**
 * startHost opens nothing until the first configure: it needs the server
 * URL from the settings.
 * @param {Outlets} out
 */
export function startHost(out) {
  const store = new RecentStore(localStorage);
  const notifier = new Notifier((n) => out.notify(n));
  let serverUrl = null;

  const updateBadge = () => out.badge(store.unread()).catch(logError);

  const connection = new Connection({
    since: () => store.since(),
    onStatus: (status) => store.setStatus(status),
    onAlive: () => out.alive?.(),
    onPosts(raw) {
      const posts = raw.map((p) => normalizePost(p, serverUrl)).filter(Boolean);
      const fresh = store.add(posts);
      if (fresh.length === 0) return;
      notifier.add(fresh);
      updateBadge();
    },
    onDelete(id) {
      notifier.retract(id);
      if (store.remove(id)) updateBadge();
      out.retract(id).catch(logError);
    },
  });

  return {
    /** configured reports whether settings have been applied yet. */
    configured: () => serverUrl !== null,

    /** configure applies settings; only a new server URL reconnects. */
    configure(raw) {
      const settings = normalizeSettings(raw);
      notifier.configure(settings);
      if (settings.serverUrl === serverUrl) return;
      serverUrl = settings.serverUrl;
      if (store.server() !== serverUrl) {
        notifier.clear();
        store.reset(serverUrl);
      }
      updateBadge();
      connection.open(serverUrl);
    },

    /** onMessage takes the messages for Target.OFFSCREEN (the popup's
     * MARK_READ, and in Chrome the worker's CONFIG). */
    onMessage(msg) {
      if (!isFor(msg, Target.OFFSCREEN)) return;
      switch (msg.type) {
        case Type.CONFIG:
          this.configure(msg.data);
          break;
        case Type.MARK_READ:
          store.markRead();
          updateBadge();
          break;
      }
    },
  };
}
