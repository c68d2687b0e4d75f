// The event wall: a socket.io-client 4.x page that shows posts newest first,
// with the organiser's pinned posts above them. A reader who scrolled down,
// or paused, is not pushed around: new posts wait behind a button. How one
// post looks is post-view.js's business.

import { connectLive, showStatus } from "./live.js";
import { renderPost, renderTime, str } from "./post-view.js";

const MAX_SEEN = 5000; // ids remembered for dedupe after they left the DOM
const PAGE = 50; // posts per "Load older"
const TOTAL_EVERY_MS = 20_000; // how often the true total is asked for

const $ = (id) => document.getElementById(id);
const feed = $("feed");
const empty = $("empty");
const stateEl = $("state");
const countEl = $("count");
const pinned = $("pinned");
const newButton = $("new-posts");
const pauseButton = $("pause");
const olderButton = $("older");

// Posts kept in the DOM; "Load older" raises it by what it loads.
let maxPosts = 200;
// Posts that arrived while the reader was scrolled down or paused, oldest
// first: shown when they click the button.
let waiting = [];
let paused = false;
// Posts received while the tab was hidden, for its title.
let unread = 0;
let eventName = "";
// The event's total from the server, and posts received since it was read.
let total = null;
let sinceTotal = 0;
// Set once "Load older" came back with less than a page: nothing older.
let noOlder = false;

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
  while (shown.size > maxPosts) {
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
  if (below.size > maxPosts) below.delete(below.keys().next().value);
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

// --- Holding new posts ---------------------------------------------------------

// holding says whether new posts should wait: the reader paused, or scrolled
// away from the top, where a new post would move what they read.
function holding() {
  return paused || window.scrollY > feed.offsetTop;
}

function hold(post) {
  const id = str(post.id);
  if (seen.has(id) || waiting.some((p) => str(p.id) === id)) return;
  waiting.push(post);
  showWaiting();
}

function showWaiting() {
  newButton.hidden = waiting.length === 0;
  newButton.textContent = waiting.length === 1 ? "1 new post" : `${waiting.length} new posts`;
}

// release shows what waited, and takes the reader to it.
function release(scroll) {
  const posts = waiting;
  waiting = [];
  posts.forEach(addPost);
  showWaiting();
  updateCount();
  if (scroll && posts.length > 0) window.scrollTo({ top: 0, behavior: "smooth" });
}

newButton.addEventListener("click", () => release(true));
pauseButton.addEventListener("click", () => {
  paused = !paused;
  pauseButton.setAttribute("aria-pressed", String(paused));
  pauseButton.textContent = paused ? "Resume" : "Pause";
  pauseButton.title = paused ? "Show new posts as they come" : "Stop new posts from moving the page";
  if (!paused && !holding()) release(false);
});
// Back at the top, unpaused: what waited comes in.
window.addEventListener("scroll", () => {
  if (waiting.length > 0 && !holding()) release(false);
}, { passive: true });

// Desktop notifications are loaded on their own: their rules are a copy
// that scripts/prepare makes (vendor/notify-rules.js), and a build without
// it must still show the posts. Until it loads, posts are not notified.
let notifications = { add() {}, retract() {} };
import("./wall-notify.js")
  .then(({ setupNotifications }) => {
    notifications = setupNotifications({
      button: $("notify"),
      rules: $("notify-rules"),
      only: $("notify-only"),
      never: $("notify-never"),
    });
  })
  .catch((err) => console.warn("tweetwire: no desktop notifications:", err));

function receive(post) {
  if (!post || typeof post !== "object" || post.id === undefined || post.id === null) return;
  if (!seen.has(str(post.id))) notifications.add(post);
  if (document.hidden && !seen.has(str(post.id))) unread++;
  sinceTotal++;
  if (holding()) hold(post);
  else addPost(post);
  updateCount();
}

// --- Older posts -------------------------------------------------------------------

async function loadOlder() {
  const last = feed.lastElementChild;
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (last) params.set("before", last.dataset.id);
  olderButton.disabled = true;
  olderButton.textContent = "Loading…";
  try {
    const res = await fetch(`/api/tweets?${params}`, { cache: "no-store" });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error((body && body.error) || `the server answered ${res.status}`);
    const posts = Array.isArray(body) ? body : Array.isArray(body?.tweets) ? body.tweets : [];
    maxPosts += posts.length;
    for (const post of posts) {
      const id = str(post.id);
      if (seen.has(id)) continue;
      remember(id);
      const article = renderPost(post);
      shown.set(id, article);
      feed.append(article);
    }
    noOlder = posts.length < PAGE;
    olderButton.textContent = "Load older posts";
  } catch (err) {
    olderButton.textContent = "Could not load older posts; try again";
    olderButton.title = String(err.message || err);
  } finally {
    olderButton.disabled = false;
    updateCount();
  }
}
olderButton.addEventListener("click", loadOlder);

// --- Header ------------------------------------------------------------------------

async function loadEvent() {
  try {
    const res = await fetch("/api/event", { cache: "no-store" });
    if (!res.ok) return;
    const ev = await res.json();
    eventName = str(ev.name);
    $("event-name").textContent = eventName || "Tweetwire";
    const terms = Array.isArray(ev.terms) ? ev.terms.map(str).filter(Boolean) : [];
    $("terms").textContent = terms.join(" · ");
    $("terms").hidden = terms.length === 0;
    if (eventName) countEl.href = `/stats?event=${encodeURIComponent(eventName)}`;
    updateTitle();
  } catch {
    // The header keeps "Tweetwire"; the posts matter more.
  }
}

async function loadTotal() {
  if (document.hidden) return;
  try {
    const res = await fetch("/api/stats", { cache: "no-store" });
    if (!res.ok) return;
    const s = await res.json();
    if (typeof s.total === "number") {
      total = s.total;
      sinceTotal = 0;
      updateCount();
    }
  } catch {
    // The count falls back to what this page holds.
  }
}

const number = new Intl.NumberFormat();

function updateTitle() {
  const name = eventName ? `${eventName} · Tweetwire` : "Tweetwire";
  document.title = unread > 0 ? `(${unread}) ${name}` : name;
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    unread = 0;
    updateTitle();
    loadTotal();
  }
});

