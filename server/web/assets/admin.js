// The moderation console at /admin. It polls the admin API every few seconds
// and after each action; lists are updated in place (keyed by id) so that the
// button under the keyboard focus stays where it is. Posts are drawn by
// post-view.js, like on the wall.

import { AuthError, call, list, postPath, setToken, signOut, takeTokenFromURL, token } from "./admin-api.js";
import { absoluteFormat, el, relativeTime, renderPost, str } from "./post-view.js";

const REFRESH_MS = 2500;
const STREAM_LIMIT = 60;
const AUDIT_LIMIT = 50;

const $ = (id) => document.getElementById(id);
const signIn = $("sign-in");
const consoleEl = $("console");
const notice = $("notice");

// --- Messages -------------------------------------------------------------

let noticeTimer = 0;

function say(text, kind = "info") {
  notice.textContent = text;
  notice.dataset.kind = kind;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), kind === "error" ? 10_000 : 4_000);
}

// --- Lists ------------------------------------------------------------------

// sync makes container show items in order, one child per key. A child is
// rebuilt only when its signature changed, and moved only when it is out of
// place, so focus and scroll survive a refresh.
function sync(container, items, key, signature, render, emptyEl) {
  const old = new Map();
  for (const child of container.children) old.set(child.dataset.key, child);
  let at = container.firstElementChild;
  for (const [i, item] of items.entries()) {
    const k = key(item, i);
    const sig = signature(item);
    let node = old.get(k);
    old.delete(k);
    if (!node || node.dataset.sig !== sig) {
      const fresh = render(item);
      fresh.dataset.key = k;
      fresh.dataset.sig = sig;
      const hadFocus = node && node.contains(document.activeElement);
      const focusedAction = hadFocus ? document.activeElement.dataset.action : "";
      if (node) {
        if (node === at) at = fresh;
        node.replaceWith(fresh);
      }
      node = fresh;
      if (focusedAction) node.querySelector(`[data-action="${focusedAction}"]`)?.focus();
    }
    if (node === at) at = at.nextElementSibling;
    else container.insertBefore(node, at);
  }
  for (const node of old.values()) node.remove();
  if (emptyEl) emptyEl.hidden = items.length > 0;
}

