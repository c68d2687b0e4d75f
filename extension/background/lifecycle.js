// When the worker makes sure the offscreen document exists: on install or
// update, at browser start-up, whenever the worker itself starts, and every
// 30 s on an alarm, which also wakes a stopped worker so that a document
// Chrome closed comes back.

import { ensureOffscreen } from "./offscreen-document.js";

const ALARM = "ensure-offscreen";
const PERIOD_MINUTES = 0.5; // the shortest period Chrome allows

function logError(err) {
  console.error("tweetwire:", err);
}

export function onInstalled() {
  chrome.alarms.create(ALARM, { periodInMinutes: PERIOD_MINUTES }).catch(logError);
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
  // Alarms may be lost over a browser restart; create it only if missing so
  // that its period is not restarted on every wake-up.
  chrome.alarms
    .get(ALARM)
    .then((a) => a ?? chrome.alarms.create(ALARM, { periodInMinutes: PERIOD_MINUTES }))
    .catch(logError);
}
