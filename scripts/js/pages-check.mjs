#!/usr/bin/env node
// pages-check.mjs: drives the server's pages (the wall /, the moderation
// console /admin, the display /display) side by side in Debian's headless
// Chromium (through playwright-core) and reports what a person would see,
// one JSON object per line on stdout. It asserts nothing: the tests in
// server/e2e drive it and decide.
//
// Usage:
//   node pages-check.mjs --base http://127.0.0.1:PORT [--chromium PATH] [--max-ms N]
//
// Once the browser runs it prints {"event":"ready"} and then reads commands
// from stdin, one JSON object per line, each with an "id" echoed in its
// answer {"reply":ID, ...} (or {"reply":ID,"error":"..."}). PAGE is "admin",
// "wall" or "display"; each is opened by "open" and stays open until "quit".
//
//   {"id":1,"cmd":"open","page":"admin","path":"/admin#token=...","width":1440,"height":1000}
//       (the viewport is optional: 1440x1000 by default)
//   {"id":2,"cmd":"click","page":"admin","selector":"CSS"}      a mouse click
//   {"id":3,"cmd":"press","page":"admin","selector":"CSS","key":"Enter"}
//       focuses the element and presses the key: what a keyboard user does
//   {"id":4,"cmd":"fill","page":"admin","selector":"CSS","value":"..."}
//   {"id":5,"cmd":"select","page":"admin","selector":"CSS","value":"..."}
//   {"id":6,"cmd":"read","page":"admin"|"wall"}
//       admin -> {signedIn, notice, stream:[{id,state,actions}], queue:[id],
//                 pins:[id], hidden:[id], blocks:[text], allow:[text],
//                 audit:[text], premoderation, hideReposts}
//       wall  -> {ids:[...], pinned:[...], texts:[...], title, eventName, terms,
//                 count, countHref, newPosts, older, paused, scrollY,
//                 sourceState: the stream's state when it is not running,
//                 overflowX: wider than the screen, textPx: post text size,
//                 notifyButton, notifyState: the opt-in button's text and
//                 state (off, on, blocked), notifications: [{title, body,
//                 tag, icon, at}] every Notification the page created (the
//                 permission is granted for --base)}
//       display -> {spotlight, recent:[...], more, state, eventName, cta, qr,
//                   help, overflow: whether anything scrolls or sticks out
//                   of the viewport, fontPx: the spotlight text's size,
//                   sourceState}
//   {"id":7,"cmd":"screenshot","page":"admin","path":"/tmp/x.png","full":true}
//       the whole page, or (full false) what the viewport shows
//   {"id":8,"cmd":"scroll","page":"wall","y":2000}             -> {scrollY}
//   {"id":9,"cmd":"visibility","page":"wall","hidden":true}
//       tells the page its tab is hidden (or visible again), as a browser
//       does with visibilitychange: headless tabs are always visible
//   {"id":10,"cmd":"quit"}
//
// Page errors, dialogs and console errors are printed as events and counted
// in every "read" answer (pageErrors, dialogs).

import { chromium } from "playwright-core";
import { driverArgs, out, serveCommands, stopAfter } from "./driver.mjs";

const { args, maxMs } = driverArgs("pages-check", {
  base: { type: "string" },
  chromium: { type: "string", default: "/usr/bin/chromium" },
}, { required: ["base"], usage: "--base http://127.0.0.1:PORT [--chromium PATH]" });

let browser = null;
let context = null;
let exiting = false;
const pages = new Map();
const counters = { pageErrors: [], dialogs: 0 };

async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await browser?.close().catch(() => {});
  process.exit(code);
}

stopAfter("pages-check", maxMs, shutdown);

function page(name) {
  const p = pages.get(name);
  if (!p) throw new Error(`page ${name} is not open: send {"cmd":"open","page":"${name}"} first`);
  return p;
}

async function open(name, path, width, height) {
  let p = pages.get(name);
  if (!p) {
    p = await context.newPage();
    p.on("dialog", (d) => {
      counters.dialogs++;
      out({ event: "dialog", page: name, message: d.message() });
      d.dismiss().catch(() => {});
    });
    p.on("pageerror", (err) => {
      counters.pageErrors.push(String(err?.message ?? err));
      out({ event: "pageerror", page: name, error: String(err?.message ?? err) });
    });
    p.on("console", (msg) => {
      if (msg.type() === "error") out({ event: "console", page: name, text: msg.text() });
    });
    pages.set(name, p);
  }
  await p.setViewportSize({ width: Number(width) || 1440, height: Number(height) || 1000 });
  await p.goto(new URL(path, args.base).href, { timeout: 30000 });
  return { url: p.url() };
}

