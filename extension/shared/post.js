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
  return post;
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

/** author is how a post's author reads in a title: "Name @handle". */
export function author(post) {
  const handle = post.user ? "@" + post.user : "";
  return [post.name, handle].filter(Boolean).join(" ") || "Someone";
}
