// The display at /display: the wall for a projector or a TV. The newest post
// (or the organiser's pinned one) sits in the spotlight in large type, the
// ones before it beside it in a grid, paced so that each can be read (see
// pacer.js). Nothing scrolls; only what fits is drawn.

import { callToAction, parseOptions } from "./display-options.js";
import { connectLive, showStatus } from "./live.js";
import { Pacer } from "./pacer.js";
import { renderPost, renderTime, str } from "./post-view.js";
import qrcode from "./vendor/qrcode.mjs";

const options = parseOptions(location.search, location.href);
const $ = (id) => document.getElementById(id);
const spotlight = $("spotlight");
const recent = $("recent");
const waiting = $("waiting");
const more = $("more");
const stateEl = $("state");

document.documentElement.dataset.theme = options.theme;
document.body.classList.toggle("no-images", !options.images);
document.body.classList.toggle("spotlight-only", options.spotlightOnly);
document.body.style.setProperty("--columns", String(options.columns));

if (options.help) {
  $("help").hidden = false;
  $("stage").hidden = true;
}

// --- Posts ---------------------------------------------------------------------

const pacer = new Pacer({ pace: options.pace * 1000 });
// The post in the spotlight, then the ones shown before it, newest first.
let current = null;
let history = [];
let pinned = [];
const MAX_RECENT = 12; // more than any screen fits; CSS hides the rest

function card(post, big) {
  const article = renderPost(post);
  article.classList.add(big ? "spot" : "tile");
  return article;
}

function draw() {
  const spot = pinned[0] ?? current;
  if (spot) {
    const article = card(spot, true);
    if (pinned.length > 0) {
      const badge = document.createElement("span");
      badge.className = "pin-badge";
      badge.textContent = "Pinned";
      article.querySelector(".head")?.prepend(badge);
    }
    spotlight.replaceChildren(article);
  } else {
    spotlight.replaceChildren();
  }
  // With a pin in the spotlight, the newest post leads the grid instead.
  const tiles = (pinned.length > 0 && current ? [current, ...history] : history).filter((p) => p !== spot);
  recent.replaceChildren(...tiles.slice(0, MAX_RECENT).map((p) => card(p, false)));
  waiting.hidden = Boolean(spot);
  drawMore();
}

// drawMore says how many posts came too fast to be shown in the last minute.
function drawMore() {
  const skipped = pacer.skippedRecently();
  more.hidden = skipped === 0;
  more.textContent = skipped === 0 ? "" : `+${skipped} more`;
  more.title = "Posts that came faster than the screen can show them in the last minute";
}

function show(post) {
  if (current) history = [current, ...history].slice(0, MAX_RECENT);
  current = post;
  draw();
}

let timer = 0;

// step shows the next waiting post when its turn has come, and sets a
// timer for the one after.
function step() {
  clearTimeout(timer);
  const post = pacer.next();
  if (post) show(post);
  else drawMore(); // it changes as posts are skipped and as skips age out
  const wait = pacer.due();
  if (Number.isFinite(wait)) timer = setTimeout(step, Math.max(wait, 50));
}

function known(id) {
  return (current && str(current.id) === id) || history.some((p) => str(p.id) === id);
}

function remove(id) {
  pacer.remove(id);
  const was = known(id);
  history = history.filter((p) => str(p.id) !== id);
  if (current && str(current.id) === id) {
    // The next waiting post takes the spotlight now; with none waiting,
    // the one before comes back.
    current = null;
    pacer.release();
    if (pacer.waiting > 0) return step();
    current = history.shift() ?? null;
  }
  if (was) draw();
}

// --- Header ----------------------------------------------------------------------

async function loadEvent() {
  try {
    const res = await fetch("/api/event", { cache: "no-store" });
    if (!res.ok) return;
    const ev = await res.json();
    $("event-name").textContent = str(ev.name) || "Tweetwire";
    document.title = `${str(ev.name) || "Tweetwire"} · display`;
    $("cta").textContent = callToAction(options.cta, ev.terms);
  } catch {
    // The header keeps its defaults; the posts matter more.
  }
}

function drawQR() {
  if (!options.qr) return;
  const qr = qrcode(0, "M");
  qr.addData(options.qr);
  qr.make();
  const canvas = $("qr");
  const n = qr.getModuleCount();
  const quiet = 2;
  const cell = Math.max(2, Math.floor(256 / (n + 2 * quiet)));
  canvas.width = canvas.height = (n + 2 * quiet) * cell;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#000";
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) ctx.fillRect((c + quiet) * cell, (r + quiet) * cell, cell, cell);
    }
  }
  canvas.title = options.qr;
  canvas.dataset.url = options.qr;
  canvas.hidden = false;
}

// --- Cursor -------------------------------------------------------------------------

// The pointer disappears after a few still seconds: nobody wants an arrow
// in the middle of a projected post.
let idle = 0;
function wake() {
  document.body.classList.remove("idle");
  clearTimeout(idle);
  idle = setTimeout(() => document.body.classList.add("idle"), 3000);
}
document.addEventListener("pointermove", wake);
wake();

// --- Start -----------------------------------------------------------------------------

function setState(text, transport = "") {
  stateEl.textContent = text;
  stateEl.dataset.transport = transport;
}

if (!options.help) {
  loadEvent();
  drawQR();
  setInterval(() => document.querySelectorAll("time.time[datetime]").forEach(renderTime), 30_000);
  const ok = connectLive({
    state: setState,
    backlog(posts) {
      // What was missed is shown at once, not paced: the newest in the
      // spotlight, the rest in the grid.
      const fresh = posts.filter((p) => p && typeof p === "object" && !known(str(p.id)));
      if (fresh.length === 0) return;
      const newest = fresh.slice(-1 - MAX_RECENT);
      for (const p of newest) show(p);
    },
    tweet(post) {
      if (!post || typeof post !== "object" || known(str(post.id))) return;
      pacer.push(post);
      step();
    },
    remove(id) {
      remove(id);
      pinned = pinned.filter((p) => str(p.id) !== id);
      draw();
    },
    pins(posts) {
      pinned = posts.filter((p) => p && typeof p === "object");
      draw();
    },
    status: (s) => showStatus($("source-state"), s),
  });
  if (!ok) waiting.textContent = "Could not load the socket.io client (vendor/socket.io.js).";
  setInterval(step, 5000); // ages out "+N more"
}
