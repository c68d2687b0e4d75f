// Posts as the server sends them, checked once on arrival so that every page
// can trust their shape. Content is still untrusted text: pages show it with
// textContent only.

/**
 * normalizePost returns a clean copy of a server post, with the avatar and
 * permalink resolved against the server URL and limited to schemes that
 * cannot run code, or null when the post has no id.
 */
export function normalizePost(raw, serverUrl) {
  if (raw === null || typeof raw !== "object" || typeof raw.id !== "string" || raw.id === "") return null;
  const post = {
    id: raw.id,
    user: str(raw.user),
    name: str(raw.name),
    text: str(raw.text),
    picture: safeImageUrl(raw.picture, serverUrl),
    created_at: str(raw.created_at),
    url: safeLinkUrl(raw.url, serverUrl),
    source: str(raw.source),
    hashtags: Array.isArray(raw.hashtags) ? raw.hashtags.map(str).filter(Boolean) : [],
  };
  if (typeof raw.lang === "string") post.lang = raw.lang;
  if (raw.retweet) post.retweet = true;
  if (raw.repost_of && typeof raw.repost_of === "object" && typeof raw.repost_of.user === "string") {
    post.repost_of = { user: raw.repost_of.user, name: str(raw.repost_of.name) };
  }
  // Links and photos keep only their known fields, bounded as the server
  // bounds them, so that what the extension stores stays small; the popup
  // checks offsets and URLs when it shows them (vendor/rich-text.js).
  const entities = pick(raw.entities, 50, (e) => ({
    kind: str(e.kind), start: e.start, end: e.end, href: str(e.href), display: str(e.display),
  }));
  if (entities.length) post.entities = entities;
  const media = pick(raw.media, 4, (m) => ({
    type: str(m.type), url: safeImageUrl(m.url, serverUrl), preview: safeImageUrl(m.preview, serverUrl),
    alt: str(m.alt), width: m.width, height: m.height,
  }));
  if (media.length) post.media = media;
  return post;
}

function pick(list, max, copy) {
  if (!Array.isArray(list)) return [];
  return list.filter((v) => v !== null && typeof v === "object").slice(0, max).map(copy);
}

function str(v) {
  return typeof v === "string" ? v : "";
}

/** safeLinkUrl returns u resolved against base if it is http(s), else "". */
export function safeLinkUrl(u, base) {
  if (typeof u !== "string" || u === "") return "";
  try {
    const url = new URL(u, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
  } catch {
    return "";
  }
}

/** safeImageUrl is safeLinkUrl that also allows data:image/ URIs. */
export function safeImageUrl(u, base) {
  if (typeof u === "string" && /^data:image\/[a-z0-9.+-]+[;,]/i.test(u)) return u;
  return safeLinkUrl(u, base);
}

/**
 * author is how a post's author reads in a notification title: "Name
 * @handle", the name cleaned of unpaired bidi controls so that it cannot
 * reverse the handle after it.
 */
export function author(post) {
  const handle = post.user ? "@" + plainBidi(post.user) : "";
  return [plainBidi(post.name), handle].filter(Boolean).join(" ") || "Someone";
}

// The bidi controls that open an embedding, override or isolate, and the
// two that close them (PDF closes the first four kinds, PDI the isolates).
const OPENERS = new Set(["\u202A", "\u202B", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068"]);
const ISOLATES = new Set(["\u2066", "\u2067", "\u2068"]);
const PDF = "\u202C";
const PDI = "\u2069";

/**
 * plainBidi returns s without the bidi controls that are not paired within
 * it. A notification is plain text that the system lays out as one run: an
 * override left open there (U+202E) reverses everything after it, the
 * title's handle and the text included, which a page avoids by isolating
 * each field. Paired controls stay: they are how right-to-left writers
 * mark a word that runs the other way.
 */
export function plainBidi(s) {
  if (typeof s !== "string" || !/[\u202A-\u202E\u2066-\u2069]/.test(s)) return s;
  const chars = Array.from(s);
  const keep = chars.map(() => true);
  const open = []; // indexes of the openers not yet closed
  chars.forEach((c, i) => {
    if (OPENERS.has(c)) {
      open.push(i);
    } else if (c === PDF || c === PDI) {
      const want = c === PDI;
      const top = open.length > 0 ? open[open.length - 1] : -1;
      if (top >= 0 && ISOLATES.has(chars[top]) === want) open.pop();
      else keep[i] = false;
    }
  });
  for (const i of open) keep[i] = false;
  return chars.filter((_, i) => keep[i]).join("");
}
