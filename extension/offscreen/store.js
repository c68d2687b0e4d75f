// RecentStore keeps the recent posts, the unread count and the reconnect
// cursor in localStorage (see shared/recent.js for the keys). Only the
// offscreen document writes them; it runs one task at a time, so each
// method's read-modify-write is atomic.

import { KEYS, LIMIT, readJSON, readPosts, readUnread } from "../shared/recent.js";

// How many ids to remember beyond the LIMIT posts shown: a server that
// does not know our `since` id (it restarted) answers with its whole
// backlog, which may reach further back than the list.
const SEEN_LIMIT = 1000;

export class RecentStore {
  constructor(storage = localStorage) {
    this.storage = storage;
  }

  /** server is the URL the stored posts came from, or null. */
  server() {
    return readJSON(this.storage, KEYS.cursor, null)?.server ?? null;
  }

  /** since is the newest post id seen from the current server, or "". */
  since() {
    return readJSON(this.storage, KEYS.cursor, null)?.id ?? "";
  }

  /**
   * reset forgets everything from the previous server: its ids mean nothing
   * to another one, and its posts do not belong on this wall.
   */
  reset(server) {
    this.storage.setItem(KEYS.posts, "[]");
    this.storage.setItem(KEYS.seen, "[]");
    this.storage.setItem(KEYS.removed, "{}");
    this.storage.setItem(KEYS.unread, "0");
    this.storage.setItem(KEYS.cursor, JSON.stringify({ server, id: "" }));
  }

  /**
   * add records posts in arrival order (oldest first) and returns those not
   * seen before, which count as unread. A post that was removed and comes
   * back (the organiser unhid it) returns to its old place in the list and
   * is neither unread nor returned: it is not news. The cursor moves to the
   * last post even when it was seen: the server sends in order.
   */
  add(posts) {
    if (posts.length === 0) return [];
    const seenList = readJSON(this.storage, KEYS.seen, []);
    const seen = new Set(seenList);
    const removed = readJSON(this.storage, KEYS.removed, {});
    let list = readPosts(this.storage);
    const fresh = [];
    let restored = 0;
    for (const p of posts) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      seenList.push(p.id);
      if (Object.hasOwn(removed, p.id)) {
        const below = removed[p.id];
        delete removed[p.id];
        const at = below === "" ? list.length : list.findIndex((q) => q.id === below);
        list.splice(at < 0 ? list.length : at, 0, p);
        restored++;
        continue;
      }
      fresh.push(p);
    }
    const cursor = readJSON(this.storage, KEYS.cursor, {});
    cursor.id = posts[posts.length - 1].id;
    this.storage.setItem(KEYS.cursor, JSON.stringify(cursor));
    if (fresh.length === 0 && restored === 0) return fresh;
    list = [...fresh].reverse().concat(list).slice(0, LIMIT);
    this.storage.setItem(KEYS.seen, JSON.stringify(seenList.slice(-SEEN_LIMIT)));
    this.storage.setItem(KEYS.posts, JSON.stringify(list));
    this.storage.setItem(KEYS.removed, JSON.stringify(removed));
    if (fresh.length > 0) this.storage.setItem(KEYS.unread, String(readUnread(this.storage) + fresh.length));
    return fresh;
  }

  /**
   * remove deletes a post from the list (deleted at the source, or hidden
   * by the organiser); it reports whether it was there. The post is
   * forgotten as seen, and its place kept, so that it can come back.
   */
  remove(id) {
    const list = readPosts(this.storage);
    const i = list.findIndex((p) => p.id === id);
    if (i < 0) return false;
    const removed = readJSON(this.storage, KEYS.removed, {});
    removed[id] = i + 1 < list.length ? list[i + 1].id : "";
    const keys = Object.keys(removed);
    for (const k of keys.slice(0, Math.max(0, keys.length - LIMIT))) delete removed[k];
    this.storage.setItem(KEYS.removed, JSON.stringify(removed));
    const seenList = readJSON(this.storage, KEYS.seen, []);
    this.storage.setItem(KEYS.seen, JSON.stringify(seenList.filter((s) => s !== id)));
    list.splice(i, 1);
    this.storage.setItem(KEYS.posts, JSON.stringify(list));
    // The unread posts are the newest ones, at the top of the list.
    const unread = readUnread(this.storage);
    if (i < unread) this.storage.setItem(KEYS.unread, String(unread - 1));
    return true;
  }

  unread() {
    return readUnread(this.storage);
  }

  markRead() {
    this.storage.setItem(KEYS.unread, "0");
  }

  setStatus(status) {
    this.storage.setItem(KEYS.status, JSON.stringify({ ...status, at: new Date().toISOString() }));
  }
}
