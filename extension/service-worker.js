// The service worker (Chrome; Firefox runs event-page.js instead) only
// imports and registers. Chrome stops it after 30 s
// of quiet and starts it again for the next event, so every listener is
// added synchronously here, at the top level, and nothing it needs later
// lives in a global: settings are in chrome.storage, posts in the offscreen
// document's localStorage, shown notifications in chrome.storage.session.

import { onAlarm, onInstalled, onStartup, onWorkerStart } from "./background/lifecycle.js";
import { onClicked } from "./background/notifications.js";
import { onMessage } from "./background/router.js";
import { followSettings } from "./background/settings-sync.js";
import { sendToOffscreen } from "./background/offscreen-document.js";
import { Type } from "./shared/messages.js";

chrome.runtime.onInstalled.addListener(onInstalled);
chrome.runtime.onStartup.addListener(onStartup);
chrome.alarms.onAlarm.addListener(onAlarm);
chrome.runtime.onMessage.addListener(onMessage);
chrome.storage.onChanged.addListener(followSettings((settings) => sendToOffscreen(Type.CONFIG, settings)));
chrome.notifications.onClicked.addListener((id) => {
  onClicked(id).catch((err) => console.error("tweetwire:", err));
});

onWorkerStart();