function button(label, action, onClick, className = "") {
  const b = el("button", className, label);
  b.type = "button";
  b.dataset.action = action;
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await onClick();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function when(at) {
  const d = new Date(str(at));
  return Number.isNaN(d.getTime()) ? "" : relativeTime(d);
}

function authorOf(post) {
  return `${str(post.source)}:${str(post.user).replace(/^@/, "")}`;
}

// asPost turns an item of the admin API ({post, state, by, at, reason,
// pinned}) into the post it is about, with the moderation beside it.
function asPost(item) {
  if (!item || typeof item !== "object" || !item.post || typeof item.post !== "object") return null;
  return {
    ...item.post,
    moderation: { state: str(item.state) || "shown", by: item.by, at: item.at, reason: item.reason },
    pinned: item.pinned === true,
  };
}

function posts(data) {
  return list(data, "posts").map(asPost).filter(Boolean);
}

// stateOf is the moderation state of a post in an admin answer: "shown",
// "hidden", "blocked", "queued" or "rejected".
function stateOf(post) {
  const m = post.moderation;
  if (m && typeof m === "object") return str(m.state) || "shown";
  return str(m) || str(post.state) || "shown";
}

const stateLabels = {
  hidden: "Hidden",
  blocked: "Blocked",
  queued: "Waiting for approval",
  rejected: "Rejected",
};

// --- Actions ------------------------------------------------------------------

async function act(what, fn) {
  try {
    await fn();
    say(what);
  } catch (err) {
    if (err instanceof AuthError) return showSignIn(err.message);
    say(err.message, "error");
  }
  await refresh();
}

const hide = (post) => act("Hidden from every screen.", () => call("POST", postPath(post.id, "hide")));
const unhide = (post) => act("Shown again.", () => call("POST", postPath(post.id, "unhide")));
const pin = (post) => act("Pinned on top of the wall.", () => call("POST", postPath(post.id, "pin")));
const unpin = (post) => act("Unpinned.", () => call("POST", postPath(post.id, "unpin")));
const blockAuthor = (post) =>
  act(`Blocked ${authorOf(post)}; their posts are hidden.`, () =>
    call("POST", "/api/admin/blocks", { kind: "author", value: authorOf(post) }),
  );
const approve = (post) =>
  act("Approved: it is on the wall now.", () => call("POST", `/api/admin/queue/${encodeURIComponent(post.id)}/approve`));
const reject = (post) =>
  act("Rejected.", () => call("POST", `/api/admin/queue/${encodeURIComponent(post.id)}/reject`));

// --- Rendering ----------------------------------------------------------------

let pinnedIDs = new Set();

function card(post, actions) {
  const li = el("li", "card");
  const article = renderPost(post);
  const state = stateOf(post);
  if (stateLabels[state]) {
    article.classList.add(`is-${state}`);
    const badge = el("span", `state-badge state-${state}`, stateLabels[state]);
    const m = post.moderation;
    if (m && typeof m === "object") {
      const detail = [m.reason, m.by && `by ${m.by}`, m.at && when(m.at)].filter(Boolean).map(str).join(", ");
      if (detail) badge.title = detail;
    }
    article.querySelector(".head")?.append(badge);
  }
  if (pinnedIDs.has(str(post.id))) article.classList.add("pinned");
  const bar = el("div", "actions");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", `Actions for the post by ${str(post.name) || str(post.user)}`);
  bar.append(...actions);
  li.append(article, bar);
  return li;
}

function streamCard(post) {
  const state = stateOf(post);
  const actions = [];
  if (state === "hidden") actions.push(button("Unhide", "unhide", () => unhide(post)));
  else if (state === "shown") actions.push(button("Hide", "hide", () => hide(post), "danger"));
  if (state === "queued") {
    actions.push(button("Approve", "approve", () => approve(post), "primary"));
    actions.push(button("Reject", "reject", () => reject(post)));
  }
  if (state === "shown") {
    if (pinnedIDs.has(str(post.id))) actions.push(button("Unpin", "unpin", () => unpin(post)));
    else actions.push(button("Pin", "pin", () => pin(post)));
  }
  if (post.user) actions.push(button(`Block @${str(post.user)}`, "block", () => blockAuthor(post)));
  return card(post, actions);
}

function postSig(post) {
  return [stateOf(post), pinnedIDs.has(str(post.id)), JSON.stringify(post.moderation || "")].join("|");
}

function row(text, detail, actions) {
  const li = el("li", "row");
  const label = el("span", "row-label", text);
  li.append(label);
  if (detail) li.append(el("span", "row-detail", detail));
  const bar = el("span", "actions");
  bar.append(...actions);
  li.append(bar);
  return li;
}

const blockKinds = { word: "Word", author: "Person" };

function renderBlocks(blocks) {
  sync(
    $("blocks"),
    blocks,
    (b) => str(b.id),
    (b) => `${b.kind}|${b.value}`,
    (b) =>
      row(str(b.value), blockKinds[b.kind] || str(b.kind), [
        button("Remove", "remove", () =>
          act(`No longer blocked: ${str(b.value)}.`, () => call("DELETE", `/api/admin/blocks/${encodeURIComponent(b.id)}`)),
        ),
      ]),
    $("blocks-empty"),
  );
}

let settings = null;

function renderSettings(s) {
  settings = s;
  const pre = $("premoderation");
  const reposts = $("hide-reposts");
  pre.checked = Boolean(s.premoderation);
  reposts.checked = Boolean(s.hide_reposts);
  const allow = Array.isArray(s.allow) ? s.allow.map(str) : [];
  sync(
    $("allow"),
    allow,
    (a) => a,
    (a) => a,
    (a) =>
      row(a, "", [
        button("Remove", "remove", () =>
          saveSettings({ allow: allow.filter((x) => x !== a) }, `${a} will wait for approval again.`),
        ),
      ]),
    $("allow-empty"),
  );
}

function saveSettings(change, what) {
  return act(what, () => call("PUT", "/api/admin/settings", { ...settings, ...change }));
}

const actionLabels = {
  hide: "Hid",
  unhide: "Unhid",
  pin: "Pinned",
  unpin: "Unpinned",
  block: "Blocked",
  unblock: "Unblocked",
  settings: "Changed the switches",
  approve: "Approved",
  reject: "Rejected",
};

function renderAudit(entries) {
  sync(
    $("audit"),
    entries,
    (e, i) => str(e.id) || `${str(e.at)}|${str(e.action)}|${str(e.target)}|${i}`,
    (e) => `${e.action}|${e.target}|${e.at}`,
    (e) => {
      const li = el("li", "row");
      const t = el("time", "row-detail", when(e.at));
      const d = new Date(str(e.at));
      if (!Number.isNaN(d.getTime())) {
        t.dateTime = d.toISOString();
        t.title = absoluteFormat.format(d);
      }
      // The switches have no target of their own; their detail says what changed.
      const target = e.action === "settings" ? str(e.detail) : str(e.target);
      const what = `${actionLabels[e.action] || str(e.action)}${e.action === "settings" && target ? ":" : ""} ${target}`.trim();
      li.append(el("span", "row-label", what), el("span", "row-detail", str(e.by)), t);
      if (e.detail) li.title = str(e.detail);
      return li;
    },
    $("audit-empty"),
  );
}

// --- Refresh -----------------------------------------------------------------

let refreshing = null;

function refresh() {
  if (!token()) return Promise.resolve();
  // One refresh at a time; a caller during one waits for it.
  refreshing ??= load().finally(() => (refreshing = null));
  return refreshing;
}

async function load() {
  let answers;
  try {
    answers = await Promise.all([
      call("GET", "/api/admin/settings"),
      call("GET", `/api/admin/posts?limit=${STREAM_LIMIT}`),
      call("GET", "/api/admin/queue"),
      call("GET", "/api/admin/pins"),
      call("GET", "/api/admin/blocks"),
      call("GET", "/api/admin/hidden"),
      call("GET", `/api/admin/audit?limit=${AUDIT_LIMIT}`),
      call("GET", "/api/event").catch(() => null),
    ]);
  } catch (err) {
    if (err instanceof AuthError) return showSignIn(err.message);
    say(err.message, "error");
    return;
  }
  const [s, stream, queue, pins, blocks, hidden, audit, event] = answers;
  showConsole();
  const pinnedPosts = posts(pins);
  pinnedIDs = new Set(pinnedPosts.map((p) => str(p.id)));
  renderSettings(s || {});
  const key = (p) => str(p.id);
  sync($("stream"), posts(stream), key, postSig, streamCard, $("stream-empty"));
  const queued = posts(queue);
  $("queue-count").textContent = String(queued.length);
  sync($("queue"), queued, key, postSig, streamCard, $("queue-empty"));
  sync($("pins"), pinnedPosts, key, () => "pinned", (p) => card(p, [button("Unpin", "unpin", () => unpin(p))]), $("pins-empty"));
  sync($("hidden"), posts(hidden), key, postSig, (p) => card(p, [button("Unhide", "unhide", () => unhide(p))]), $("hidden-empty"));
  renderBlocks(list(blocks, "blocks"));
  renderAudit(list(audit, "entries"));
  if (event && event.name) {
    const terms = Array.isArray(event.terms) && event.terms.length ? ` · ${event.terms.map(str).join(", ")}` : "";
    $("event").textContent = `${str(event.name)}${terms}${event.end ? " · ended" : ""}`;
  }
}

// --- Sign-in -------------------------------------------------------------------

function showSignIn(message) {
  signOut();
  consoleEl.hidden = true;
  $("sign-out").hidden = true;
  signIn.hidden = false;
  if (message) say(message, "error");
  $("token").focus();
}

function showConsole() {
  if (!consoleEl.hidden) return;
  signIn.hidden = true;
  consoleEl.hidden = false;
  $("sign-out").hidden = false;
}

$("sign-in-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setToken($("token").value);
  $("token").value = "";
  refresh();
});

