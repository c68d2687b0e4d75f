#!/usr/bin/env node
// firefox-check.mjs: loads the Tweetwire add-on (the Firefox build that
// scripts/package-extension makes, unzipped) into Debian's headless
// firefox-esr through puppeteer-core over WebDriver BiDi, with a fresh
// profile, and reports what it observes, one JSON object per line on
// stdout. It asserts nothing: server/e2e/firefox_test.go drives it and
// decides.
//
// Usage:
//   node firefox-check.mjs --extension DIR [--firefox /usr/bin/firefox-esr]
//     [--idle-ms N] [--max-ms 300000]
//
// --idle-ms sets how long Firefox lets the event page idle before it
// suspends it (extensions.background.idle.timeout, 30 s by default).
//
// BiDi refuses to open moz-extension:// pages, so the driver cannot look
// into the add-on itself. It installs a test build instead: a copy of DIR
// with firefox-hook.mjs (and extension-views.mjs) added first to the background
// scripts, which fetches commands from this driver's HTTP server on
// 127.0.0.1 and posts back the answers. Once the hook has called in it
// prints
//   {"event":"ready","id":"<the add-on's moz-extension:// origin>"}
// and then reads commands from stdin, one JSON object per line, each with
// an "id" echoed in its answer {"reply":ID, ...} (or {"reply":ID,"error":..}):
//
//   {"cmd":"settings","sync":{...},"local":{...}}  chrome.storage.*.set
//   {"cmd":"snapshot"} -> {posts, unread, status, cursor, shown, active,
//       badge, created, starts, polling, origin}: localStorage, the record
//       of shown notifications (storage.session), those still open, the
//       badge, every notifications.create call the hook saw, how many
//       times the background page started, and whether WebSocket is off.
//   {"cmd":"popup","click":"#notifications"} -> what popup/popup.html
//       shows (extension-views.mjs), in a frame of the background page,
//       after clicking what the optional selector names.
//   {"cmd":"options"} -> the options form, as extension-check.mjs's.
//   {"cmd":"polling"} restarts the add-on without WebSocket; answers once
//       the restarted hook calls in.
//   {"cmd":"suspended"} answers once Firefox has suspended the event page
//       (the hook's open request to the driver closed unanswered). Commands
//       sent to the hook after it wait until the page is woken.
//   {"cmd":"quit"}
//
// On a failure it prints {"event":"fatal","error":...} and exits 1. It
// exits on quit, at the end of stdin, or after --max-ms. FIREFOX_DUMPIO=1
// passes Firefox's output, the add-on's console included, to stderr.

import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { driverArgs, out, serveCommands, startOrDie, stopAfter, within } from "./driver.mjs";

const here = dirname(fileURLToPath(import.meta.url));

const { args, maxMs } = driverArgs("firefox-check", {
  extension: { type: "string" },
  firefox: { type: "string", default: "/usr/bin/firefox-esr" },
  "idle-ms": { type: "string", default: "" },
}, { required: ["extension"], usage: "--extension DIR [--firefox PATH] [--idle-ms N]" });

let browser = null;
let server = null;
let build = null;
let exiting = false;

async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  try {
    await browser?.close();
  } catch {
    // The browser may be gone already.
  }
  server?.close();
  if (build) await rm(build, { recursive: true, force: true }).catch(() => {});
  process.exit(code);
}

stopAfter("firefox-check", maxMs, shutdown);

// The hook's side: commands wait in `pending` until the hook asks for the
// next one; answers come back by seq.
const pending = [];
let nextFetch = null; // the hook's open /next request, answered with the next command
const answers = new Map();
// Commands the hook took but has not answered: when Firefox suspends the
// page in between, the next start of the page gets them again (every
// command but "polling", which is answered before it restarts, can run
// twice).
const inflight = new Map();
let seq = 0;
const hello = { start: 0, origin: "", waiters: [] };
// Who waits for the page to go away (its open /next request closed without
// an answer: Firefox suspended or reloaded it).
const goneWaiters = [];

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function flush() {
  if (!nextFetch || pending.length === 0) return;
  const res = nextFetch;
  nextFetch = null;
  clearTimeout(res.idle);
  const cmd = pending.shift();
  inflight.set(cmd.seq, cmd);
  res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" }).end(JSON.stringify(cmd));
}

