// driver.mjs: what the browser drivers (extension-check.mjs,
// firefox-check.mjs, pages-check.mjs) share. Each reports what it observes
// as one JSON object per line on stdout and takes commands from stdin, one
// JSON object per line, which it runs one at a time, in order, answering
// each with {"reply": id, ...answer} or {"reply": id, "error": "..."}; the
// Go tests drive them and decide.

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

/**
 * driverArgs parses the command line with options plus --max-ms (how long
 * the driver may run, 300000 ms by default) and returns the values and
 * maxMs; required names options that must be given. On a mistake it says
 * what and how to call name, and exits with status 2.
 */
export function driverArgs(name, options, { required = [], usage = "" } = {}) {
  try {
    const { values } = parseArgs({ options: { ...options, "max-ms": { type: "string", default: "300000" } }, strict: true });
    for (const r of required) {
      if (!values[r]) throw new Error(`--${r} is required`);
    }
    return { args: values, maxMs: Number.parseInt(values["max-ms"], 10) || 300000 };
  } catch (err) {
    process.stderr.write(`${name}: ${err.message}\nusage: node ${name}.mjs ${usage} [--max-ms N]\n`);
    process.exit(2);
  }
}

/** out prints one report line. */
export function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** within rejects, saying what did not answer, when p takes longer than ms. */
export function within(ms, what, p) {
  return Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))]);
}

/** firstLine is an error's first line: a report stays one line. */
export function firstLine(err) {
  return String(err?.message ?? err).split("\n")[0];
}

/**
 * stopAfter ends the driver after maxMs whatever it is doing, saying so:
 * nothing may outlive the test that started it.
 */
export function stopAfter(name, maxMs, shutdown) {
  setTimeout(() => {
    out({ event: "fatal", error: `${name} ran for --max-ms ${maxMs} and stopped` });
    shutdown(1);
  }, maxMs).unref();
}

/**
 * startOrDie runs start; if it fails, the driver reports the failure as
 * fatal and shuts down with status 1.
 */
export async function startOrDie(start, shutdown, what = "") {
  try {
    await start();
  } catch (err) {
    out({ event: "fatal", error: what + firstLine(err) });
    await shutdown(1);
  }
}

/**
 * serveCommands answers stdin's commands with run(cmd), one at a time and
 * in order, each within ms (an answer of null prints nothing: the command
 * reports on its own), and shuts down when stdin closes.
 */
export function serveCommands({ run, shutdown, ms = 60000 }) {
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    queue = queue.then(async () => {
      let cmd;
      try {
        cmd = JSON.parse(line);
      } catch {
        out({ reply: null, error: `not JSON: ${line.slice(0, 80)}` });
        return;
      }
      try {
        const answer = await within(ms, cmd.cmd, run(cmd));
        if (answer !== null) out({ reply: cmd.id, ...answer });
      } catch (err) {
        out({ reply: cmd.id ?? null, error: firstLine(err) });
      }
    });
  });
  lines.on("close", () => queue.then(() => shutdown(0)));
}
