#!/usr/bin/env node
// extension-check.mjs: loads the unpacked Tweetwire extension into Debian's
// headless Chromium (through playwright-core, with a fresh profile) and
// reports what it observes, one JSON object per line on stdout. It asserts
// nothing: server/e2e/extension_test.go drives it and decides.
//
// Usage:
//   node extension-check.mjs [--extension DIR] [--chromium /usr/bin/chromium]
//     [--max-ms 300000]
//
// Once the service worker and the offscreen document run it prints
//   {"event":"ready","id":"<extension id>","offscreen":1}
// and then reads commands from stdin, one JSON object per line, each with
// an "id" echoed in its answer {"reply":ID, ...} (or {"reply":ID,"error":..}):
//
//   {"id":1,"cmd":"settings","sync":{...},"local":{...}}
//       chrome.storage.sync.set / chrome.storage.local.set, as the options
//       page and the popup do.
//   {"id":2,"cmd":"snapshot"}
//       -> {posts, unread, status, cursor, shown, active, offscreen,
//          offscreenTargets, badge, worker}: the extension's localStorage,
//          the notifications it recorded in chrome.storage.session and those
//          chrome.notifications.getAll() still shows, the offscreen documents
//          (chrome.runtime.getContexts and CDP targets), the badge text and
//          the service worker's {status, starts, stops} as CDP reports them.
//   {"id":3,"cmd":"popup","click":"#notifications","dark":true}
//       opens popup/popup.html in a tab (in the dark colour scheme if
//       asked), clicks the element named by the optional CSS selector (the
//       notifications switch), waits for the page to render and settle,
//       -> {items:[{id,name,handle,text,time,timeTitle,timeAttr,link,avatar,
//          initial}], state, transport, notificationsOn, help, helpLinks,
//          links:[{text,href,target}], minContrast (the lowest contrast of
//          grey and link text), strayImages, dialogs, pageErrors,
//          badgeAfter}, and closes it.
//   {"id":4,"cmd":"options"}
//       reloads the options page -> {serverUrl, muteWords, alertWords,
//       alertAuthors, digestPosts, notify, connection, connectionState} as
//       its form shows them, with the connection line under the URL.
//   {"id":5,"cmd":"stop-workers"}
//       CDP ServiceWorker.stopAllWorkers; -> {stops, starts} once CDP reports
//       the worker stopped.
//   {"id":6,"cmd":"quit"}
//
// Events it prints on its own: worker (each runningStatus change), dialog,
// pageerror, console (errors and warnings from extension pages and the
// worker). On a browser failure it prints {"event":"fatal","error":...}
// and exits 1. It exits on quit, at the end of stdin, or after --max-ms.

import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { driverArgs, out, serveCommands, startOrDie, stopAfter, within } from "./driver.mjs";
import { extensionState, optionsView, popupView } from "./extension-views.mjs";

const here = dirname(fileURLToPath(import.meta.url));

const { args, maxMs } = driverArgs("extension-check", {
  extension: { type: "string", default: resolve(here, "../../extension") },
  chromium: { type: "string", default: "/usr/bin/chromium" },
}, { usage: "[--extension DIR] [--chromium PATH]" });

const extensionDir = resolve(args.extension);
let context = null;
let userDataDir = null;
let exiting = false;

async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  try {
    await context?.close();
  } catch {
    // The browser may be gone already.
  }
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  process.exit(code);
}

stopAfter("extension-check", maxMs, shutdown);

let extensionId = "";
let control = null; // an extension page to run chrome.* calls from
let cdp = null;

// The service worker's life as CDP's ServiceWorker domain reports it.
// Playwright's Worker objects do not follow a worker that Chrome stops and
// starts again, so the driver counts runningStatus transitions instead.
const worker = { status: "", starts: 0, stops: 0, waiters: [] };

function isOurs(url) {
  return extensionId !== "" && url.startsWith(`chrome-extension://${extensionId}/`);
}

function onWorkerVersions({ versions }) {
  for (const v of versions) {
    if (!isOurs(v.scriptURL) || v.runningStatus === worker.status) continue;
    const was = worker.status;
    worker.status = v.runningStatus;
    if (v.runningStatus === "running") worker.starts++;
    if (v.runningStatus === "stopped" && was !== "") worker.stops++;
    out({ event: "worker", status: v.runningStatus, starts: worker.starts, stops: worker.stops });
    for (const w of worker.waiters.splice(0)) w();
  }
}

function watchWorker(w) {
  w.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") out({ event: "console", where: "worker", type: msg.type(), text: msg.text() });
  });
}

