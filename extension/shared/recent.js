// The recent posts live in localStorage of the extension origin, which the
// offscreen document (the only writer, see offscreen/store.js) and the popup
// share; the service worker has no localStorage. Pages that read it learn of
// changes through the window "storage" event.

export const KEYS = Object.freeze({
  // Post[] newest first, at most LIMIT, unique ids.
  posts: "tweetwire.posts",
  // number of posts that arrived since the popup was last opened.
  unread: "tweetwire.unread",
  // {state, server, transport?, error?, attempt?, at}: the connection.
  status: "tweetwire.status",
  // {server, id}: the newest post id seen from server, sent as `since`.
  cursor: "tweetwire.cursor",
  // string[]: ids already seen from this server, newest last, so a backlog
  // that repeats posts never notifies twice.
  seen: "tweetwire.seen",
  // {[id]: id below it or ""}: posts deleted or hidden, with the post that
  // was under each, so that one the organiser unhides goes back there.
  removed: "tweetwire.removed",
});

export const LIMIT = 50;

export function readJSON(storage, key, fallback) {
  try {
    const v = JSON.parse(storage.getItem(key));
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

/** readPosts returns the recent posts, newest first. */
export function readPosts(storage = localStorage) {
  const posts = readJSON(storage, KEYS.posts, []);
  return Array.isArray(posts) ? posts : [];
}

/** readUnread returns the unread count. */
export function readUnread(storage = localStorage) {
  const n = Number(storage.getItem(KEYS.unread));
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** readStatus returns the connection status, or an idle one. */
export function readStatus(storage = localStorage) {
  return readJSON(storage, KEYS.status, { state: "idle" });
}