function updateCount() {
  empty.hidden = shown.size > 0 || waiting.length > 0;
  // The event's true total when the server gave it (plus what came since),
  // else what this page holds.
  const n = total === null ? shown.size : Math.max(total + sinceTotal, shown.size);
  countEl.textContent = n === 1 ? "1 post" : `${number.format(n)} posts`;
  countEl.title = "Statistics of the event";
  olderButton.hidden = noOlder || shown.size === 0;
  updateTitle();
}

// The "new posts" button sticks just below the header, whose height
// changes as its buttons wrap on narrow screens.
const bar = document.querySelector("header.bar");
new ResizeObserver(() => document.documentElement.style.setProperty("--bar-height", `${bar.offsetHeight}px`)).observe(bar);

setInterval(() => feed.querySelectorAll("time.time[datetime]").forEach(renderTime), 30_000);
setInterval(loadTotal, TOTAL_EVERY_MS);
updateCount();
loadEvent();
loadTotal();

// --- Connection ---------------------------------------------------------------

const connected = connectLive({
  state: setState,
  backlog(posts) {
    if (holding()) posts.forEach(hold);
    else posts.forEach(addPost);
    updateCount();
  },
  tweet: receive,
  remove(id) {
    notifications.retract(str(id));
    removePost(id);
    waiting = waiting.filter((p) => str(p.id) !== id);
    showWaiting();
    updateCount();
  },
  pins: showPins,
  status: (s) => showStatus($("source-state"), s),
});
if (!connected) empty.textContent = "Could not load the socket.io client (vendor/socket.io.js).";
