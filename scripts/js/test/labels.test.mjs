// The stats page's names for codes (server/web/assets/labels.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { avatarURL, initials, languageName } from "../../../server/web/assets/labels.js";

test("languages by name in the reader's locale", () => {
  assert.equal(languageName("de", "en"), "German");
  assert.equal(languageName("pt-BR", "en"), "Brazilian Portuguese");
  assert.equal(languageName("de", "de"), "Deutsch");
  assert.equal(languageName("ja", "fr"), "japonais");
});

test("codes that are not languages", () => {
  assert.equal(languageName("und", "en"), "Undetermined", "Intl alone says \"root\"");
  assert.equal(languageName("qme", "en"), "Media only");
  assert.equal(languageName("zxx", "en"), "No linguistic content");
});

test("what is not a language tag comes back as it came", () => {
  assert.equal(languageName("zh.Hant", "en"), "zh.Hant");
  assert.equal(languageName("$und", "en"), "$und");
  assert.equal(languageName("xq", "en"), "xq", "a well-formed code Intl does not know");
  assert.equal(languageName("<b>x</b>", "en"), "<b>x</b>");
});

test("avatars only from http and https, resolved against the page", () => {
  const base = "https://wall.example/stats";
  assert.equal(avatarURL("https://cdn.example/a.jpg", base), "https://cdn.example/a.jpg");
  assert.equal(avatarURL("/avatars/7.png", base), "https://wall.example/avatars/7.png");
  assert.equal(avatarURL("javascript:alert(1)", base), "");
  assert.equal(avatarURL("data:image/svg+xml,<svg/>", base), "");
  assert.equal(avatarURL("JaVaScRiPt:alert(1)", base), "");
  assert.equal(avatarURL("", base), "");
  assert.equal(avatarURL(undefined, base), "");
});

test("initials stand in for a missing avatar", () => {
  assert.equal(initials("Ada Lovelace", "ada"), "AL");
  assert.equal(initials("émile zola durand", "ez"), "ÉZ");
  assert.equal(initials("👩‍💻 Ada", "ada"), "👩‍💻A", "a grapheme is never cut");
  assert.equal(initials("", "@zoë"), "Z\u00cb".normalize().slice(0, 1));
  assert.equal(initials("— ·", "ليلى"), "ل");
});
