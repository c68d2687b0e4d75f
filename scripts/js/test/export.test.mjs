// The stats page's CSV (server/web/assets/export.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { csvCell, csvText, fileName, statsCSV } from "../../../server/web/assets/export.js";

test("fields are quoted when they must be", () => {
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell("a,b"), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell("two\nlines"), '"two\nlines"');
  assert.equal(csvCell(" edge"), '" edge"');
  assert.equal(csvCell(42), "42");
  assert.equal(csvCell(null), "");
  assert.equal(csvCell("Grüße 👋 مرحبا"), "Grüße 👋 مرحبا");
});

test("cells a spreadsheet would run as formulas are made text", () => {
  assert.equal(csvCell("=HYPERLINK(\"http://evil.example\",\"x\")"), "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"");
  assert.equal(csvCell("+1 555"), "'+1 555");
  assert.equal(csvCell("-2+3"), "'-2+3");
  assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvCell("\t=1"), "'\t=1");
  assert.equal(csvCell("a=b"), "a=b", "only at the start");
  assert.equal(csvCell(-3), "-3", "numbers stay numbers");
});

test("the statistics as one table", () => {
  const s = {
    timeline: [{ minute: "2026-11-25T18:00:00Z", count: 3 }, { minute: "2026-11-25T18:01:00Z", count: 0 }],
    top_authors: [{ source: "twitter", user: "ada", name: "=Ada, \"the\" first", count: 2 }],
    top_hashtags: [{ key: "goconf", display: "GoConf", count: 2 }, { key: "日本", count: 1 }],
    top_posts: [{ id: "x:186", user: "layla", text: "مرحبا, \"all\"\n#GoConf", reposts: 57 }],
    sources: [{ key: "twitter", count: 3 }],
    langs: [{ key: "de", count: 2 }, { key: "und", count: 1 }],
  };
  const names = { de: "German", und: "Undetermined" };
  const csv = statsCSV(s, (c) => names[c]);
  assert.ok(csv.startsWith("\ufeff"), "a byte order mark for spreadsheets");
  assert.deepEqual(csv.slice(1).split("\r\n"), [
    "section,key,name,count",
    "timeline,2026-11-25T18:00:00Z,,3",
    "timeline,2026-11-25T18:01:00Z,,0",
    `author,twitter:ada,"'=Ada, ""the"" first",2`,
    "hashtag,goconf,GoConf,2",
    "hashtag,日本,日本,1",
    `reposted,x:186,"مرحبا, ""all""\n#GoConf (@layla)",57`,
    "source,twitter,twitter,3",
    "language,de,German,2",
    "language,und,Undetermined,1",
    "",
  ]);
  assert.equal(csvText([]), "\r\n");
});

test("file names from event names", () => {
  assert.equal(fileName("GoConf 2026", "csv"), "GoConf 2026-stats.csv");
  assert.equal(fileName("../../etc/passwd", "png"), "etc-passwd-stats.png");
  assert.equal(fileName("", "csv"), "event-stats.csv");
  assert.equal(fileName("Café Gophers 🎉", "csv"), "Café Gophers 🎉-stats.csv");
});
