// The stats page: polls /api/stats while the event runs and draws the
// figures as SVG. Author handles, hashtags and event names are untrusted,
// so every text goes in with textContent and every element is made with
// createElementNS; nothing is ever parsed as HTML.

import { fileName, statsCSV } from "./export.js";
import { avatarURL, initials, languageName } from "./labels.js";
import { safeHref } from "./rich-text.js";
import { axisFormat, bucketTimeline, partialBar, sizeLabel } from "./timeline.js";

const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 5000; // while the event runs
const RETRY_MS = 10000; // after a failed request

const params = new URLSearchParams(location.search);
const eventName = params.get("event") || "";

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

let timer = 0;
let lastTimeline = [];
let lastRunning = false;

function drawTimeline() {
  const box = $("timeline");
  const { root, legend } = timelineChart(lastTimeline, box.clientWidth, lastRunning, Date.now());
  const focused = box.contains(document.activeElement);
  box.replaceChildren(root);
  $("legend").replaceChildren(...legendList(legend));
  const again = box.querySelector(`rect[data-start="${selected}"]`);
  if (again) select(again);
  else $("readout").textContent = "";
  if (focused) root.focus();
}

// Drawn at its real width: redraw when that changes (a phone turned).
new ResizeObserver(() => drawTimeline()).observe($("timeline"));

function svg(name, attrs = {}, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function setState(text, running) {
  const el = $("state");
  el.textContent = text;
  el.dataset.running = running;
}

function showError(message) {
  const el = $("error");
  el.textContent = message;
  el.hidden = !message;
}

// --- Charts -----------------------------------------------------------------

// timelineChart draws posts over time as one <rect> per non-empty bucket,
// summed into buckets of a round size so that no bar is thinner than a few
// pixels (timeline.js; so at most a few hundred rects), with the busiest
// bucket marked and the bucket still filling (the one containing now while
// the event runs) drawn lighter. Each bar has a <title> (the tooltip) and
// the chart is one tab stop whose arrow keys move a readout along the bars.
// It is drawn at the width it is shown at, so its text keeps its size on a
// phone.
function timelineChart(timeline, width, running, now) {
  const W = Math.max(300, Math.round(width) || 800);
  const H = Math.round(Math.min(260, Math.max(180, W * 0.3)));
  const left = 44, bottom = 24, top = 12;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
  if (timeline.length === 0) return { root, legend: [] };
  const plotW = W - left - 6, plotH = H - bottom - top;
  const { size, bars } = bucketTimeline(timeline, Math.max(12, Math.floor(plotW / 4)));
  const first = bars[0].start;
  const end = bars[bars.length - 1].start + size * 60000;
  const partial = partialBar(bars, size, now, running);
  const peak = bars.reduce((p, b) => (b.count > p.count ? b : p), bars[0]);
  const max = Math.max(1, peak.count);
  const fmt = axisFormat(first, end);
  const unit = sizeLabel(size);
  root.append(svg("title", {}, `Posts per ${unit} from ${dateTime.format(new Date(first))} to ` +
    `${dateTime.format(new Date(end))}; busiest ${number.format(peak.count)} from ${fmt.format(new Date(peak.start))}`));

  const msPerPx = (end - first) / plotW;
  const x = (t) => left + (t - first) / msPerPx;
  const barW = Math.max(1, (size * 60000) / msPerPx - 1);
  root.append(svg("line", { class: "axis", x1: left, y1: top + plotH, x2: W, y2: top + plotH }));
  const group = svg("g", { class: "bars" });
  bars.forEach((b, i) => {
    if (b.count === 0) return;
    const h = Math.max(1, (b.count / max) * plotH);
    const cls = ["bar", b === peak ? "peak" : "", i === partial ? "partial" : ""].filter(Boolean).join(" ");
    const rect = svg("rect", { class: cls, x: x(b.start).toFixed(2), y: (top + plotH - h).toFixed(2), width: barW.toFixed(2), height: h.toFixed(2) });
    const span = `${fmt.format(new Date(b.start))} – ${fmt.format(new Date(b.start + size * 60000))}`;
    const what = b.count === 1 ? "1 post" : `${number.format(b.count)} posts`;
    rect.append(svg("title", {}, `${span}: ${what}${i === partial ? " so far" : ""}${b === peak ? " (busiest)" : ""}`));
    rect.dataset.start = String(b.start);
    group.append(rect);
  });
  root.append(group);
  // y axis: zero and the peak, per bucket.
  root.append(svg("text", { x: left - 6, y: top + plotH, "text-anchor": "end", "dominant-baseline": "middle" }, "0"));
  root.append(svg("text", { x: left - 6, y: top + 6, "text-anchor": "end", "dominant-baseline": "middle" }, number.format(max)));
  // x axis: as many evenly spaced instants as fit, each about 110 px wide,
  // without saying the same minute twice on a short event.
  const n = Math.max(2, Math.min(6, Math.floor(plotW / 110)));
  let said = "";
  for (let i = 0; i < n; i++) {
    const t = first + ((end - first) * i) / (n - 1);
    const label = fmt.format(new Date(t));
    if (label === said) continue;
    said = label;
    const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
    root.append(svg("text", { class: "tick", x: x(t).toFixed(2), y: H - 6, "text-anchor": anchor }, label));
  }
  root.dataset.bucket = String(size);
  root.setAttribute("tabindex", "0");
  root.setAttribute("aria-describedby", "readout");
  const legend = [
    ["", `posts per ${unit}`],
    ["peak", `busiest ${unit}: ${number.format(peak.count)} from ${fmt.format(new Date(peak.start))}`],
  ];
  if (partial >= 0) legend.push(["partial", `this ${unit} so far`]);
  return { root, legend };
}

// The readout under the timeline says what the bar under the pointer or
// the keyboard's selection holds; the selection is kept by bucket start
// across the redraws of a running event.
let selected = NaN;

function select(rect) {
  const box = $("timeline");
  for (const r of box.querySelectorAll("rect.sel")) r.classList.remove("sel");
  $("readout").textContent = rect ? rect.querySelector("title").textContent : "";
  if (!rect) return;
  rect.classList.add("sel");
  selected = Number(rect.dataset.start);
}

function timelineKey(ev) {
  const rects = Array.from($("timeline").querySelectorAll("rect.bar"));
  if (rects.length === 0) return;
  let i = rects.findIndex((r) => r.classList.contains("sel"));
  const moves = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: rects.length - 1 };
  if (!(ev.key in moves)) return;
  ev.preventDefault();
  i = Math.min(rects.length - 1, Math.max(0, moves[ev.key]));
  select(rects[i]);
}