$("sign-out").addEventListener("click", () => showSignIn("Signed out."));

$("premoderation").addEventListener("change", (e) =>
  saveSettings(
    { premoderation: e.target.checked },
    e.target.checked ? "New posts now wait for your approval." : "New posts are shown at once again.",
  ),
);
$("hide-reposts").addEventListener("change", (e) =>
  saveSettings({ hide_reposts: e.target.checked }, e.target.checked ? "Reposts are hidden." : "Reposts are shown."),
);

$("block-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("block-value").value.trim();
  const kind = $("block-kind").value;
  act(`Blocked: ${value}.`, async () => {
    await call("POST", "/api/admin/blocks", { kind, value });
    $("block-value").value = "";
  });
});

$("allow-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("allow-value").value.trim();
  const allow = Array.isArray(settings?.allow) ? settings.allow.map(str) : [];
  if (!allow.includes(value)) allow.push(value);
  saveSettings({ allow }, `${value} skips the approval queue.`).then(() => ($("allow-value").value = ""));
});

takeTokenFromURL();
if (token()) refresh();
else showSignIn("");
// The sign-in link opened in a tab already on this page changes only the
// fragment: no reload.
window.addEventListener("hashchange", () => {
  takeTokenFromURL();
  if (token()) refresh();
});
setInterval(() => {
  if (!document.hidden) refresh();
}, REFRESH_MS);
