// The offscreen document: it lives as long as the browser does (the service
// worker does not), so it holds the Socket.IO connection, the recent posts
// in localStorage and the notification pacing. Its only extension API is
// chrome.runtime: settings arrive from the service worker, notifications
// and the badge go back to it.

import { isFor, send, Target, Type } from "../shared/messages.js";
import { normalizePost } from "../shared/post.js";
import { normalizeSettings } from "../shared/settings.js";
import { Connection } from "./connection.js";
import { Notifier } from "./notifier.js";
import { RecentStore } from "./store.js";

const store = new RecentStore(localStorage);
const notifier = new Notifier((n) => send(Target.BACKGROUND, Type.NOTIFY, n));
let serverUrl = null;

const connection = new Connection({
  since: () => store.since(),
  onStatus: (status) => store.setStatus(status),
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
    send(Target.BACKGROUND, Type.RETRACT, { id }).catch(logError);
  },
});

function updateBadge() {
  send(Target.BACKGROUND, Type.BADGE, { count: store.unread() }).catch(logError);
}

function logError(err) {
  console.error("tweetwire:", err);
}

/** configure applies settings; only a new server URL reconnects. */
function configure(raw) {
  const settings = normalizeSettings(raw);
  notifier.configure(settings);
  if (settings.serverUrl === serverUrl) return;
  serverUrl = settings.serverUrl;
  if (store.server() !== serverUrl) {
    notifier.clear();
    store.reset(serverUrl);
    updateBadge();
  }
  connection.open(serverUrl);
}

chrome.runtime.onMessage.addListener((msg) => {
  if (!isFor(msg, Target.OFFSCREEN)) return;
  switch (msg.type) {
    case Type.CONFIG:
      configure(msg.data);
      break;
    case Type.MARK_READ:
      store.markRead();
      updateBadge();
      break;
  }
});

// Ask the service worker for the settings; it created this document, so it
// is running, but retry in case it was stopped in between.
async function start() {
  for (let attempt = 0; ; attempt++) {
    try {
      const settings = await send(Target.BACKGROUND, Type.OFFSCREEN_READY);
      if (settings) {
        // A CONFIG message may have come first; it is the same or newer.
        if (serverUrl === null) configure(settings);
        updateBadge();
        return;
      }
    } catch (err) {
      logError(err);
    }
    await new Promise((r) => setTimeout(r, Math.min(10000, 250 * 2 ** attempt)));
  }
}

start();