function timelineFocus() {
  const box = $("timeline");
  if (box.querySelector("rect.sel")) return;
  select(box.querySelector("rect.peak"));
}

$("timeline").addEventListener("keydown", timelineKey);
$("timeline").addEventListener("focusin", timelineFocus);
$("timeline").addEventListener("pointerover", (ev) => {
  if (ev.target instanceof SVGRectElement && ev.target.classList.contains("bar")) select(ev.target);
});

function legendList(items) {
  return items.map(([cls, text]) => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${cls}`.trim(); // not "bar": that is the page's header (base.css)
    li.append(swatch, text);
    return li;
  });
}

// rankList draws one labelled horizontal bar per row as an HTML list, so
// that its text wraps and keeps its size at any width (an SVG scaled to a
// phone shrinks its text); a row of an author starts with their avatar.
function rankList(rows, title) {
  const list = listOrNone(rows.length, "ranks", title, "None yet.");
  if (rows.length === 0) return list;
  const max = Math.max(1, ...rows.map((r) => r.count));
  for (const r of rows) {
    const li = document.createElement("li");
    if (r.author) li.append(avatar(r.author));
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = r.label;
    label.title = r.label;
    if (r.sub) {
      const sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = r.sub;
      label.append(sub);
    }
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${Math.max(1, (r.count / max) * 100).toFixed(1)}%`; // CSSOM: allowed by style-src 'self'
    track.append(fill);
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = number.format(r.count);
    li.append(label, track, count);
    list.append(li);
  }
  return list;
}

