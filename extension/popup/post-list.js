// Renders the recent posts. Everything a post says goes in with
// textContent or as an attribute value, never as markup.

import { safeImageUrl, safeLinkUrl } from "../shared/post.js";
// Copied from server/web/assets/rich-text.js by scripts/prepare: the wall
// and the popup show links and photos the same way.
import { appendText, renderMedia, repostLabel } from "../vendor/rich-text.js";
import { relativeTime } from "./relative-time.js";

// The tooltip of a post's time: the local date and time, in the reader's
// language, not the raw RFC 3339 the server sends.
const LOCAL_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderPost(post) {
  const li = el("li", "post");
  li.dataset.id = post.id;

  const avatar = renderAvatar(post);

  const byline = el("div", "byline");
  const name = el("span", "name", post.name || post.user);
  const handle = el("span", "handle", "@" + post.user);
  // dir=auto: a right-to-left name lays out as such, on its own.
  name.dir = handle.dir = "auto";
  byline.append(name, handle);
  const time = el("time", "time", relativeTime(post.created_at));
  time.dateTime = post.created_at;
  time.title = localTime(post.created_at);
  byline.append(time);

  li.append(avatar, byline);
  const repost = repostLabel(post);
  if (repost) li.append(el("p", "repost", repost));
  const text = appendText(el("p", "text"), post);
  text.dir = "auto";
  li.append(text);
  const media = renderMedia(document, post);
  if (media) li.append(media);
  const href = safeLinkUrl(post.url);
  if (href) {
    const link = el("a", "link", "Open post");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    li.append(link);
  }
  return li;
}

// renderAvatar is the author's picture, or their initials when there is
// none or it does not load.
function renderAvatar(post) {
  const src = safeImageUrl(post.picture);
  if (!src) return initial(post);
  const img = el("img", "avatar");
  img.alt = "";
  img.loading = "lazy";
  img.referrerPolicy = "no-referrer";
  img.addEventListener("error", () => img.replaceWith(initial(post)), { once: true });
  img.src = src;
  return img;
}

function initial(post) {
  const node = el("span", "avatar avatar-initial", initials(post.name) || initials(post.user) || "?");
  node.setAttribute("aria-hidden", "true");
  return node;
}

/** initials takes the first letter of the first two words that start with
 * one, upper-cased, as the wall's demo avatars do (server/source/demo):
 * "Léa Dubois" gives "LD", "田中 健二" "田健", "Bob ☕" "B". A letter is a
 * whole grapheme, so an accent typed as a combining mark stays on it. */
export function initials(name) {
  const out = [];
  for (const word of String(name ?? "").split(/\s+/u)) {
    const first = GRAPHEMES.segment(word)[Symbol.iterator]().next().value?.segment ?? "";
    if (!/^\p{L}/u.test(first)) continue;
    out.push(first.toLocaleUpperCase());
    if (out.length === 2) break;
  }
  return out.join("");
}

/** localTime is an RFC 3339 time as the reader's local date and time, or ""
 * if it is not one. */
export function localTime(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : LOCAL_TIME.format(t);
}

/** renderPosts replaces the list's content with posts, newest first. */
export function renderPosts(list, empty, posts) {
  list.replaceChildren(...posts.map(renderPost));
  empty.hidden = posts.length > 0;
}

/** refreshTimes updates the relative times in place. */
export function refreshTimes(list) {
  for (const t of list.querySelectorAll("time.time")) t.textContent = relativeTime(t.dateTime);
}
