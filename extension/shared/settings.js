// The user's settings and where they live. The options page writes the
// synced ones, the popup writes `paused`; the service worker reads them all
// and hands them to the offscreen document, which has no chrome.storage.

export const DEFAULT_SERVER_URL = "http://localhost:8124";

/** Settings that follow the user between browsers (chrome.storage.sync). */
export const SYNC_DEFAULTS = Object.freeze({
  serverUrl: DEFAULT_SERVER_URL,
  muteWords: [],
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
  const words = Array.isArray(raw?.muteWords) ? raw.muteWords : parseMuteWords(String(raw?.muteWords ?? ""));
  return {
    serverUrl,
    muteWords: words.map((w) => String(w).trim().toLowerCase()).filter(Boolean),
    notify: raw?.notify !== false,
    paused: raw?.paused === true,
  };
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

/** parseMuteWords splits the options page's text into words: one per line
 * or comma-separated. */
export function parseMuteWords(text) {
  return text
    .split(/[\n,]/)
    .map((w) => w.trim())
    .filter(Boolean);
}

/** isMuted reports whether a post's text, author or hashtags contain one of
 * the (lower-case) words, ignoring case. */
export function isMuted(post, words) {
  if (words.length === 0) return false;
  const hay = [post.text, post.name, "@" + post.user, ...(post.hashtags ?? []).map((h) => "#" + h)]
    .join("\n")
    .toLowerCase();
  return words.some((w) => hay.includes(w));
}
