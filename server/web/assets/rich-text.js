// rich-text.js: a post's links and photos, for every place that shows posts.
//
// THIS FILE IS THE SOURCE. The pages (wall, display, moderation console)
// import it from here; scripts/prepare copies it to extension/vendor/ for
// the extension popup, which is packaged on its own and cannot load files
// from the server. Edit it here, never the copy.
//
// The server sends, with each post (see README, "What clients receive"):
//   entities: [{kind: "url"|"hashtag"|"mention", start, end, href, display?}]
//     start/end in UTF-16 code units of post.text (JavaScript's own unit);
//   media: [{type: "photo"|"video"|"gif", url, preview?, alt?, width?, height?}];
//   repost_of: {user, name?}.
// All of it is untrusted: the server checks it, and this module checks it
// again, so an old or foreign server cannot put a javascript: link on a
// page. The DOM is built with createElement and textContent only. Nothing
// here touches `document` at import time, so Node's test runner can import
// the pure functions (scripts/js/test/rich-text.test.mjs).

const KINDS = new Set(["url", "hashtag", "mention"]);
const MEDIA_TYPES = new Set(["photo", "video", "gif"]);
export const MAX_ENTITIES = 50;
export const MAX_MEDIA = 4;

/** safeHref returns raw if it is an absolute http(s) URL, else "". */
export function safeHref(raw) {
  if (typeof raw !== "string" || raw === "" || raw.length > 2048) return "";
  let u;
  try {
    u = new URL(raw);
  } catch {
    return "";
  }
  return (u.protocol === "http:" || u.protocol === "https:") && u.host !== "" ? u.href : "";
}

/** safeImageSrc is safeHref that also accepts inline images (data:image/…), which never run script in an <img>. */
export function safeImageSrc(raw) {
  if (typeof raw === "string" && raw.length <= 4096 && /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(raw)) return raw;
  return safeHref(raw);
}

// splitsPair tells whether offset i falls inside a surrogate pair: a
// link starting or ending there would cut an emoji in half.
function splitsPair(text, i) {
  if (i <= 0 || i >= text.length) return false;
  const before = text.charCodeAt(i - 1);
  const after = text.charCodeAt(i);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

// What each kind's text must look like: an entity whose offsets land
// elsewhere (a server that counted in another unit) is not a link.
const LOOKS = {
  url: (s) => !/\s/.test(s),
  hashtag: (s) => /^[#＃]/.test(s),
  mention: (s) => /^[@＠]/.test(s),
};

/**
 * segments splits text by its entities into plain runs ({text}) and links
 * ({text, href, kind, title}). A link shows its display form when it has
 * one (a t.co URL reads "example.com/page…"), with the full address as its
 * title. An entity that is malformed, overlaps the one before, cuts a
 * character, does not look like its kind, or leads anywhere but http(s)
 * stays plain text, so the text is always shown whole and in order.
 */
export function segments(text, entities) {
  if (typeof text !== "string") text = "";
  if (!Array.isArray(entities) || entities.length === 0) return text ? [{ text }] : [];
  const valid = [];
  for (const e of entities.slice(0, MAX_ENTITIES)) {
    if (e === null || typeof e !== "object" || !KINDS.has(e.kind)) continue;
    const { start, end } = e;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > text.length) continue;
    if (splitsPair(text, start) || splitsPair(text, end)) continue;
    const href = safeHref(e.href);
    if (!href || !LOOKS[e.kind](text.slice(start, end))) continue;
    valid.push({ start, end, href, kind: e.kind, display: e.kind === "url" && typeof e.display === "string" ? e.display : "" });
  }
  valid.sort((a, b) => a.start - b.start);
  const out = [];
  let at = 0;
  for (const e of valid) {
    if (e.start < at) continue; // overlaps the one before
    if (e.start > at) out.push({ text: text.slice(at, e.start) });
    const own = text.slice(e.start, e.end);
    out.push({ text: e.display || own, href: e.href, kind: e.kind, title: e.kind === "url" ? e.href : "" });
    at = e.end;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/**
 * mediaItems returns what to show of a post's media: at most MAX_MEDIA
 * images with a safe src, their alt text, and their size when the server
 * knew it (positive integers only), so the page reserves the space.
 */
export function mediaItems(media) {
  if (!Array.isArray(media)) return [];
  const out = [];
  for (const m of media) {
    if (out.length === MAX_MEDIA) break;
    if (m === null || typeof m !== "object" || !MEDIA_TYPES.has(m.type)) continue;
    // The preview when there is one: smaller, and for a video the still
    // (its url is where it plays, not an image).
    const src = safeImageSrc(m.preview) || safeImageSrc(m.url);
    if (!src) continue;
    const size = (v) => (Number.isInteger(v) && v > 0 && v <= 100000 ? v : 0);
    let width = size(m.width);
    let height = size(m.height);
    if (!width || !height) width = height = 0;
    out.push({ type: m.type, src, alt: typeof m.alt === "string" ? m.alt : "", width, height });
  }
  return out;
}

/**
 * repostLabel says whose post a repost is: "reposted @carmen_go", or
 * "reposted" when the server did not say, or "" for an original post.
 * It reads repost_of, and the object form of retweet that older clients
 * were written for.
 */
export function repostLabel(post) {
  if (!post || !post.retweet) return "";
  const from = post.repost_of ?? (typeof post.retweet === "object" ? post.retweet : null);
  const user = from && typeof from.user === "string" ? from.user.replace(/^@/, "").trim() : "";
  return user ? `reposted @${user}` : "reposted";
}

// --- DOM ----------------------------------------------------------------

/**
 * appendText appends post.text to parent as text nodes and links. Links
 * open in a new tab without telling the target where they came from.
 */
export function appendText(parent, post) {
  const doc = parent.ownerDocument;
  for (const s of segments(post?.text, post?.entities)) {
    if (!s.href) {
      parent.append(doc.createTextNode(s.text));
      continue;
    }
    const a = doc.createElement("a");
    a.className = `entity entity-${s.kind}`;
    a.href = s.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    // Each link takes its own direction: in an Arabic post "@marta_codes"
    // and "example.com/page…" still read left to right, and "#جو" right
    // to left in an English one.
    a.dir = "auto";
    a.textContent = s.text;
    if (s.title) a.title = s.title;
    parent.append(a);
  }
  return parent;
}

/**
 * renderMedia returns a .media grid of the post's images, or null. Images
 * load lazily and decode off the main thread, so the text never waits for
 * them; a broken one is removed, and the grid with its last image.
 */
export function renderMedia(doc, post) {
  const items = mediaItems(post?.media);
  if (items.length === 0) return null;
  const grid = doc.createElement("div");
  grid.className = `media media-${items.length}`;
  for (const m of items) {
    const img = doc.createElement("img");
    img.className = `media-item media-${m.type}`;
    img.alt = m.alt;
    img.loading = "lazy";
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    if (m.width) {
      img.width = m.width;
      img.height = m.height;
    }
    img.addEventListener(
      "error",
      () => {
        img.remove();
        // The layout follows the photos left: one alone takes the width.
        grid.className = `media media-${grid.childElementCount}`;
        if (grid.childElementCount === 0) grid.remove();
      },
      { once: true },
    );
    img.src = m.src;
    grid.append(img);
  }
  return grid;
}
