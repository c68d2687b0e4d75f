// The connection line at the top of the popup.

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
