// Unit tests of the extension's and pages' plain ES modules, with Node's
// own test runner (node --test scripts/js/test/), as scripts/test runs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { author, plainBidi } from "../../../extension/shared/post.js";

const RLO = "\u202E", PDF = "\u202C", RLI = "\u2067", PDI = "\u2069", LRE = "\u202A";

test("an override left open is removed: it would reverse the rest of a notification", () => {
  assert.equal(plainBidi(`evil${RLO}gnp.exe`), "evilgnp.exe");
  assert.equal(author({ name: `Mallory${RLO}`, user: "mallory" }), "Mallory @mallory");
});

test("paired controls stay: right-to-left writers use them", () => {
  const s = `قال ${RLI}GoConf 2026${PDI} رائع`;
  assert.equal(plainBidi(s), s);
  assert.equal(plainBidi(`${LRE}abc${PDF}`), `${LRE}abc${PDF}`);
});

test("a closer without its opener, or of the other kind, is removed", () => {
  assert.equal(plainBidi(`a${PDF}b${PDI}c`), "abc");
  assert.equal(plainBidi(`${RLI}x${PDF}y${PDI}`), `${RLI}xy${PDI}`);
  assert.equal(plainBidi(`${RLO}${RLI}x${PDI}`), `${RLI}x${PDI}`);
});

test("text without controls is returned as it is, emoji and all", () => {
  for (const s of ["Grüße aus Zürich 🎉👩‍💻", "東京 GoConf", "مرحبا بالعالم", "<b>&amp;</b>", ""]) {
    assert.equal(plainBidi(s), s);
  }
  assert.equal(author({ name: "", user: "" }), "Someone");
});
