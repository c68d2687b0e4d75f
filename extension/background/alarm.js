// The periodic alarm that wakes the background: in Chrome the service
// worker, to reopen an offscreen document Chrome closed; in Firefox the
// event page, suspended when idle, to reconnect with `since`.

export const ALARM = "ensure-offscreen"; // the name Chrome installs already have
const PERIOD_MINUTES = 0.5; // the shortest period Chrome allows

/** ensureAlarm creates the alarm if it is missing: alarms may be lost over
 * a browser restart, and creating it anew on every wake-up would restart
 * its period each time. */
export async function ensureAlarm() {
  if (!(await chrome.alarms.get(ALARM))) await chrome.alarms.create(ALARM, { periodInMinutes: PERIOD_MINUTES });
}
