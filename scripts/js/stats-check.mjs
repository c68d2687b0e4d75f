#!/usr/bin/env node
// stats-check.mjs: opens the stats page in Debian's Chromium and prints
// what it shows as one JSON line, for the Go end-to-end tests:
//
//   node stats-check.mjs --url http://127.0.0.1:PORT/stats [--timeout-ms T] [--width PX]
//   {"total":"30","authors":"7","retweets":"3","peak":"…","hashtags":"…","authorsChart":"…","timelineBars":N,
//    "bucket":MINUTES,"ticks":["…"],"tickPx":N,"peakTitle":"…","partialTitle":null,"legend":["…"],
//    "readout":"…","readoutEnd":"…","pageErrors":[]}
//
// --width and --height set the viewport (default 1280×900; 390×844 is a
// phone); overflowX is how far the page scrolls sideways, minFont the
// smallest text drawn ({px, where}); tickPx
// is the height the timeline's axis labels are drawn at, in CSS pixels;
// peakTitle the tooltip of the busiest bar; readout what the readout says
// once the chart has the keyboard focus, readoutEnd after End.
//
// events lists the event picker's options ({value, text, selected}); with
// --pick NAME it chooses NAME and adds picked ({url, event, total}) from
// the page that loads.
//
// With --downloads it also clicks "Download CSV" and "Download PNG" and
// adds csv (the text), csvName and png ({name, bytes, width, height}).
//
// It waits until the figures are filled in; exit 1 on timeout.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    "timeout-ms": { type: "string", default: "30000" },
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "900" },
    downloads: { type: "boolean", default: false },
    pick: { type: "string" },
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
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: Number.parseInt(args.width, 10) || 1280, height: Number.parseInt(args.height, 10) || 900 } });
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
      // The layout: how far the page scrolls sideways (0: not at all),
      // and the smallest text on it in CSS pixels as drawn (an SVG's
      // text scaled by its viewBox counts at its drawn size).
      overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      minFont: (() => {
        let min = Infinity, where = "";
        for (const el of document.querySelectorAll("body *")) {
          if (!Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
          if (el.closest("[hidden], noscript, title") || el.getClientRects().length === 0) continue;
          let px = Number.parseFloat(getComputedStyle(el).fontSize);
          if (el instanceof SVGElement) px *= el.ownerSVGElement?.getScreenCTM()?.a ?? 1;
          if (px < min) [min, where] = [px, `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""} "${el.textContent.trim().slice(0, 30)}"`];
        }
        return { px: Math.round(min * 10) / 10, where };
      })(),
      // Each top author: the name shown, the line under it, and the
      // avatar (its src and referrer policy) or the initials instead.
      authorRows: Array.from(document.querySelectorAll("#top-authors li"), (li) => ({
        name: li.querySelector(".label")?.firstChild?.textContent ?? null,
        sub: li.querySelector(".sub")?.textContent ?? null,
        img: li.querySelector("img")?.getAttribute("src") ?? null,
        referrer: li.querySelector("img")?.referrerPolicy ?? null,
        initials: li.querySelector(".initials")?.textContent ?? null,
      })),
      // Each most reposted post: its figure, who wrote it, its text (and
      // whether markup in it became elements), the line under it and
      // its link; the text's lines shown at most.
      topPosts: Array.from(document.querySelectorAll("#top-posts li"), (li) => {
        const text = li.querySelector(".text");
        return {
          count: li.querySelector(".count")?.firstChild?.textContent ?? null,
          who: li.querySelector(".who")?.textContent ?? null,
          text: text?.textContent ?? null,
          elements: text ? text.querySelectorAll("*").length : -1,
          dir: text?.getAttribute("dir") ?? null,
          sub: li.querySelector(".sub")?.textContent ?? null,
          href: li.querySelector("a")?.getAttribute("href") ?? null,
          lines: text ? Math.round(text.getBoundingClientRect().height / Number.parseFloat(getComputedStyle(text).lineHeight)) : 0,
        };
      }),
      // The timeline draws every non-empty bucket as one rect.
      timelineBars: document.querySelectorAll("#timeline rect.bar").length,
      peakTitle: document.querySelector("#timeline rect.peak > title")?.textContent ?? null,
      partialTitle: document.querySelector("#timeline rect.partial > title")?.textContent ?? null,
      legend: Array.from(document.querySelectorAll("#legend li"), (li) => li.textContent),
      // The legend's colour swatches, widest, in CSS pixels.
      swatchPx: Math.max(0, ...Array.from(document.querySelectorAll("#legend .swatch"), (el) => el.getBoundingClientRect().width)),
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
  // --downloads: the CSV's text, and the PNG's size in pixels as its
  // header says (0 when it is no PNG).
  let csv = null, csvName = null, png = null;
  if (args.downloads && !timeout) {
    const saved = async (click) => {
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: timeoutMs }), click()]);
      const body = await readFile(await download.path());
      return { name: download.suggestedFilename(), body };
    };
    const c = await saved(() => page.click("#csv"));
    csv = c.body.toString("utf8");
    csvName = c.name;
    const p = await saved(() => page.click("#png"));
    const magic = p.body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    png = { name: p.name, bytes: p.body.length, width: magic ? p.body.readUInt32BE(16) : 0, height: magic ? p.body.readUInt32BE(20) : 0 };
  }
  // The event picker: its options once listed; with --pick NAME, the
  // page that choosing NAME loads: its address, event and total.
  let events = null, picked = null;
  if (!timeout) {
    events = await page.waitForFunction(() => {
      const opts = Array.from(document.querySelectorAll("#event-picker option"), (o) => ({ value: o.value, text: o.textContent, selected: o.selected }));
      return opts.length && !document.getElementById("event-picker").closest("label").hidden ? opts : null;
    }, null, { timeout: 5000 }).then((h) => h.jsonValue()).catch(() => null);
  }
  if (args.pick !== undefined && events) {
    await Promise.all([page.waitForURL((u) => u.searchParams.get("event") === args.pick, { timeout: timeoutMs }), page.selectOption("#event-picker", args.pick)]);
    await page.waitForFunction((name) => document.getElementById("event")?.textContent === name && /^\d/.test(document.getElementById("total")?.textContent ?? ""), args.pick, { timeout: timeoutMs });
    picked = await page.evaluate(() => ({ url: location.href, event: document.getElementById("event").textContent, total: document.getElementById("total").textContent }));
  }
  process.stdout.write(JSON.stringify({ ...shown, readout, readoutEnd, csv, csvName, png, events, picked, pageErrors, timeout }) + "\n");
} finally {
  await browser.close();
}
process.exit(code);