// topPosts lists the most reposted posts: the figure, the original's
// author and the start of its text, all as text (a post is untrusted), and
// a link to the original where the source gave an http(s) one. The
// figure says whose count it is: the service's, when it gave one, else the
// reposts this event holds.
function topPosts(posts) {
  const list = listOrNone(posts.length, "top-posts", "Most reposted posts", "No reposts yet.");
  for (const p of posts) {
    const li = document.createElement("li");
    const figure = document.createElement("span");
    figure.className = "count";
    figure.textContent = number.format(p.reposts);
    const unit = document.createElement("span");
    unit.className = "unit";
    unit.textContent = p.reposts === 1 ? "repost" : "reposts";
    figure.append(unit);
    const body = document.createElement("div");
    body.className = "body";
    const who = document.createElement("p");
    who.className = "who";
    who.dir = "auto";
    who.textContent = p.name ? `${p.name} @${p.user}` : `@${p.user}`;
    const text = document.createElement("p");
    text.className = "text";
    text.dir = "auto";
    text.textContent = p.text;
    const meta = document.createElement("p");
    meta.className = "sub";
    meta.textContent = p.reported > p.seen
      ? `${p.source}'s count · ${number.format(p.seen)} here`
      : `reposted ${number.format(p.seen)} ${p.seen === 1 ? "time" : "times"} here`;
    const href = safeHref(p.url);
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      a.textContent = "Open";
      meta.append(" · ", a);
    }
    body.append(who, text, meta);
    li.append(figure, body);
    list.append(li);
  }
  return list;
}

// listOrNone returns an empty ordered list of the class and label given,
// or, when there is nothing to list (n is 0), a line saying none.
function listOrNone(n, className, label, none) {
  if (n === 0) {
    const p = document.createElement("p");
    p.className = "none";
    p.textContent = none;
    return p;
  }
  const list = document.createElement("ol");
  list.className = className;
  list.setAttribute("aria-label", label);
  return list;
}

// avatar is the author's picture, or their initials when there is none or
// it fails to load. The URL is checked (http and https only) and loaded
// without a referrer: the page's address is nobody else's business.
function avatar(a) {
  const fallback = () => {
    const span = document.createElement("span");
    span.className = "avatar initials";
    span.setAttribute("aria-hidden", "true");
    span.textContent = initials(a.name, a.user);
    return span;
  };
  const src = avatarURL(a.picture, document.baseURI);
  if (!src) return fallback();
  const img = document.createElement("img");
  img.className = "avatar";
  img.alt = "";
  img.width = 28;
  img.height = 28;
  img.loading = "lazy";
  img.decoding = "async";
  img.referrerPolicy = "no-referrer";
  img.addEventListener("error", () => img.replaceWith(fallback()), { once: true });
  img.src = src;
  return img;
}

// --- Downloads --------------------------------------------------------------

// The CSV is made from the JSON last drawn, at each render: a blob behind
// the link, its previous URL revoked.
let csvURL = "";

function offerCSV(s) {
  const link = $("csv");
  if (csvURL) URL.revokeObjectURL(csvURL);
  const lang = (code) => languageName(code, navigator.languages);
  csvURL = URL.createObjectURL(new Blob([statsCSV(s, lang)], { type: "text/csv;charset=utf-8" }));
  link.href = csvURL;
  link.download = fileName(s.event.name, "csv");
  link.hidden = false;
  $("png").hidden = s.timeline.length === 0;
}

// The PNG is the timeline as drawn: its SVG serialised with the colours
// and sizes the stylesheet gave it written in as attributes (an SVG drawn
// as an image sees no stylesheet), loaded as a data: image (img-src allows
// data:, not blob:), drawn on a canvas at twice its size and saved with
// canvas.toBlob behind a link that is clicked once.
const PAINT = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "font-size", "font-family", "font-weight"];

async function downloadPNG() {
  const svgEl = $("timeline").querySelector("svg");
  if (!svgEl) return;
  const copy = svgEl.cloneNode(true);
  copy.setAttribute("xmlns", SVG);
  const from = [svgEl, ...svgEl.querySelectorAll("*")];
  const to = [copy, ...copy.querySelectorAll("*")];
  from.forEach((el, i) => {
    const cs = getComputedStyle(el);
    for (const prop of PAINT) to[i].setAttribute(prop, cs.getPropertyValue(prop));
  });
  to.forEach((el) => el.removeAttribute("class"));
  const w = Number(svgEl.getAttribute("width")), h = Number(svgEl.getAttribute("height"));
  const img = new Image(w, h);
  img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(copy));
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = w * 2;
  canvas.height = h * 2;
  const ctx = canvas.getContext("2d");
  ctx.scale(2, 2);
  ctx.fillStyle = getComputedStyle($("timeline")).getPropertyValue("--card").trim() || "#fff";
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(img, 0, 0, w, h);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("the browser could not make the image");
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName($("event").textContent, "png");
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

$("png").addEventListener("click", () => {
  downloadPNG().catch((err) => showError(`Could not make the image: ${err.message}.`));
});

// --- Event picker -----------------------------------------------------------

