// The display's options (server/web/assets/display-options.js): what an
// organiser types into the address, and what the room is told.
import assert from "node:assert/strict";
import { test } from "node:test";
import { callToAction, defaults, parseOptions } from "../../../server/web/assets/display-options.js";

const base = "http://wall.example:8080/display";

test("no options give the defaults", () => {
  const o = parseOptions("", base);
  assert.equal(o.pace, defaults.pace);
  assert.equal(o.theme, "dark");
  assert.equal(o.columns, 2);
  assert.equal(o.images, true);
  assert.equal(o.spotlightOnly, false);
  assert.equal(o.qr, "");
  assert.equal(o.help, false);
});

test("each option is read", () => {
  const o = parseOptions("?pace=8&theme=light&columns=3&images=0&spotlight=only&qr=1&help", base);
  assert.deepEqual(
    { pace: o.pace, theme: o.theme, columns: o.columns, images: o.images, spotlightOnly: o.spotlightOnly, qr: o.qr, help: o.help },
    { pace: 8, theme: "light", columns: 3, images: false, spotlightOnly: true, qr: "http://wall.example:8080/", help: true },
  );
});

test("out-of-range or hostile values fall back instead of breaking the screen", () => {
  const o = parseOptions("?pace=0.5&columns=99&theme=<script>&qr=javascript:alert(1)", base);
  assert.equal(o.pace, defaults.pace);
  assert.equal(o.columns, defaults.columns);
  assert.equal(o.theme, "dark");
  assert.equal(o.qr, "", "only http(s) addresses become QR codes");
  assert.equal(parseOptions("?qr=https://goconf.example/wall?ref=qr", base).qr, "https://goconf.example/wall?ref=qr");
  assert.equal(parseOptions("?pace=abc", base).pace, defaults.pace);
});

test("the call to action names the first hashtag tracked", () => {
  assert.equal(callToAction("", ["go conf", "#GoConf", "#Zürich"]), "Post with #GoConf to appear here");
  assert.equal(callToAction("", ["مؤتمر"]), "Post with مؤتمر to appear here");
  assert.equal(callToAction("", []), "");
  assert.equal(callToAction("Scan, post, appear ✨", ["#GoConf"]), "Scan, post, appear ✨");
});
