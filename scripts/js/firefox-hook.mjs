// firefox-hook.mjs: the test build's reporting hook, never in a release
// zip. WebDriver BiDi cannot open moz-extension:// pages, so the test
// cannot look into the add-on the way extension-check.mjs looks into
// Chrome's: firefox-check.mjs copies the packaged add-on, puts this file
// first in its background scripts with the driver's address in place of
// __DRIVER__, and this file asks the driver for commands over HTTP and
// answers with what the add-on holds. It records every call of
// notifications.create (wrapped), and can switch the add-on to long
// polling only by removing WebSocket before socket.io-client loads.

const DRIVER = "__DRIVER__";
const POLLING_KEY = "tweetwire-test.polling";
const CREATED_KEY = "tweetwire-test.created";
const STARTS_KEY = "tweetwire-test.starts";

// The original design's own example: without WebSocket, socket.io-client
// stays on long polling. Must run before vendor/socket.io.js, which reads
// the constructor once when it loads.
if (localStorage.getItem(POLLING_KEY) === "1") {
  delete globalThis.WebSocket;
  globalThis.WebSocket = undefined;
}
localStorage.setItem(STARTS_KEY, String(Number(localStorage.getItem(STARTS_KEY)) + 1));

const read = (key) => {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
};

// Wraps notifications.create in both namespaces (the add-on calls
// chrome.*; Firefox's browser.* may be another object), recording each
// call that succeeded.
function wrapCreate(ns) {
  const real = ns?.notifications?.create;
  if (typeof real !== "function" || real.tweetwireWrapped) return;
  const wrapped = async function (id, options) {
    const result = await real.call(this, id, options);
    const created = read(CREATED_KEY) ?? [];
    const icon = String(options?.iconUrl ?? "");
    created.push({ id, title: options?.title ?? "", message: options?.message ?? "", icon: icon.startsWith("data:") ? "data" : icon, at: Date.now() });
    localStorage.setItem(CREATED_KEY, JSON.stringify(created.slice(-500)));
    return result;
  };
  wrapped.tweetwireWrapped = true;
  Object.defineProperty(ns.notifications, "create", { value: wrapped, configurable: true, writable: true });
}
wrapCreate(globalThis.chrome);
wrapCreate(globalThis.browser);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, ms, ok) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

async function snapshot() {
  const { extensionState } = await import("./extension-views.js");
  return {
    ...(await extensionState()),
    created: read(CREATED_KEY) ?? [],
    starts: Number(localStorage.getItem(STARTS_KEY)),
    polling: localStorage.getItem(POLLING_KEY) === "1",
    origin: location.origin,
  };
}

// Loads one of the add-on's pages in a frame of this page (the same
// document Firefox shows, with the same localStorage and messages), waits
// until ready(doc), runs act(doc), and reads it with read(doc).
async function inFrame(path, ready, act, read) {
  const frame = document.createElement("iframe");
  const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
  frame.src = chrome.runtime.getURL(path);
  (document.body ?? document.documentElement).append(frame);
  try {
    await loaded;
    const doc = frame.contentDocument;
    await until(`${path} rendering`, 10000, () => ready(doc));
    await act(doc);
    return read(doc);
  } finally {
    frame.remove();
  }
}

// The popup under the toolbar button, clicking what `click` names first.
async function popup(click) {
  const { popupView } = await import("./extension-views.js");
  const seen = await inFrame(
    "popup/popup.html",
    (doc) => doc.body?.dataset.ready === "true",
    async (doc) => {
      if (click) {
        const el = doc.querySelector(click);
        if (!el) throw new Error(`the popup has no ${click}`);
        el.click();
      }
      // As extension-check.mjs: long enough for an <img onerror> in a
      // post to have fired, and for the unread count to be cleared.
      await sleep(1000);
    },
    popupView,
  );
  return { ...seen, badgeAfter: await chrome.action.getBadgeText({}) };
}

async function options() {
  const { optionsView } = await import("./extension-views.js");
  // options.js fills the form from chrome.storage once it has read it.
  return inFrame("options/options.html", (doc) => (doc.getElementById("serverUrl")?.value ?? "") !== "", async () => {}, optionsView);
}

async function run(cmd) {
  switch (cmd.cmd) {
    case "settings":
      if (cmd.sync) await chrome.storage.sync.set(cmd.sync);
      if (cmd.local) await chrome.storage.local.set(cmd.local);
      return {};
    case "snapshot":
      return snapshot();
    case "popup":
      return popup(cmd.click);
    case "options":
      return options();
    case "polling":
      // Restart the add-on without WebSocket: the page is reloaded as when
      // Firefox wakes a suspended one, and connects again with `since`.
      localStorage.setItem(POLLING_KEY, "1");
      setTimeout(() => chrome.runtime.reload(), 200);
      return {};
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
  }
}

const post = (path, body) => fetch(DRIVER + path, { method: "POST", body: JSON.stringify(body) });

async function serve() {
  const start = Date.now();
  for (;;) {
    let cmd;
    try {
      // Answers at once with a command, or with 204 after a while.
      const res = await post("/next", { start, origin: location.origin });
      if (res.status !== 200) continue;
      cmd = await res.json();
    } catch {
      await sleep(500); // the driver is starting or gone
      continue;
    }
    let reply;
    try {
      reply = { seq: cmd.seq, ...(await run(cmd)) };
    } catch (err) {
      reply = { seq: cmd.seq, error: String(err?.message ?? err) };
    }
    await post("/reply", reply).catch(() => {});
  }
}

serve();
