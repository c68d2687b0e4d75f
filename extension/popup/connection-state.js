// The connection line at the top of the popup, what to check when the
// server does not answer, and the links to the server's pages.

const LABELS = {
  idle: "Not connected",
  connecting: "Connecting to",
  connected: "Live from",
  reconnecting: "Reconnecting to",
};

export function renderState(node, status) {
  const state = status?.state in LABELS ? status.state : "idle";
  node.dataset.state = state;
  node.dataset.transport = status?.transport ?? "";
  let host = "";
  try {
    host = status?.server ? new URL(status.server).host : "";
  } catch {
    host = "";
  }
  node.textContent = host ? `${LABELS[state]} ${host}` : LABELS[state];
  node.title = status?.error ? `Last error: ${status.error}` : "";
}

/**
 * renderHelp explains a server that does not answer: "Reconnecting" alone
 * does not say whether to wait or to fix something.
 */
export function renderHelp(node, status) {
  const down = status?.state === "reconnecting" || (status?.state === "connecting" && Boolean(status?.error));
  node.hidden = !down;
  if (!down) {
    node.replaceChildren();
    return;
  }
  const server = typeof status.server === "string" ? status.server : "the server";
  const settings = document.createElement("a");
  settings.href = "../options/options.html";
  settings.target = "_blank";
  settings.textContent = "Settings";
  const why = status.error ? ` (${status.error})` : "";
  node.replaceChildren(
    `Cannot reach ${server}${why}. Check that the Tweetwire server runs there, and the server URL in `,
    settings,
    ". The extension keeps trying.",
  );
}

/** renderLinks points the footer's links at the server's wall, display
 * and statistics pages. */
export function renderLinks(nav, serverUrl) {
  let base;
  try {
    base = new URL(serverUrl);
  } catch {
    nav.hidden = true;
    return;
  }
  const at = (path) => new URL(path, base).href;
  nav.querySelector("#wall-link").href = at("/");
  nav.querySelector("#display-link").href = at("/display");
  nav.querySelector("#stats-link").href = at("/stats");
  nav.hidden = false;
}
