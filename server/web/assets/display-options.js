// display-options.js: the display's options, read from its address
// (/display?pace=8&theme=light...). Anything out of range falls back to the
// default rather than breaking the screen in front of an audience.

export const defaults = Object.freeze({
  pace: 6, // seconds in the spotlight
  theme: "dark",
  columns: 2,
  images: true,
  spotlightOnly: false,
  qr: "", // "" for none, else the URL to encode
  cta: "",
  help: false,
});

function number(raw, min, max, fallback) {
  if (raw === null || raw.trim() === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

function httpURL(raw, base) {
  try {
    const u = new URL(raw, base);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
  } catch {
    return "";
  }
}

/**
 * parseOptions reads the options from a query string; base is the page's
 * address, for qr=1 (the wall on this server) and relative links.
 */
export function parseOptions(search, base) {
  const q = new URLSearchParams(search);
  const qr = q.get("qr");
  let qrURL = "";
  if (qr === "1" || qr === "true" || qr === "") qrURL = new URL("/", base).href;
  else if (qr !== null && qr !== "0" && qr !== "false") qrURL = httpURL(qr, base);
  return {
    pace: number(q.get("pace"), 2, 60, defaults.pace),
    theme: q.get("theme") === "light" ? "light" : "dark",
    columns: Math.round(number(q.get("columns"), 1, 4, defaults.columns)),
    images: !["0", "false", "no"].includes(q.get("images") ?? ""),
    spotlightOnly: q.get("spotlight") === "only",
    qr: qrURL,
    cta: (q.get("cta") ?? "").slice(0, 140),
    help: q.has("help"),
  };
}

/**
 * callToAction is the line that tells the room how to appear on the
 * screen: the organiser's own words, or one made from the first tracked term.
 */
export function callToAction(custom, terms) {
  if (custom) return custom;
  const list = Array.isArray(terms) ? terms.filter((t) => typeof t === "string" && t.trim() !== "") : [];
  if (list.length === 0) return "";
  const tag = list.find((t) => t.trim().startsWith("#")) ?? list[0];
  return `Post with ${tag.trim()} to appear here`;
}
