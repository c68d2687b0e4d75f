// The extension's list of recent posts (extension/offscreen/store.js), on a
// storage that behaves like localStorage.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentStore } from "../../../extension/offscreen/store.js";
import { readPosts, readUnread } from "../../../extension/shared/recent.js";

class MemoryStorage {
  constructor() {
    this.m = new Map();
  }
  getItem(k) {
    return this.m.has(k) ? this.m.get(k) : null;
  }
  setItem(k, v) {
    this.m.set(k, String(v));
  }
}

const post = (i) => ({ id: `mastodon:${i}`, user: "zoë", text: `توت ${i} 🍓 <b>${i}</b>` });

function fresh() {
  const storage = new MemoryStorage();
  const store = new RecentStore(storage);
  store.reset("http://127.0.0.1:8124");
  return { storage, store };
}

test("new posts are unread, newest first, once", () => {
  const { storage, store } = fresh();
  assert.deepEqual(store.add([post(1), post(2)]).map((p) => p.id), ["mastodon:1", "mastodon:2"]);
  assert.deepEqual(store.add([post(2)]), [], "a repeated post is not news");
  assert.deepEqual(readPosts(storage).map((p) => p.id), ["mastodon:2", "mastodon:1"]);
  assert.equal(readUnread(storage), 2);
});

test("a hidden post that is unhidden goes back to its place, without a notification", () => {
  const { storage, store } = fresh();
  store.add([post(1), post(2), post(3)]);
  store.markRead();
  assert.equal(store.remove("mastodon:2"), true);
  assert.deepEqual(readPosts(storage).map((p) => p.id), ["mastodon:3", "mastodon:1"]);
  store.add([post(4)]);
  const news = store.add([post(2)]);
  assert.deepEqual(news, [], "an unhidden post raises no notification");
  assert.deepEqual(readPosts(storage).map((p) => p.id), ["mastodon:4", "mastodon:3", "mastodon:2", "mastodon:1"]);
  assert.equal(readUnread(storage), 1, "only mastodon:4 is unread");
});

test("the oldest post, unhidden, goes back to the bottom", () => {
  const { storage, store } = fresh();
  store.add([post(1), post(2)]);
  store.remove("mastodon:1");
  store.add([post(1)]);
  assert.deepEqual(readPosts(storage).map((p) => p.id), ["mastodon:2", "mastodon:1"]);
});

test("removing an unread post lowers the count", () => {
  const { storage, store } = fresh();
  store.add([post(1), post(2)]);
  store.remove("mastodon:2");
  assert.equal(readUnread(storage), 1);
  assert.equal(store.remove("mastodon:9"), false);
});
