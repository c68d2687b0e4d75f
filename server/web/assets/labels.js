// labels.js: how the stats page names what the API gives as codes.

// Codes that are not languages: "und" (the source gave none, or said it
// could not tell) and Twitter's pseudo-languages for posts without words.
const SPECIAL = {
  und: "Undetermined",
  qme: "Media only",
  qht: "Hashtags only",
  qam: "Mentions only",
  qct: "Cashtags only",
  qst: "Very short text",
  zxx: "No linguistic content",
};

/**
 * languageName names a post's language code ("de" → "German", "pt-BR" →
 * "Brazilian Portuguese") in the reader's locale; a code Intl does not
 * know, or one that is not a language tag at all (sources send anything),
 * is shown as it came.
 */
export function languageName(code, locale) {
  if (Object.hasOwn(SPECIAL, code)) return SPECIAL[code];
  try {
    const name = new Intl.DisplayNames(locale, { type: "language", fallback: "none" }).of(code);
    return name || code;
  } catch {
    return code; // "zh.Hant", "$und": RangeError
  }
}

/**
 * avatarURL returns picture as an absolute http(s) URL, resolved against
 * base (the API may give one relative to the server), or "" for anything
 * else: javascript:, data: and the like never reach an <img>.
 */
export function avatarURL(picture, base) {
  if (typeof picture !== "string" || picture === "") return "";
  try {
    const url = new URL(picture, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
  } catch {
    return "";
  }
}

/**
 * initials stands in for a missing avatar: the first letters of the first
 * two words of the name (whole graphemes: "Émile", "👩‍💻 Ada"), else of
 * the handle, upper-cased.
 */
export function initials(name, user) {
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const first = (w) => seg.segment(w)[Symbol.iterator]().next().value?.segment ?? "";
  const words = String(name || "").split(/\s+/).filter((w) => /[\p{L}\p{N}\p{Extended_Pictographic}]/u.test(w));
  const letters = words.length ? words.slice(0, 2).map(first).join("") : first(String(user || "").replace(/^@/, ""));
  return letters.toLocaleUpperCase();
}
