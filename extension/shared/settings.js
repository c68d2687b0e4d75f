// The user's settings and where they live. The options page writes the
// synced ones, the popup writes `paused`; the service worker reads them all
// and hands them to the offscreen document, which has no chrome.storage.
// How the word lists match is shared/notify-rules.js's business.

import { DEFAULT_RATE, normalizeAuthors, normalizeWords } from "./notify-rules.js";

export const DEFAULT_SERVER_URL = "http://localhost:8124";

/** Settings that follow the user between browsers (chrome.storage.sync). */
export const SYNC_DEFAULTS = Object.freeze({
  serverUrl: DEFAULT_SERVER_URL,
  muteWords: [],
  // When either list is set, only posts that match it notify (the reverse
  // of muteWords); every post is still listed in the popup.
  alertWords: [],
  alertAuthors: [],
  // More than digestPosts posts in digestSeconds are summed up in one
  // updating notification instead of one each (offscreen/notifier.js).
  digestPosts: DEFAULT_RATE.posts,
  digestSeconds: DEFAULT_RATE.per / 1000,
  notify: true,
});

/** Settings of this browser only (chrome.storage.local): pausing is a
 * moment's choice, not something to carry to another machine. */
export const LOCAL_DEFAULTS = Object.freeze({
  paused: false,
});

/** isSettingsChange reports whether a chrome.storage.onChanged event touches
 * a setting. */
export function isSettingsChange(changes, areaName) {
  const keys = areaName === "sync" ? SYNC_DEFAULTS : areaName === "local" ? LOCAL_DEFAULTS : {};
  return Object.keys(changes).some((k) => k in keys);
}

/** loadSettings reads every setting, defaults filled in and values checked. */
export async function loadSettings() {
  const [synced, local] = await Promise.all([
    chrome.storage.sync.get(SYNC_DEFAULTS),
    chrome.storage.local.get(LOCAL_DEFAULTS),
  ]);
  return normalizeSettings({ ...synced, ...local });
}

/** normalizeSettings turns whatever storage holds into valid settings: a bad
 * value means the default, never a broken extension. */
export function normalizeSettings(raw) {
  const serverUrl = parseServerUrl(raw?.serverUrl) ?? DEFAULT_SERVER_URL;
  return {
    serverUrl,
    muteWords: normalizeWords(raw?.muteWords ?? []),
    alertWords: normalizeWords(raw?.alertWords ?? []),
    alertAuthors: normalizeAuthors(raw?.alertAuthors ?? []),
    digestPosts: whole(raw?.digestPosts, 1, 1000) ?? DEFAULT_RATE.posts,
    digestSeconds: whole(raw?.digestSeconds, 1, 3600) ?? DEFAULT_RATE.per / 1000,
    notify: raw?.notify !== false,
    paused: raw?.paused === true,
  };
}

// whole returns v as an integer within [lo, hi], or null.
function whole(v, lo, hi) {
  const n = Number(v);
  return Number.isInteger(n) && n >= lo && n <= hi ? n : null;
}

/** parseServerUrl returns the canonical http(s) URL for s (no query, no
 * fragment, no trailing slash), or null when s is not one. */
export function parseServerUrl(s) {
  let u;
  try {
    u = new URL(String(s ?? "").trim());
  } catch {
    return null;
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || u.username || u.password) return null;
  u.search = "";
  u.hash = "";
  return u.href.replace(/\/+$/, "");
}
