// Whether the connection to the server works right now, as the offscreen
// document last wrote it (the same localStorage the popup reads); the
// "storage" event brings each change, so saving a new URL shows the new
// server being tried, then connected or not.

import { KEYS, readStatus } from "../shared/recent.js";

const TEXT = {
  connected: (s) => `Connected to ${s.server}${s.transport ? ` (${s.transport})` : ""}.`,
  connecting: (s) => `Connecting to ${s.server}…`,
  reconnecting: (s) =>
    `Cannot reach ${s.server}${s.error ? ` (${s.error})` : ""}. Check that the Tweetwire server runs there and that the URL above is right; the extension keeps trying.`,
  idle: () => "Not connected yet.",
};

function render(node) {
  const status = readStatus();
  const state = status?.state in TEXT ? status.state : "idle";
  node.dataset.state = state;
  node.textContent = TEXT[state]({ ...status, server: String(status?.server ?? "the server") });
}

/** showConnection keeps node telling the connection's state. */
export function showConnection(node) {
  render(node);
  window.addEventListener("storage", (e) => {
    if (e.storageArea === localStorage && (e.key === KEYS.status || e.key === null)) render(node);
  });
}