// The picker lists every event (/api/events, latest first) and reloads the
// page for the one chosen, as ?event=NAME, so that the address can be
// shared. It is filled once: events come and go rarely.
async function loadEvents(current) {
  const res = await fetch(new URL("api/events", document.baseURI), { cache: "no-store", headers: { Accept: "application/json" } });
  if (!res.ok) return;
  const events = await res.json();
  if (!Array.isArray(events) || events.length === 0) return;
  const picker = $("event-picker");
  const day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  picker.replaceChildren(...events.map((ev) => {
    const start = Date.parse(ev.start);
    const when = Number.isNaN(start) ? "" : ` · ${day.format(start)}`;
    const opt = new Option(`${ev.name}${ev.end ? "" : " · live"}${when}`, ev.name);
    opt.selected = ev.name === current;
    return opt;
  }));
  picker.closest("label").hidden = false;
}

$("event-picker").addEventListener("change", (ev) => {
  const url = new URL(location.href);
  url.searchParams.set("event", ev.target.value);
  location.assign(url);
});

let eventsLoaded = false;

// --- Rendering --------------------------------------------------------------

function render(s) {
  const ev = s.event;
  $("event").textContent = ev.name;
  document.title = `${ev.name} · Tweetwire statistics`;
  const running = !ev.end;
  setState(running ? "live" : `ended ${dateTime.format(new Date(ev.end))}`, running ? "yes" : "");

  $("total").textContent = number.format(s.total);
  $("authors").textContent = number.format(s.authors);
  $("retweets").textContent = s.total ? percent.format(s.retweet_share) : "–";
  $("peak").textContent = s.total ? number.format(s.peak.count) : "–";
  const ends = s.timeline.length ? [Date.parse(s.timeline[0].minute), Date.parse(s.timeline[s.timeline.length - 1].minute)] : [0, 0];
  $("peak-label").textContent = s.total
    ? `peak posts per minute (${axisFormat(ends[0], ends[1]).format(new Date(s.peak.minute))})`
    : "peak posts per minute";
  $("span").textContent = s.first && s.last
    ? `First post ${dateTime.format(new Date(s.first.created_at))} by @${s.first.user}; ` +
      `last ${dateTime.format(new Date(s.last.created_at))} by @${s.last.user}.`
    : "No posts yet.";

  const hidden = typeof s.hidden === "number" ? s.hidden : 0;
  $("hidden").hidden = hidden === 0;
  $("hidden").textContent = hidden === 1
    ? "1 post hidden by the organisers is not counted above."
    : `${number.format(hidden)} posts hidden by the organisers are not counted above.`;
  lastTimeline = s.timeline;
  lastRunning = running;
  drawTimeline();
  $("top-authors").replaceChildren(rankList(s.top_authors.map((a) => ({
    label: a.name || `@${a.user}`, sub: a.name ? `@${a.user} · ${a.source}` : a.source, count: a.count, author: a,
  })), "Top authors by posts"));
  $("top-hashtags").replaceChildren(rankList(
    s.top_hashtags.map((c) => ({ label: `#${c.display || c.key}`, count: c.count })), "Top hashtags by posts"));
  const top = Array.isArray(s.top_posts) ? s.top_posts : [];
  $("top-posts").replaceChildren(topPosts(top));
  $("top-posts-note").hidden = top.length === 0;
  $("top-posts-note").textContent = "Ranked by the service's own repost count where it gives one (reposts anywhere, not only about this event), else by the reposts of this event.";
  $("sources").replaceChildren(rankList(
    s.sources.map((c) => ({ label: c.key, count: c.count })), "Posts per source"));
  $("langs").replaceChildren(rankList(
    s.langs.map((c) => ({ label: languageName(c.key, navigator.languages), count: c.count })), "Posts per language"));
  offerCSV(s);
  if (!eventsLoaded) {
    eventsLoaded = true;
    loadEvents(ev.name).catch(() => { eventsLoaded = false; });
  }
  return running;
}

async function refresh() {
  clearTimeout(timer);
  let next = RETRY_MS;
  try {
    const url = new URL("api/stats", document.baseURI);
    if (eventName) url.searchParams.set("event", eventName);
    const res = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `the server answered ${res.status}`);
    showError("");
    next = render(body) ? REFRESH_MS : 0;
  } catch (err) {
    showError(`Could not load the statistics: ${err.message}. Retrying…`);
    setState("offline", "error");
  }
  // An ended event no longer changes: stop polling.
  if (next) timer = setTimeout(refresh, next);
}

// A hidden tab does not poll; it catches up when shown again.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
  else clearTimeout(timer);
});

refresh();
