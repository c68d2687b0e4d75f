#!/usr/bin/env node
// stats-check.mjs: opens the stats page in Debian's Chromium and prints
// what it shows as one JSON line, for the Go end-to-end tests:
//
//   node stats-check.mjs --url http://127.0.0.1:PORT/stats [--timeout-ms T] [--width PX]
//   {"total":"30","authors":"7","retweets":"3","peak":"…","hashtags":"…","authorsChart":"…","timelineBars":N,
//    "bucket":MINUTES,"ticks":["…"],"tickPx":N,"peakTitle":"…","partialTitle":null,"legend":["…"],
//    "readout":"…","readoutEnd":"…","pageErrors":[]}
//
// --width sets the viewport's width (default 1280; 375 is a phone); tickPx
// is the height the timeline's axis labels are drawn at, in CSS pixels;
// peakTitle the tooltip of the busiest bar; readout what the readout says
// once the chart has the keyboard focus, readoutEnd after End.
//
// It waits until the figures are filled in; exit 1 on timeout.
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    "timeout-ms": { type: "string", default: "30000" },
    width: { type: "string", default: "1280" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!args.url) {
  process.stderr.write("usage: node stats-check.mjs --url http://127.0.0.1:PORT/stats [--timeout-ms T]\n");
  process.exit(2);
}
const timeoutMs = Number.parseInt(args["timeout-ms"], 10);

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: Number.parseInt(args.width, 10) || 1280, height: 900 } });
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(String(err?.message ?? err)));
  await page.goto(args.url, { waitUntil: "domcontentloaded", timeout: timeoutMs });
  let timeout = false;
  try {
    await page.waitForFunction(() => /^\d/.test(document.getElementById("total")?.textContent ?? ""), null, { timeout: timeoutMs });
  } catch {
    timeout = true;
    code = 1;
  }
  // Avatars that fail give way to initials: let them settle.
  await page.waitForFunction(() => Array.from(document.querySelectorAll("#top-authors img"), (i) => i.complete).every(Boolean),
    null, { timeout: 5000 }).catch(() => {});
  const shown = await page.evaluate(() => {
    const text = (id) => document.getElementById(id)?.textContent.trim() ?? null;
    return {
      total: text("total"),
      authors: text("authors"),
      retweets: text("retweets"),
      peak: text("peak"),
      hashtags: text("top-hashtags"),
      authorsChart: text("top-authors"),
      langs: text("langs"),
      // Each top author: the name shown, the line under it, and the
      // avatar (its src and referrer policy) or the initials instead.
      authorRows: Array.from(document.querySelectorAll("#top-authors li"), (li) => ({
        name: li.querySelector(".label")?.firstChild?.textContent ?? null,
        sub: li.querySelector(".sub")?.textContent ?? null,
        img: li.querySelector("img")?.getAttribute("src") ?? null,
        referrer: li.querySelector("img")?.referrerPolicy ?? null,
        initials: li.querySelector(".initials")?.textContent ?? null,
      })),
      // The timeline draws every non-empty bucket as one rect.
      timelineBars: document.querySelectorAll("#timeline rect.bar").length,
      peakTitle: document.querySelector("#timeline rect.peak > title")?.textContent ?? null,
      partialTitle: document.querySelector("#timeline rect.partial > title")?.textContent ?? null,
      legend: Array.from(document.querySelectorAll("#legend li"), (li) => li.textContent),
      bucket: Number(document.querySelector("#timeline svg")?.dataset.bucket ?? 0),
      ticks: Array.from(document.querySelectorAll("#timeline text.tick"), (t) => t.textContent),
      tickPx: Math.min(...Array.from(document.querySelectorAll("#timeline text.tick"), (t) => t.getBoundingClientRect().height)),
    };
  });
  // The keyboard: focusing the chart reads out the busiest bar, End the
  // newest one.
  let readout = null, readoutEnd = null;
  if (!timeout && shown.timelineBars > 0) {
    await page.focus("#timeline svg");
    readout = await page.textContent("#readout");
    await page.keyboard.press("End");
    readoutEnd = await page.textContent("#readout");
  }
  process.stdout.write(JSON.stringify({ ...shown, readout, readoutEnd, pageErrors, timeout }) + "\n");
} finally {
  await browser.close();
}
process.exit(code);
