// export.js: the stats page's downloads, built in the page from the JSON
// of /api/stats.

/**
 * csvCell writes one value as a CSV field (RFC 4180): quoted when it holds
 * a comma, a quote, a line break or edge spaces, quotes doubled. Text that
 * a spreadsheet would run as a formula (it starts with = + - @, a tab or
 * a carriage return: an author named "=HYPERLINK(...)") gets a leading
 * apostrophe, which spreadsheets show as text. Numbers are written as
 * they are.
 */
export function csvCell(value) {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  let s = value == null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** csvText joins rows of values into CSV text, lines ended by CRLF. */
export function csvText(rows) {
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/**
 * statsCSV turns a /api/stats body into one table: section, key, name,
 * count. The timeline comes minute by minute (the page's buckets are for
 * the eye; a spreadsheet can sum), then the top authors (key
 * "source:user", name their display name), the top hashtags (name as most
 * posts write them), the most reposted posts (key the post's id, name
 * "text (@user)"), the sources and the languages (name from langName).
 * It starts with a byte order mark, so that spreadsheets read it as UTF-8.
 */
export function statsCSV(s, langName = (code) => code) {
  const rows = [["section", "key", "name", "count"]];
  for (const m of s.timeline ?? []) rows.push(["timeline", m.minute, "", m.count]);
  for (const a of s.top_authors ?? []) rows.push(["author", `${a.source}:${a.user}`, a.name ?? "", a.count]);
  for (const c of s.top_hashtags ?? []) rows.push(["hashtag", c.key, c.display || c.key, c.count]);
  for (const p of s.top_posts ?? []) rows.push(["reposted", p.id, `${p.text} (@${p.user})`, p.reposts]);
  for (const c of s.sources ?? []) rows.push(["source", c.key, c.key, c.count]);
  for (const c of s.langs ?? []) rows.push(["language", c.key, langName(c.key), c.count]);
  return "\ufeff" + csvText(rows);
}

/** fileName makes an event's name safe as a download's file name. */
export function fileName(event, ext) {
  const base = String(event ?? "").normalize("NFC").replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, "-").replace(/^[.\s-]+|[.\s-]+$/g, "");
  return `${base.slice(0, 80) || "event"}-stats.${ext}`;
}
