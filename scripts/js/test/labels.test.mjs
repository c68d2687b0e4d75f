// The stats page's names for codes (server/web/assets/labels.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { languageName } from "../../../server/web/assets/labels.js";

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
