// When the worker makes sure the offscreen document exists: on install or
// update, at browser start-up, whenever the worker itself starts, and every
// 30 s on an alarm, which also wakes a stopped worker so that a document
// Chrome closed comes back.

import { ALARM, ensureAlarm } from "./alarm.js";
import { ensureOffscreen } from "./offscreen-document.js";

function logError(err) {
  console.error("tweetwire:", err);
}

export function onInstalled() {
  ensureAlarm().catch(logError);
  ensureOffscreen().catch(logError);
}

export function onStartup() {
  ensureOffscreen().catch(logError);
}

export function onAlarm(alarm) {
  if (alarm.name === ALARM) ensureOffscreen().catch(logError);
}

/** onWorkerStart runs each time Chrome starts the worker, whatever woke it. */
export function onWorkerStart() {
  ensureOffscreen().catch(logError);
  ensureAlarm().catch(logError);
}
