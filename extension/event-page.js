// The event page (Firefox; Chrome runs service-worker.js instead). Firefox
// has no offscreen documents, and needs none: an MV3 event page has the
// DOM, localStorage and XMLHttpRequest that the connection host
// (offscreen/host.js) wants, so the host runs here and its notifications
// and badge are direct calls. Firefox may still suspend the page (see
// keepAwake), closing the socket with it; every listener is added
// synchronously at the top level so that an event wakes it, the alarm
// wakes it at least every 30 s, and each start reconnects with `since`
// from localStorage, so nothing sent meanwhile is missed or shown twice.

import { setUnread } from "./background/badge.js";
import { ensureAlarm } from "./background/alarm.js";
import { onClicked, retract, show } from "./background/notifications.js";
import { followSettings } from "./background/settings-sync.js";
import { startHost } from "./offscreen/host.js";
import { loadSettings } from "./shared/settings.js";

function logError(err) {
  console.error("tweetwire:", err);
}

// Firefox suspends an event page, socket and all, once it has been idle
// for 30 s: no extension event and no extension API call (traffic on an
// open WebSocket does not count). While the connection is up, each of the
// server's pings (every 25 s) writes the time to storage.session: an API
// call, and a storage.onChanged event here (listened to below), so the
// page stays up and a post notifies when it arrives, not at the next alarm.
// While the server is unreachable nothing is written and the page may be
// suspended; the alarm wakes it to try again.
const AWAKE_KEY = "awakeAt";
function keepAwake() {
  chrome.storage.session.set({ [AWAKE_KEY]: Date.now() }).catch(logError);
}

const host = startHost({ notify: show, retract, badge: setUnread, alive: keepAwake });

// The popup's MARK_READ. (Nothing here sends to Target.BACKGROUND: what
// the offscreen document sends the worker in Chrome is a call here.)
chrome.runtime.onMessage.addListener((msg, sender) => {
  if (sender.id === chrome.runtime.id) host.onMessage(msg);
});
chrome.storage.onChanged.addListener(followSettings((settings) => host.configure(settings)));
chrome.notifications.onClicked.addListener((id) => {
  onClicked(id).catch(logError);
});
// Waking the page is the alarm's whole work: the code below runs then.
chrome.alarms.onAlarm.addListener(() => {});
chrome.runtime.onInstalled.addListener(() => {});
chrome.runtime.onStartup.addListener(() => {});

ensureAlarm().catch(logError);
loadSettings()
  .then((settings) => {
    // A settings change may have been applied first; it is the newer.
    if (!host.configured()) host.configure(settings);
  })
  .catch(logError);
