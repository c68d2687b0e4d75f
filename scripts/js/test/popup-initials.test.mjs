// The popup's fallback avatar (extension/popup/post-list.js): the author's
// initials, by the same rule as the demo's avatars on the wall.
import assert from "node:assert/strict";
import { test } from "node:test";
import { initials } from "../../../extension/popup/post-list.js";

test("initials: the first letter of the first two words that start with one", () => {
  assert.equal(initials("Léa Dubois"), "LD");
  assert.equal(initials("田中 健二"), "田健");
  assert.equal(initials("Bob ☕"), "B");
  assert.equal(initials("User 3"), "U");
  assert.equal(initials("e\u0301mile zola"), "\u00C9Z".normalize("NFD"), "a combining accent stays on its letter");
  assert.equal(initials("مريم أحمد"), "مأ");
  assert.equal(initials("<b>M</b>"), "");
  assert.equal(initials(""), "");
});
