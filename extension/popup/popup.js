// The popup: recent posts and the connection state from the offscreen
// document's localStorage (updated live through "storage" events), and the
// notifications switch. Opening it marks everything read.

import { send, Target, Type } from "../shared/messages.js";
import { KEYS, readPosts, readStatus, readUnread } from "../shared/recent.js";
import { loadSettings } from "../shared/settings.js";
import { renderHelp, renderLinks, renderState } from "./connection-state.js";
import { bindPauseSwitch } from "./pause-switch.js";
import { refreshTimes, renderPosts } from "./post-list.js";

const list = document.getElementById("posts");
const empty = document.getElementById("empty");
const state = document.getElementById("state");
const help = document.getElementById("help");
const pages = document.getElementById("pages");

function showStatus() {
  const status = readStatus();
  renderState(state, status);
  renderHelp(help, status);
}

function markRead() {
  send(Target.OFFSCREEN, Type.MARK_READ).catch((err) => console.error("tweetwire:", err));
}

renderPosts(list, empty, readPosts());
showStatus();
markRead();

window.addEventListener("storage", (e) => {
  if (e.storageArea !== localStorage) return;
  if (e.key === KEYS.posts || e.key === null) renderPosts(list, empty, readPosts());
  if (e.key === KEYS.status || e.key === null) showStatus();
  // Posts that arrive while the list is in view are read.
  if (e.key === KEYS.unread && readUnread() > 0) markRead();
});
setInterval(() => refreshTimes(list), 15000);

bindPauseSwitch(document.getElementById("notifications")).catch((err) => console.error("tweetwire:", err));
// The links follow the settings, not the status: they work while the
// server is down too, which is when one wants to open it.
loadSettings()
  .then((s) => renderLinks(pages, s.serverUrl))
  .catch((err) => console.error("tweetwire:", err))
  .finally(() => (document.body.dataset.ready = "true"));
