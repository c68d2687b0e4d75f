#!/usr/bin/env node
// page-check.mjs: opens the fallback page in Debian's headless Chromium
// (through playwright-core) and reports what a person would see, as one JSON
// line on stdout:
//
//   {"posts":3,"ids":["c","b","a"],"state":"websocket","transport":"websocket",
//    "texts":["...","...","..."],"rich":[{"links":[{text,href,class,target,rel}],
//    "images":[{alt,src,loading,width,height,loaded}],"nameDir":"auto","textDir":"auto","repost":""}],
//    "bidiIsolated":true,"alerts":0,"pageErrors":[],"consoleErrors":[]}
//
// Usage:
//   node page-check.mjs --url http://127.0.0.1:PORT/ [--expect N]
//     [--expect-state TEXT] [--no-websocket] [--timeout-ms T] [--settle-ms S]
//     [--screenshot FILE.png] [--chromium /usr/bin/chromium]
//
// It waits until at least N (default 1) `article.post` elements exist (and,
// with --expect-state, until #state reads TEXT), waits --settle-ms (default
// 500) more so that anything a hostile post could trigger (an alert from
// <img onerror>) has time to run, prints the report and exits 0. On timeout
// (default 30000 ms) it prints the same report with "timeout":true and exits
// 1; if the browser cannot start it prints {"error":"..."} and exits 1.
// --no-websocket removes window.WebSocket before any page script runs, so the
// page must fall back to long polling.

import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

function usage(msg) {
  process.stderr.write(
    `page-check: ${msg}\n` +
      "usage: node page-check.mjs --url http://127.0.0.1:PORT/ [--expect N] [--expect-state TEXT] " +
      "[--no-websocket] [--timeout-ms T] [--settle-ms S] [--screenshot FILE.png] [--chromium PATH]\n",
  );
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      url: { type: "string" },
      expect: { type: "string", default: "1" },
      "expect-state": { type: "string" },
      "no-websocket": { type: "boolean", default: false },
      "timeout-ms": { type: "string", default: "30000" },
      "settle-ms": { type: "string", default: "500" },
      screenshot: { type: "string" },
      chromium: { type: "string", default: "/usr/bin/chromium" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}

if (!args.url) usage("--url is required");
const expect = Number.parseInt(args.expect, 10);
if (!(expect >= 0)) usage(`--expect must be a number >= 0, got ${args.expect}`);
const timeoutMs = Number.parseInt(args["timeout-ms"], 10);
if (!(timeoutMs > 0)) usage(`--timeout-ms must be a positive number, got ${args["timeout-ms"]}`);
const settleMs = Number.parseInt(args["settle-ms"], 10);
if (!(settleMs >= 0)) usage(`--settle-ms must be a number >= 0, got ${args["settle-ms"]}`);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// A hard bound in case the browser itself hangs: launch, navigation and the
// wait each have their own timeouts, but nothing may outlive this.
const watchdog = setTimeout(() => {
  out({ error: "page-check watchdog fired: the browser did not finish in time", timeout: true });
  process.exit(1);
}, timeoutMs + 60_000);
watchdog.unref();

let alerts = 0;
const pageErrors = [];
// Console errors (CSP violations, failed loads) are reported for diagnosis
// only; a missing avatar is not a failure.
const consoleErrors = [];

async function report(page) {
  return page.evaluate(() => {
    // A post's links, the images left in its media grid (a broken one
    // removes itself), the dir of its name and text, and its repost line,
    // as server/e2e/rich_test.go reads them. extension-check.mjs has the
    // same for the popup: each runs inside its page, so it cannot import.
    const richView = (p) => ({
      links: Array.from(p.querySelectorAll(".text a"), (a) => ({
        text: a.textContent, href: a.getAttribute("href"), class: a.className, target: a.target, rel: a.rel, dir: a.dir,
      })),
      images: Array.from(p.querySelectorAll(".media img"), (img) => ({
        alt: img.alt, src: img.getAttribute("src"), loading: img.loading,
        width: Number(img.getAttribute("width")), height: Number(img.getAttribute("height")),
        loaded: img.complete && img.naturalWidth > 0,
      })),
      nameDir: p.querySelector(".name")?.dir ?? "",
      textDir: p.querySelector(".text")?.dir ?? "",
      mediaClass: p.querySelector(".media")?.className ?? "",
      repost: p.querySelector(".repost")?.textContent ?? "",
    });
    const posts = Array.from(document.querySelectorAll("article.post"));
    const state = document.getElementById("state");
    return {
      posts: posts.length,
      ids: posts.map((p) => p.dataset.id ?? ""),
      state: state ? state.textContent.trim() : null,
      transport: state ? (state.dataset.transport ?? "") : null,
      texts: posts.map((p) => p.querySelector(".text")?.textContent ?? ""),
      rich: posts.map(richView),
      // Whether every name and handle is laid out on its own and every
      // text takes its direction from itself: a bidi control in one field
      // (U+202E) cannot reverse the next.
      bidiIsolated: posts.every((p) => {
        const style = (sel, want) => {
          const e = p.querySelector(sel);
          return !e || getComputedStyle(e).unicodeBidi === want;
        };
        return style(".name", "isolate") && style(".handle", "isolate") && style(".text", "plaintext");
      }),
    };
  });
}

async function main() {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: args.chromium,
      headless: true,
      timeout: 60_000,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  } catch (err) {
    out({ error: `cannot launch ${args.chromium}: ${err.message.split("\n")[0]}` });
    return 1;
  }

  try {
    const page = await browser.newPage();
    page.on("dialog", (dialog) => {
      alerts++;
      dialog.dismiss().catch(() => {});
    });
    page.on("pageerror", (err) => pageErrors.push(String(err && err.message ? err.message : err)));
    page.on("console", (msg) => {
      if (msg.type() === "error" && consoleErrors.length < 50) consoleErrors.push(msg.text());
    });
    if (args["no-websocket"]) {
      await page.addInitScript(() => {
        delete window.WebSocket;
        window.WebSocket = undefined;
      });
    }

    const deadline = Date.now() + timeoutMs;
    let timedOut = false;
    try {
      await page.goto(args.url, { waitUntil: "domcontentloaded", timeout: timeoutMs });
      await page.waitForFunction(
        ([n, state]) =>
          document.querySelectorAll("article.post").length >= n &&
          (state === null || document.getElementById("state")?.textContent.trim() === state),
        [expect, args["expect-state"] ?? null],
        { timeout: Math.max(1, deadline - Date.now()), polling: 100 },
      );
      if (settleMs > 0) await page.waitForTimeout(settleMs);
    } catch (err) {
      if (err.name !== "TimeoutError") pageErrors.push(`page-check: ${err.message.split("\n")[0]}`);
      timedOut = true;
    }

    let result;
    try {
      result = await report(page);
    } catch (err) {
      result = { posts: 0, ids: [], state: null, transport: null, texts: [] };
      pageErrors.push(`page-check: cannot read the page: ${err.message.split("\n")[0]}`);
    }
    if (args.screenshot) {
      await page.screenshot({ path: args.screenshot, fullPage: false }).catch((err) => {
        pageErrors.push(`page-check: screenshot: ${err.message.split("\n")[0]}`);
      });
    }
    result.alerts = alerts;
    result.pageErrors = pageErrors;
    result.consoleErrors = consoleErrors;
    if (timedOut) result.timeout = true;
    out(result);
    return timedOut ? 1 : 0;
  } finally {
    await browser.close().catch(() => {});
  }
}

// Exit explicitly: a stray handle left by the browser must not keep us alive.
process.exit(await main());
