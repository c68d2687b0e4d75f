#!/usr/bin/env node
// manifest.mjs: writes the manifest of one browser's build of the
// extension from extension/manifest.json, which is Chrome's (so that
// extension/ loads unpacked in Chrome as it is).
//
//   node manifest.mjs chrome|firefox extension/manifest.json > out/manifest.json
//
// Firefox's differs in what only Chrome knows: no `key` (Firefox names the
// add-on by browser_specific_settings.gecko.id and gives each installation
// a random moz-extension:// UUID), no offscreen documents (the event page
// holds the connection itself), and an event page (`background.scripts`)
// instead of the service worker.
import { readFileSync } from "node:fs";

// The add-on's id, fixed so that an update replaces the installed add-on
// and its storage stays; never sent to the server (see the README's
// Origins).
export const GECKO_ID = "tweetwire@tweetwire.github.io";

// ESR 140, the oldest Firefox still supported: it has MV3 event pages
// with module scripts, storage.session and data_collection_permissions.
const GECKO_MIN = "140.0";

/** forBrowser returns the manifest for browser from Chrome's. */
export function forBrowser(browser, chrome) {
  if (browser === "chrome") return chrome;
  if (browser !== "firefox") throw new Error(`unknown browser ${JSON.stringify(browser)}: use chrome or firefox`);
  const { key, minimum_chrome_version, background, ...rest } = chrome;
  return {
    ...rest,
    background: {
      // socket.io-client's browser build defines globalThis.io, which
      // host.js uses; background scripts run in this order. With "module"
      // every one is a module script: the client's UMD wrapper then finds
      // no `this` and falls back to globalThis, as it should.
      scripts: ["vendor/socket.io.js", "event-page.js"],
      type: "module",
    },
    permissions: chrome.permissions.filter((p) => p !== "offscreen"),
    // Firefox's default MV3 policy adds upgrade-insecure-requests, which
    // turns the ws:// of a server on plain http into wss:// and so keeps
    // the add-on on long polling; Chrome's default has no such clause.
    // Scripts stay limited to the add-on's own files, as by default.
    content_security_policy: { extension_pages: "script-src 'self'" },
    browser_specific_settings: {
      gecko: {
        id: GECKO_ID,
        strict_min_version: GECKO_MIN,
        // The add-on sends nothing about its user anywhere: it only reads
        // the server the user chose.
        data_collection_permissions: { required: ["none"] },
      },
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [browser, path] = process.argv.slice(2);
  try {
    const out = forBrowser(browser, JSON.parse(readFileSync(path, "utf8")));
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } catch (err) {
    process.stderr.write(`manifest: ${err.message}\nusage: node manifest.mjs chrome|firefox extension/manifest.json\n`);
    process.exit(2);
  }
}
