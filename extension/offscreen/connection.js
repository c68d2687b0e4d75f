// Connection keeps one Socket.IO connection to the server open for as long
// as the connection host lives (Chrome's offscreen document, Firefox's
// event page). socket.io-client 4.8.x is loaded before it (a classic
// <script> in offscreen.html; in Firefox the first background script, run
// as a module, where its UMD wrapper still sets globalThis) and found as
// globalThis.io.

// Backoff between attempts: 1 s doubling to 15 s, ±50 % jitter so that a
// room full of browsers does not come back in step after a restart.
const RECONNECT = Object.freeze({ delay: 1000, delayMax: 15000, jitter: 0.5 });

/**
 * @typedef {object} Handlers
 * @property {() => string} since newest id seen, asked before every attempt
 * @property {(posts: object[]) => void} onPosts posts in arrival order
 * @property {(id: string) => void} onDelete
 * @property {(status: object) => void} onStatus {state, server, transport?, error?, attempt?}
 * @property {() => void} [onAlive] the connection is up: at connect and at
 *   each of the server's heartbeat pings (every 25 s)
 */

export class Connection {
  /** @param {Handlers} handlers */
  constructor(handlers) {
    this.h = handlers;
    this.socket = null;
    this.url = null;
    this.retryTimer = null;
    this.retries = 0;
  }

  /** open connects to url, closing any previous connection first. */
  open(url) {
    this.close();
    this.url = url;
    const base = new URL(url);
    // A path in the server URL is where the server is mounted (behind a
    // proxy); socket.io-client would read it as a namespace instead.
    const path = base.pathname.replace(/\/*$/, "/") + "socket.io";
    const socket = globalThis.io(base.origin, {
      path,
      forceNew: true, // a new URL must never reuse the old manager
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: RECONNECT.delay,
      reconnectionDelayMax: RECONNECT.delayMax,
      randomizationFactor: RECONNECT.jitter,
      timeout: 10000,
      // The server allows our origin by name; no cookies are needed (this is
      // also 4.x's default).
      withCredentials: false,
      // Asked again for every CONNECT (the first, each reconnection and a
      // retry after the server closed us), so every connection asks for what
      // it missed.
      auth: (cb) => cb(this.auth()),
    });
    this.socket = socket;
    const manager = socket.io;
    const status = (state, extra = {}) => this.h.onStatus({ state, server: url, ...extra });
    status("connecting");

    manager.on("reconnect_attempt", (attempt) => status("reconnecting", { attempt }));
    manager.on("ping", () => {
      if (this.socket === socket) this.h.onAlive?.();
    });
    socket.on("connect", () => {
      this.retries = 0;
      this.h.onAlive?.();
      const engine = manager.engine;
      status("connected", { transport: engine?.transport?.name ?? "" });
      engine?.on("upgrade", (t) => {
        if (this.socket === socket) status("connected", { transport: t?.name ?? "websocket" });
      });
    });
    socket.on("connect_error", (err) => status("reconnecting", { error: String(err?.message ?? err) }));
    socket.on("disconnect", (reason) => {
      if (this.socket !== socket) return;
      status("reconnecting", { error: reason });
      // The manager retries on its own after a transport failure, but not
      // when the server closed the socket itself (a restart, or dropping us
      // as a slow client): then we must ask again.
      if (reason === "io server disconnect") this.retryLater(socket);
    });
    socket.on("backlog", (posts) => {
      if (this.socket === socket && Array.isArray(posts)) this.h.onPosts(posts);
    });
    socket.on("tweet", (post) => {
      if (this.socket === socket) this.h.onPosts([post]);
    });
    socket.on("delete", (d) => {
      if (this.socket === socket && typeof d?.id === "string") this.h.onDelete(d.id);
    });
  }

  retryLater(socket) {
    clearTimeout(this.retryTimer);
    const base = Math.min(RECONNECT.delayMax, RECONNECT.delay * 2 ** this.retries++);
    const wait = base * (1 - RECONNECT.jitter + Math.random() * 2 * RECONNECT.jitter);
    this.retryTimer = setTimeout(() => {
      if (this.socket !== socket) return;
      socket.connect();
    }, wait);
  }

  /** auth is the CONNECT payload: {since} once a post was seen. */
  auth() {
    const since = this.h.since();
    return since ? { since } : {};
  }

  /** close drops the connection without reconnecting. */
  close() {
    clearTimeout(this.retryTimer);
    this.retries = 0;
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      s.close();
      s.off();
      s.io.off();
    }
  }
}