function watchPage(page, counters) {
  page.on("dialog", (d) => {
    if (counters) counters.dialogs++;
    out({ event: "dialog", url: page.url(), message: d.message() });
    d.dismiss().catch(() => {});
  });
  page.on("pageerror", (err) => {
    if (counters) counters.pageErrors.push(String(err?.message ?? err));
    out({ event: "pageerror", url: page.url(), error: String(err?.message ?? err) });
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") out({ event: "console", where: page.url(), type: msg.type(), text: msg.text() });
  });
}

async function start() {
  await stat(join(extensionDir, "manifest.json"));
  await stat(join(extensionDir, "vendor", "socket.io.js")).catch(() => {
    throw new Error(`${extensionDir}/vendor/socket.io.js is missing: run scripts/prepare`);
  });
  userDataDir = await mkdtemp(join(tmpdir(), "tweetwire-extension-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: args.chromium,
    // --headless=new below: the new headless mode runs extensions, the
    // old one and Playwright's headless shell do not.
    headless: false,
    timeout: 60000,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  context.on("serviceworker", (w) => {
    if (w.url().startsWith("chrome-extension://")) watchWorker(w);
  });
  context.on("close", () => {
    if (!exiting) {
      out({ event: "fatal", error: "the browser closed" });
      shutdown(1);
    }
  });
  const first = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker", { timeout: 30000 }));
  watchWorker(first);
  extensionId = new URL(first.url()).host;

  control = await context.newPage();
  watchPage(control, null);
  await control.goto(`chrome-extension://${extensionId}/options/options.html`, { timeout: 30000 });
  cdp = await context.newCDPSession(control);
  cdp.on("ServiceWorker.workerVersionUpdated", onWorkerVersions);
  await cdp.send("ServiceWorker.enable");

  const deadline = Date.now() + 30000;
  let snap = await snapshot();
  while (snap.offscreen < 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    snap = await snapshot();
  }
  if (snap.offscreen < 1) throw new Error("the service worker did not create the offscreen document within 30 s");
  out({ event: "ready", id: extensionId, offscreen: snap.offscreen });
}

async function snapshot() {
  const seen = await control.evaluate(extensionState);
  seen.offscreen = await control.evaluate(
    async () => (await chrome.runtime.getContexts({ contextTypes: ["OFFSCREEN_DOCUMENT"] })).length,
  );
  const { targetInfos } = await cdp.send("Target.getTargets");
  seen.offscreenTargets = targetInfos.filter((t) => isOurs(t.url) && t.url.includes("/offscreen/")).length;
  seen.worker = { status: worker.status, starts: worker.starts, stops: worker.stops };
  return seen;
}

async function popup(click, dark) {
  const counters = { dialogs: 0, pageErrors: [] };
  const page = await context.newPage();
  watchPage(page, counters);
  try {
    await page.emulateMedia({ colorScheme: dark ? "dark" : "light" });
    await page.goto(`chrome-extension://${extensionId}/popup/popup.html`, { timeout: 30000 });
    await page.waitForSelector("body[data-ready]", { timeout: 10000 });
    if (click) await page.click(click, { timeout: 10000 });
    // Long enough for an <img onerror> in a post to have fired, and for the
    // unread count to be cleared.
    await page.waitForTimeout(1000);
    const seen = await page.evaluate(popupView);
    return { ...seen, dialogs: counters.dialogs, pageErrors: counters.pageErrors, badgeAfter: await control.evaluate(() => chrome.action.getBadgeText({})) };
  } finally {
    await page.close();
  }
}

async function options() {
  await control.reload({ timeout: 30000 });
  // options.js fills the form from chrome.storage once it has read it.
  await control.waitForFunction(() => document.getElementById("serverUrl")?.value !== "", null, { timeout: 10000 });
  return control.evaluate(optionsView);
}

async function stopWorkers() {
  const stops = worker.stops;
  await cdp.send("ServiceWorker.stopAllWorkers");
  // The counts as they were when it stopped: the next post may wake it
  // again before this answer is written.
  return within(10000, "the service worker stopping", new Promise((resolve) => {
    const check = () => (worker.stops > stops ? resolve({ stops: worker.stops, starts: worker.starts }) : worker.waiters.push(check));
    check();
  }));
}

async function run(cmd) {
  switch (cmd.cmd) {
    case "settings":
      await control.evaluate(async ({ sync, local }) => {
        if (sync) await chrome.storage.sync.set(sync);
        if (local) await chrome.storage.local.set(local);
      }, cmd);
      return {};
    case "snapshot":
      return snapshot();
    case "popup":
      return popup(cmd.click, cmd.dark === true);
    case "stop-workers":
      return stopWorkers();
    case "options":
      return options();
    case "quit":
      setImmediate(() => shutdown(0));
      return {};
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
  }
}

await startOrDie(start, shutdown);
serveCommands({ run, shutdown });
