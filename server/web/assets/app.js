// The fallback event wall: a socket.io-client 4.x page that shows posts newest
// first, with the organiser's pinned posts above them. How one post looks is
// post-view.js's business.

import { connectLive } from "./live.js";
import { renderPost, renderTime, str } from "./post-view.js";

const MAX_POSTS = 200; // posts kept in the DOM
const MAX_SEEN = 5000; // ids remembered for dedupe after they left the DOM

const feed = document.getElementById("feed");
const empty = document.getElementById("empty");
const stateEl = document.getElementById("state");
const countEl = document.getElementById("count");
const pinned = document.getElementById("pinned");

// id -> <article>, for the posts now in the DOM.
const shown = new Map();
// Every id added (insertion ordered, trimmed to MAX_SEEN). A post that was
// pruned is not added again when a later backlog repeats it; a deleted one
// is forgotten, so that it can come back if the organiser unhides it.
const seen = new Set();

function setState(text, transport = "") {
  stateEl.textContent = text;
  stateEl.dataset.transport = transport;
}

function remember(id) {
  seen.add(id);
  if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value);
}

// below remembers, for each post taken off the wall, the id of the post that
// was under it, so that a post the organiser unhides goes back where it was.
const below = new Map();

// addPost shows a post unless it is shown already: a new one on top (the
// wall is in order of arrival), one that comes back after being hidden in
// its old place.
function addPost(post) {
  if (!post || typeof post !== "object" || post.id === undefined || post.id === null) return;
  const id = str(post.id);
  if (seen.has(id)) return;
  remember(id);
  let next = feed.firstElementChild;
  if (below.has(id)) {
    const under = below.get(id);
    below.delete(id);
    next = under === "" ? null : shown.get(under) ?? feed.firstElementChild;
  }
  const article = renderPost(post);
  shown.set(id, article);
  feed.insertBefore(article, next);
  while (shown.size > MAX_POSTS) {
    const oldest = feed.lastElementChild;
    shown.delete(oldest.dataset.id);
    oldest.remove();
  }
}

// removePost takes a post off the wall (deleted at the source, or hidden by
// the organiser) and forgets it, so that it can come back if it is unhidden.
function removePost(id) {
  id = str(id);
  seen.delete(id);
  const article = shown.get(id);
  if (!article) return;
  below.set(id, article.nextElementSibling ? article.nextElementSibling.dataset.id : "");
  if (below.size > MAX_POSTS) below.delete(below.keys().next().value);
  shown.delete(id);
  article.remove();
}

// showPins replaces the pinned posts above the feed: the server sends the
// whole list each time it changes, and once after each backlog.
function showPins(posts) {
  const list = Array.isArray(posts) ? posts.filter((p) => p && typeof p === "object") : [];
  const articles = list.map((post) => {
    const article = renderPost(post);
    article.classList.add("pinned");
    const badge = document.createElement("span");
    badge.className = "pin-badge";
    badge.textContent = "Pinned";
    article.querySelector(".head")?.prepend(badge);
    return article;
  });
  pinned.replaceChildren(...articles);
  pinned.hidden = articles.length === 0;
}

function updateCount() {
  empty.hidden = shown.size > 0;
  countEl.textContent = shown.size === 1 ? "1 post" : `${shown.size} posts`;
}

setInterval(() => feed.querySelectorAll("time.time[datetime]").forEach(renderTime), 30_000);
updateCount();

// --- Connection ---------------------------------------------------------------

const connected = connectLive({
  state: setState,
  backlog(posts) {
    posts.forEach(addPost);
    updateCount();
  },
  tweet(post) {
    addPost(post);
    updateCount();
  },
  remove(id) {
    removePost(id);
    updateCount();
  },
  pins: showPins,
});
if (!connected) empty.textContent = "Could not load the socket.io client (vendor/socket.io.js).";
