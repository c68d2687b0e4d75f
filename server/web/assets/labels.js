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