async function onRequest(req, res) {
  let msg = {};
  try {
    msg = JSON.parse((await body(req)) || "{}");
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (req.url === "/next") {
    if (msg.start !== hello.start) {
      // A new start of the background page (first load, or a reload).
      hello.start = msg.start;
      hello.origin = msg.origin;
      out({ event: "hook", origin: msg.origin });
      pending.unshift(...inflight.values());
      inflight.clear();
      for (const w of hello.waiters.splice(0)) w();
    }
    if (nextFetch) nextFetch.writeHead(204, { "access-control-allow-origin": "*" }).end();
    nextFetch = res;
    res.on("close", () => {
      if (res.writableEnded) return;
      if (nextFetch === res) nextFetch = null;
      clearTimeout(res.idle);
      out({ event: "hook-gone" });
      for (const w of goneWaiters.splice(0)) w();
    });
    res.idle = setTimeout(() => {
      if (nextFetch === res) {
        nextFetch = null;
        res.writeHead(204, { "access-control-allow-origin": "*" }).end();
      }
    }, 10000);
    flush();
    return;
  }
  if (req.url === "/reply") {
    inflight.delete(msg.seq);
    answers.get(msg.seq)?.(msg);
    answers.delete(msg.seq);
  }
  res.writeHead(204, { "access-control-allow-origin": "*" }).end();
}

function nextHello() {
  return new Promise((resolve) => hello.waiters.push(resolve));
}

/** ask sends cmd to the hook and resolves with its answer. */
function ask(cmd) {
  const s = ++seq;
  const answer = new Promise((resolve, reject) => {
    answers.set(s, (msg) => {
      const { seq: _, error, ...rest } = msg;
      if (error) reject(new Error(error));
      else resolve(rest);
    });
  });
  pending.push({ ...cmd, seq: s });
  flush();
  return answer;
}

async function start() {
  const ext = resolve(args.extension);
  await stat(join(ext, "manifest.json"));
  server = createServer((req, res) => {
    onRequest(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const driverUrl = `http://127.0.0.1:${server.address().port}`;

  // The test build: the add-on as packaged, plus the hook first.
  build = await mkdtemp(join(tmpdir(), "tweetwire-firefox-"));
  const addon = join(build, "addon");
  await cp(ext, addon, { recursive: true });
  const hook = (await readFile(join(here, "firefox-hook.mjs"), "utf8")).replace(`"__DRIVER__"`, JSON.stringify(driverUrl));
  await writeFile(join(addon, "test-hook.js"), hook);
  await cp(join(here, "extension-views.mjs"), join(addon, "extension-views.js"));
  const manifest = JSON.parse(await readFile(join(addon, "manifest.json"), "utf8"));
  manifest.background.scripts = ["test-hook.js", ...manifest.background.scripts];
  await writeFile(join(addon, "manifest.json"), JSON.stringify(manifest, null, 2));

  const first = nextHello();
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: args.firefox,
    headless: true,
    dumpio: process.env.FIREFOX_DUMPIO === "1",
    timeout: 60000,
    userDataDir: join(build, "profile"),
    extraPrefsFirefox: {
      // Quiet: no update checks or telemetry from a test browser.
      "app.update.enabled": false,
      "datareporting.policy.dataSubmissionEnabled": false,
      "extensions.update.enabled": false,
      // How long the event page may be idle before Firefox suspends it
      // (30 s by default).
      ...(args["idle-ms"] ? { "extensions.background.idle.timeout": Number(args["idle-ms"]) } : {}),
      "devtools.console.stdout.chrome": true,
      "devtools.console.stdout.content": true,
      "browser.dom.window.dump.enabled": true,
    },
  });
  browser.on("disconnected", () => {
    if (!exiting) {
      out({ event: "fatal", error: "the browser closed" });
      shutdown(1);
    }
  });
  const id = await browser.installExtension(addon);
  out({ event: "installed", id });
  await within(30000, "the add-on's background page calling in", first);
  out({ event: "ready", id: hello.origin });
}

async function run({ id: _, ...cmd }) {
  switch (cmd.cmd) {
    case "settings":
    case "snapshot":
    case "popup":
    case "options":
      return ask(cmd);
    case "polling": {
      const again = nextHello();
      await ask(cmd);
      await within(30000, "the add-on restarting", again);
      return { origin: hello.origin };
    }
    case "suspended":
      // Answered without the hook, once Firefox has torn the page down.
      await within(75000, "the event page being suspended", new Promise((resolve) => goneWaiters.push(resolve)));
      return {};
    case "quit":
      setImmediate(() => shutdown(0));
      return {};
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
  }
}

await startOrDie(start, shutdown);
// One command asked while Firefox has suspended the page waits until the
// alarm wakes it (30 s at most).
serveCommands({ run, shutdown, ms: 80000 });
