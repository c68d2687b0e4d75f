// scripts/js/manifest.mjs: each browser's manifest from the one in
// extension/ (Chrome's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { forBrowser, GECKO_ID } from "../manifest.mjs";

const chrome = JSON.parse(readFileSync(new URL("../../../extension/manifest.json", import.meta.url), "utf8"));

test("Chrome's is extension/manifest.json as it is, key and all", () => {
  assert.deepEqual(forBrowser("chrome", chrome), chrome);
  assert.ok(chrome.key && chrome.background.service_worker && chrome.permissions.includes("offscreen"));
});

test("Firefox's has the gecko id and an event page, and nothing only Chrome knows", () => {
  const ff = forBrowser("firefox", chrome);
  assert.equal(ff.browser_specific_settings.gecko.id, GECKO_ID);
  assert.deepEqual(ff.background, { scripts: ["vendor/socket.io.js", "event-page.js"], type: "module" });
  assert.equal(ff.key, undefined);
  assert.equal(ff.minimum_chrome_version, undefined);
  assert.ok(!ff.permissions.includes("offscreen"));
  // What both share stays the same.
  for (const k of ["name", "version", "action", "options_ui", "icons", "host_permissions", "optional_host_permissions"]) {
    assert.deepEqual(ff[k], chrome[k], k);
  }
  assert.deepEqual(ff.permissions, ["notifications", "alarms", "storage"]);
});

test("Firefox's policy keeps scripts to the add-on's files and does not upgrade ws:// to wss://", () => {
  const csp = forBrowser("firefox", chrome).content_security_policy.extension_pages;
  assert.equal(csp, "script-src 'self'");
  assert.doesNotMatch(csp, /upgrade-insecure-requests/);
});

test("another browser is refused with the ones it knows", () => {
  assert.throws(() => forBrowser("safari", chrome), /use chrome or firefox/);
});