// readAdmin reports the console as it is drawn.
function readAdmin() {
  const ids = (sel) => Array.from(document.querySelectorAll(`${sel} > li`), (li) => li.dataset.key);
  const texts = (sel) => Array.from(document.querySelectorAll(`${sel} > li`), (li) => li.textContent.replace(/\s+/g, " ").trim());
  const notice = document.getElementById("notice");
  return {
    signedIn: !document.getElementById("console").hidden,
    notice: notice.hidden ? "" : notice.textContent,
    noticeKind: notice.dataset.kind || "",
    stream: Array.from(document.querySelectorAll("#stream > li"), (li) => ({
      id: li.dataset.key,
      state: li.querySelector(".state-badge")?.textContent ?? "",
      pinned: li.querySelector(".post")?.classList.contains("pinned") ?? false,
      actions: Array.from(li.querySelectorAll(".actions button"), (b) => b.dataset.action),
    })),
    queue: ids("#queue"),
    pins: ids("#pins"),
    hidden: ids("#hidden"),
    blocks: texts("#blocks"),
    allow: texts("#allow"),
    audit: texts("#audit"),
    premoderation: document.getElementById("premoderation").checked,
    hideReposts: document.getElementById("hide-reposts").checked,
    // Anything a hostile post could have made into markup.
    strayImages: document.querySelectorAll(".text img, .name img").length,
  };
}

function readWall() {
  // The text of an element a person can see ("" otherwise): rendered,
  // not merely without the hidden attribute.
  const shown = (id) => {
    const el = document.getElementById(id);
    return el && el.checkVisibility() ? el.textContent : "";
  };
  return {
    ids: Array.from(document.querySelectorAll("#feed article.post"), (a) => a.dataset.id),
    pinned: Array.from(document.querySelectorAll("#pinned article.post"), (a) => a.dataset.id),
    texts: Array.from(document.querySelectorAll("#feed article.post .text"), (p) => p.textContent),
    title: document.title,
    eventName: shown("event-name"),
    terms: shown("terms"),
    count: shown("count"),
    countHref: document.getElementById("count")?.getAttribute("href") ?? "",
    newPosts: shown("new-posts"),
    older: shown("older"),
    paused: document.getElementById("pause")?.getAttribute("aria-pressed") === "true",
    sourceState: shown("source-state"),
    // Layout: anything wider than the screen, and the size of post text.
    overflowX: document.scrollingElement.scrollWidth > document.scrollingElement.clientWidth + 1,
    textPx: (() => {
      const t = document.querySelector("#feed article.post .text");
      return t ? Number.parseFloat(getComputedStyle(t).fontSize) : 0;
    })(),
    scrollY: window.scrollY,
    notifyButton: shown("notify"),
    notifyState: document.getElementById("notify")?.dataset.state ?? "",
    notifications: window.__tweetwireNotifications ?? [],
  };
}

function readDisplay() {
  const spot = document.querySelector("#spotlight article.post");
  const root = document.scrollingElement;
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  // Visible content that sticks out of the viewport (clipped grid tiles
  // are hidden by their container and do not count).
  const outside = Array.from(document.querySelectorAll(".stage-bar, #spotlight, #spotlight article, #recent, .waiting")).some((el) => {
    if (el.hidden || el.offsetParent === null) return false;
    const r = el.getBoundingClientRect();
    return r.right > vw + 1 || r.bottom > vh + 1;
  });
  const text = spot?.querySelector(".text");
  return {
    spotlight: spot?.dataset.id ?? "",
    recent: Array.from(document.querySelectorAll("#recent article.post"), (a) => a.dataset.id),
    more: document.getElementById("more").hidden ? "" : document.getElementById("more").textContent,
    state: document.getElementById("state").textContent,
    eventName: document.getElementById("event-name").textContent,
    cta: document.getElementById("cta").textContent,
    qr: document.getElementById("qr").hidden ? "" : document.getElementById("qr").dataset.url ?? "",
    help: !document.getElementById("help").hidden,
    theme: document.documentElement.dataset.theme,
    overflow: root.scrollHeight > root.clientHeight + 1 || root.scrollWidth > root.clientWidth + 1 || outside,
    fontPx: text ? Number.parseFloat(getComputedStyle(text).fontSize) : 0,
    pinned: Boolean(spot?.querySelector(".pin-badge")),
    sourceState: document.getElementById("source-state").hidden ? "" : document.getElementById("source-state").textContent,
    // The same as page-check.mjs's richView, for the spotlight.
    spotRich: spot
      ? {
          links: Array.from(spot.querySelectorAll(".text a"), (a) => ({
            text: a.textContent, href: a.getAttribute("href"), class: a.className, target: a.target, rel: a.rel, dir: a.dir,
          })),
          images: Array.from(spot.querySelectorAll(".media img"), (img) => ({
            alt: img.alt, src: img.getAttribute("src"), loading: img.loading,
            width: Number(img.getAttribute("width")), height: Number(img.getAttribute("height")),
            loaded: img.complete && img.naturalWidth > 0,
          })),
          nameDir: spot.querySelector(".name")?.dir ?? "",
          textDir: spot.querySelector(".text")?.dir ?? "",
          mediaClass: spot.querySelector(".media")?.className ?? "",
          repost: spot.querySelector(".repost")?.textContent ?? "",
        }
      : null,
  };
}

