#!/usr/bin/env node
// sioclient.mjs: N real socket.io-client clients for the Go integration
// tests: 2.5.0 (Engine.IO 3, the default), 3.1.x or 4.8.x (Engine.IO 4),
// chosen with --client v2|v3|v4. Everything that happens is printed as one JSON object
// per line on stdout:
//
//   {"client":0,"event":"connect","transport":"polling"}
//   {"client":0,"event":"upgrade","transport":"websocket"}
//   {"client":0,"event":"backlog","data":[...]}
//   {"client":0,"event":"tweet","data":{...}}
//   {"client":0,"event":"delete","data":{"id":"..."}}
//   {"client":0,"event":"connect_error","error":"xhr poll error","description":403}
//   {"client":0,"event":"error","error":"..."}
//   {"client":0,"event":"disconnect","reason":"transport close"}
//   {"client":0,"event":"reconnect_attempt","attempt":1,"since":"..."}
//   {"event":"exit","reason":"stdin closed"}
//
// Usage:
//   node sioclient.mjs --url http://127.0.0.1:PORT [--clients N]
//     [--transports websocket|polling|default] [--since ID] [--origin ORIGIN]
//     [--no-reconnect] [--max-ms MS] [--client v2|v3|v4]
//
// It runs until stdin closes, SIGTERM/SIGINT, or --max-ms (default 120000)
// passes; then it disconnects every client, prints the exit line and exits 0.
// When stdin is /dev/null (Go's exec.Cmd with a nil Stdin) it is not watched,
// since it would close at once. Like the web page, each client remembers the
// newest post id it saw and reconnects with ?since=<that id> (v2) or with
// auth {since: <that id>} in its CONNECT (v3, v4).

import { fstatSync, statSync } from "node:fs";
import { parseArgs } from "node:util";

