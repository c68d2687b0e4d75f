// live.js: the connection every live page (the wall, the display) keeps to
// the server, through the socket.io-client 4.x that vendor/socket.io.js
// defines as the global `io`. It resumes after the newest post received, so
// that each reconnection's backlog covers exactly what was missed, and it
// reports the connection's state in words a person can read.

const SERVER_DISCONNECT_RETRY_MS = 5000;

/**
 * connectLive connects and calls the handlers given:
 *   state(text, transport)  "connecting", "websocket", "long polling",
 *                            "reconnecting" or "disconnected"
 *   backlog(posts)          the posts missed (or the latest), oldest first
 *   tweet(post)             a new post
 *   remove(id)              a post deleted at the source or hidden
 *   pins(posts)             the organiser's pinned posts, whole list
 *   status(s)               the stream's state, {state, error?, since}:
 *                           running, reconnecting, failed, finished or ended
 * It returns false when the socket.io client is missing.
 */
export function connectLive(on) {
  const noop = () => {};
  const h = { state: noop, backlog: noop, tweet: noop, remove: noop, pins: noop, status: noop, ...on };
  if (typeof window.io !== "function") {
    h.state("disconnected", "");
    return false;
  }
  let lastId = "";
  const track = (post) => {
    if (post && typeof post === "object" && post.id !== undefined && post.id !== null) lastId = String(post.id);
  };

  // Default transports: long polling first, then an upgrade to WebSocket when
  // the browser and the network allow it (a browser without WebSocket stays
  // on polling: the upgrade probe fails and the client keeps what it has).
  const socket = window.io({
    reconnection: true,
    reconnectionAttempts: Infinity,
    // Asked again for every CONNECT, so each (re)connection resumes after the
    // newest post seen and the server's backlog covers exactly what was missed.
    auth: (cb) => cb(lastId ? { since: lastId } : {}),
  });
  const manager = socket.io;

  const showTransport = () => {
    const name = manager.engine && manager.engine.transport ? manager.engine.transport.name : "";
    h.state(name === "websocket" ? "websocket" : "long polling", name);
  };

  // Each (re)connection has a fresh engine; watch it for the upgrade.
  manager.on("open", () => {
    manager.engine.on("upgrade", () => {
      if (socket.connected) showTransport();
    });
  });
  manager.on("reconnect_attempt", () => h.state("reconnecting", ""));

  socket.on("connect", showTransport);
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") {
      // The server closed this client on purpose (for example it fell behind);
      // socket.io does not retry that by itself, so come back a bit later.
      h.state("disconnected", "");
      setTimeout(() => {
        h.state("connecting", "");
        socket.connect();
      }, SERVER_DISCONNECT_RETRY_MS);
    } else {
      h.state("reconnecting", "");
    }
  });

  socket.on("backlog", (posts) => {
    const list = Array.isArray(posts) ? posts : [];
    list.forEach(track);
    h.backlog(list);
  });
  socket.on("tweet", (post) => {
    track(post);
    h.tweet(post);
  });
  socket.on("delete", (msg) => {
    if (msg && msg.id !== undefined && msg.id !== null) h.remove(String(msg.id));
  });
  socket.on("pins", (posts) => h.pins(Array.isArray(posts) ? posts : []));
  socket.on("status", (s) => {
    if (s && typeof s === "object" && typeof s.state === "string") h.status(s);
  });
  return true;
}

/**
 * statusText says what a reader needs to know about the stream, or "" while
 * it runs: the wall and the display show it instead of a green light that
 * stays on after the stream stopped.
 */
export function statusText(s) {
  const err = typeof s.error === "string" && s.error ? `: ${s.error}` : "";
  switch (s.state) {
    case "running":
      return "";
    case "reconnecting":
      return "The stream is reconnecting; new posts will follow.";
    case "failed":
      return `The stream has stopped${err}. The posts so far stay here.`;
    case "finished":
      return "The stream has finished: no new posts will come.";
    case "ended":
      return "The event has ended. Thank you for following it!";
    default:
      return "";
  }
}

/** showStatus puts statusText(s) in banner, hidden while the stream runs. */
export function showStatus(banner, s) {
  const text = statusText(s);
  banner.textContent = text;
  banner.dataset.state = s.state;
  banner.hidden = text === "";
}