const readers = { admin: readAdmin, wall: readWall, display: readDisplay };

async function handle(msg) {
  switch (msg.cmd) {
    case "open":
      return open(msg.page, msg.path ?? "/", msg.width, msg.height);
    case "click":
      await page(msg.page).click(msg.selector, { timeout: 10000 });
      return {};
    case "press":
      await page(msg.page).focus(msg.selector, { timeout: 10000 });
      await page(msg.page).keyboard.press(msg.key ?? "Enter");
      return { focused: await page(msg.page).evaluate(() => document.activeElement?.dataset.action ?? document.activeElement?.id ?? "") };
    case "fill":
      await page(msg.page).fill(msg.selector, String(msg.value ?? ""), { timeout: 10000 });
      return {};
    case "select":
      await page(msg.page).selectOption(msg.selector, String(msg.value ?? ""), { timeout: 10000 });
      return {};
    case "read": {
      const p = page(msg.page);
      const reader = readers[msg.page];
      if (!reader) throw new Error(`no reader for page ${msg.page}`);
      const view = await p.evaluate(reader);
      return { ...view, pageErrors: counters.pageErrors, dialogs: counters.dialogs };
    }
    case "scroll":
      await page(msg.page).evaluate((y) => window.scrollTo({ top: y, behavior: "instant" }), Number(msg.y) || 0);
      return { scrollY: await page(msg.page).evaluate(() => window.scrollY) };
    case "visibility":
      // Headless Chromium keeps every tab visible; the page is told
      // otherwise the way a browser tells it, with visibilitychange.
      await page(msg.page).evaluate((hidden) => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
        document.dispatchEvent(new Event("visibilitychange"));
      }, msg.hidden === true || msg.hidden === "true");
      return {};
    case "screenshot":
      // Animations finished: a post caught fading in is not what people see.
      await page(msg.page).screenshot({ path: msg.path, fullPage: msg.full !== false, animations: "disabled" });
      return {};
    case "quit":
      out({ reply: msg.id });
      await shutdown(0);
      return null;
    default:
      throw new Error(`unknown command ${JSON.stringify(msg.cmd)}`);
  }
}

try {
  browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    timeout: 60000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"],
  });
  context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  // The wall's desktop notifications: the permission is granted as if the
  // reader had allowed it, and every Notification the page creates is
  // recorded (headless Chromium shows none) before the real one is made.
  await context.grantPermissions(["notifications"], { origin: new URL(args.base).origin });
  await context.addInitScript(() => {
    const Real = window.Notification;
    if (typeof Real !== "function") return;
    const seen = (window.__tweetwireNotifications = []);
    class Recorded extends Real {
      constructor(title, options = {}) {
        seen.push({ title: String(title), body: String(options.body ?? ""), tag: String(options.tag ?? ""), icon: String(options.icon ?? ""), at: Date.now() });
        super(title, options);
      }
    }
    window.Notification = Recorded;
  });
} catch (err) {
  out({ event: "fatal", error: `cannot start Chromium: ${err.message}` });
  process.exit(1);
}
out({ event: "ready" });

// The test waits for each reply; none waits longer than the driver runs.
serveCommands({ run: handle, shutdown, ms: maxMs });