function out(obj) {
  // stdout is a pipe when spawned by the tests: writes to pipes are
  // synchronous on Linux, so each line is flushed as it is written.
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function usage(msg) {
  process.stderr.write(
    `sioclient: ${msg}\n` +
      "usage: node sioclient.mjs --url http://127.0.0.1:PORT [--clients N] " +
      "[--transports websocket|polling|default] [--since ID] [--origin ORIGIN] " +
      "[--no-reconnect] [--max-ms MS] [--client v2|v3|v4]\n",
  );
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      url: { type: "string" },
      clients: { type: "string", default: "1" },
      transports: { type: "string", default: "default" },
      since: { type: "string" },
      origin: { type: "string" },
      "no-reconnect": { type: "boolean", default: false },
      "max-ms": { type: "string", default: "120000" },
      client: { type: "string", default: "v2" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}

if (!args.url) usage("--url is required");
const count = Number.parseInt(args.clients, 10);
if (!(count >= 1)) usage(`--clients must be a positive integer, got ${args.clients}`);
const maxMs = Number.parseInt(args["max-ms"], 10);
if (!(maxMs > 0)) usage(`--max-ms must be a positive integer, got ${args["max-ms"]}`);
const transports = {
  default: undefined, // the library default: polling, then upgrade to websocket
  websocket: ["websocket"],
  polling: ["polling"],
}[args.transports];
if (args.transports !== "default" && !transports) usage(`unknown --transports ${args.transports}`);

// The three generations are installed side by side under npm aliases.
const clientPackage = { v2: "socket.io-client", v3: "socket.io-client-v3", v4: "socket.io-client-v4" }[args.client];
if (!clientPackage) usage(`unknown --client ${args.client}`);
const v2 = args.client === "v2";
const mod = await import(clientPackage);
const io = v2 ? mod.default : (mod.io ?? mod.default);

function errorText(err) {
  if (err === undefined || err === null) return "";
  if (typeof err === "string") return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

function startClient(i) {
  let lastId = args.since ?? "";
  const opts = {
    forceNew: true, // one Manager (and one Engine.IO connection) per client
    reconnection: !args["no-reconnect"],
    reconnectionAttempts: Infinity,
    query: v2 && lastId ? { since: lastId } : {},
  };
  // v3 and later send auth in every CONNECT; a function is asked again
  // on each reconnection, so it resumes after the newest post seen.
  if (!v2) opts.auth = (cb) => cb(lastId ? { since: lastId } : {});
  if (transports) opts.transports = transports;
  if (args.origin) {
    // engine.io-client 3.x in Node sends extraHeaders on both transports: the
    // XHR shim disables its forbidden-header check for them (Origin is one),
    // and the websocket transport passes them to ws as handshake headers.
    // transportOptions overrides per transport; both are set to be explicit.
    const extraHeaders = { Origin: args.origin };
    opts.extraHeaders = extraHeaders;
    opts.transportOptions = { polling: { extraHeaders }, websocket: { extraHeaders } };
  }

  const socket = io(args.url, opts);
  const manager = socket.io;
  const transportName = () => manager.engine?.transport?.name ?? "";

  // Every (re)connection has a fresh engine; its upgrade is reported there.
  manager.on("open", () => {
    const engine = manager.engine;
    engine.on("upgrade", (t) => out({ client: i, event: "upgrade", transport: t?.name ?? transportName() }));
  });

  socket.on("connect", () => out({ client: i, event: "connect", transport: transportName() }));
  socket.on("connect_error", (err) => {
    const line = { client: i, event: "connect_error", error: errorText(err) };
    // engine.io-client puts the HTTP status (polling) or the ws error here.
    const d = err?.description;
    if (typeof d === "number" || typeof d === "string") line.description = d;
    else if (d !== undefined && d !== null) line.description = errorText(d.message ?? d);
    out(line);
  });
  socket.on("disconnect", (reason) => out({ client: i, event: "disconnect", reason: String(reason) }));
  if (v2) {
    socket.on("connect_timeout", () => out({ client: i, event: "connect_error", error: "timeout" }));
    socket.on("error", (err) => out({ client: i, event: "error", error: errorText(err) }));
    socket.on("reconnect_attempt", (attempt) => {
      manager.opts.query = lastId ? { since: lastId } : {};
      out({ client: i, event: "reconnect_attempt", attempt, since: lastId });
    });
  } else {
    // From 3.x the manager, not the socket, reports reconnection.
    manager.on("reconnect_attempt", (attempt) => out({ client: i, event: "reconnect_attempt", attempt, since: lastId }));
  }

  socket.on("backlog", (data) => {
    if (Array.isArray(data) && data.length > 0) {
      const newest = data[data.length - 1];
      if (newest && newest.id !== undefined && newest.id !== null) lastId = String(newest.id);
    }
    out({ client: i, event: "backlog", data });
  });
  socket.on("tweet", (data) => {
    if (data && data.id !== undefined && data.id !== null) lastId = String(data.id);
    out({ client: i, event: "tweet", data });
  });
  socket.on("delete", (data) => out({ client: i, event: "delete", data }));
  socket.on("pins", (data) => out({ client: i, event: "pins", data }));

  return socket;
}

const sockets = [];
for (let i = 0; i < count; i++) sockets.push(startClient(i));

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  for (const s of sockets) s.close();
  out({ event: "exit", reason });
  // Give the close packets a moment to leave, so the server sees a client
  // disconnect rather than a dropped transport.
  setTimeout(() => process.exit(0), 200);
}

setTimeout(() => stop(`max-ms ${maxMs} reached`), maxMs);
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

function stdinIsDevNull() {
  try {
    const a = fstatSync(0);
    const b = statSync("/dev/null");
    return a.isCharacterDevice() && a.rdev === b.rdev;
  } catch {
    return false;
  }
}

if (!stdinIsDevNull()) {
  process.stdin.on("end", () => stop("stdin closed"));
  process.stdin.on("close", () => stop("stdin closed"));
  process.stdin.on("error", () => stop("stdin closed"));
  process.stdin.resume(); // discard input; only its end matters
}
