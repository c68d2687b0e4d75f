// Renders the recent posts. Everything a post says goes in with
// textContent or as an attribute value, never as markup.

import { safeImageUrl, safeLinkUrl } from "../shared/post.js";
// Copied from server/web/assets/rich-text.js by scripts/prepare: the wall
// and the popup show links and photos the same way.
import { appendText, renderMedia, repostLabel } from "../vendor/rich-text.js";
import { relativeTime } from "./relative-time.js";

const FALLBACK_AVATAR = chrome.runtime.getURL("icons/icon-48.png");

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderPost(post) {
  const li = el("li", "post");
  li.dataset.id = post.id;

  const avatar = el("img", "avatar");
  avatar.alt = "";
  avatar.loading = "lazy";
  avatar.referrerPolicy = "no-referrer";
  avatar.addEventListener("error", () => (avatar.src = FALLBACK_AVATAR), { once: true });
  avatar.src = safeImageUrl(post.picture) || FALLBACK_AVATAR;

  const byline = el("div", "byline");
  const name = el("span", "name", post.name || post.user);
  const handle = el("span", "handle", "@" + post.user);
  // dir=auto: a right-to-left name lays out as such, on its own.
  name.dir = handle.dir = "auto";
  byline.append(name, handle);
  const time = el("time", "time", relativeTime(post.created_at));
  time.dateTime = post.created_at;
  time.title = post.created_at;
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

/** renderPosts replaces the list's content with posts, newest first. */
export function renderPosts(list, empty, posts) {
  list.replaceChildren(...posts.map(renderPost));
  empty.hidden = posts.length > 0;
}

/** refreshTimes updates the relative times in place. */
export function refreshTimes(list) {
  for (const t of list.querySelectorAll("time.time")) t.textContent = relativeTime(t.dateTime);
}
