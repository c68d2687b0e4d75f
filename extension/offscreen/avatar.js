// Notification icons. chrome.notifications drops a notification whose icon
// cannot be loaded, and decodes fewer formats than a page does (SVG avatars
// are common here), so the offscreen document, which has a DOM, fetches the
// avatar and redraws it as a PNG data URL. Anything that fails gives the
// bundled icon.

const SIZE = 80; // Chrome shows notification icons at 80×80
const TIMEOUT_MS = 4000;
const CACHE_LIMIT = 100;

export const BUNDLED_ICON = chrome.runtime.getURL("icons/icon-128.png");

// url -> Promise<string|null>; most posts come from a few frequent authors.
const cache = new Map();

/**
 * avatarIcon resolves to a PNG data URL of the avatar at url, or null when
 * it cannot be fetched or decoded (no host permission and no CORS, a 404, a
 * timeout, not an image).
 */
export function avatarIcon(url) {
  if (!url) return Promise.resolve(null);
  let p = cache.get(url);
  if (!p) {
    p = rasterize(url).catch(() => null);
    cache.set(url, p);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value);
  }
  return p;
}

async function rasterize(url) {
  const res = await fetch(url, { credentials: "omit", signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`avatar: HTTP ${res.status}`);
  const blob = await res.blob();
  if (!blob.type.startsWith("image/")) throw new Error(`avatar: ${blob.type} is not an image`);
  // A blob: URL is same-origin, so the canvas stays readable; an <img>
  // never runs scripts inside an SVG.
  const objectUrl = URL.createObjectURL(blob);
  try {
    const img = new Image(SIZE, SIZE);
    img.src = objectUrl;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = SIZE;
    canvas.getContext("2d").drawImage(img, 0, 0, SIZE, SIZE);
    return canvas.toDataURL("image/png");
  } finally {
    URL.revokeObjectURL(objectUrl);
  }
}
