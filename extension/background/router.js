// Messages for the service worker (target "background"). Messages for other
// contexts are ignored here: returning nothing lets Chrome close the
// channel at once.

import { isFor, Target, Type } from "../shared/messages.js";
import { loadSettings } from "../shared/settings.js";
import { setUnread } from "./badge.js";
import { retract, show } from "./notifications.js";

function logError(err) {
  console.error("tweetwire:", err);
}

export function onMessage(msg, sender, sendResponse) {
  if (!isFor(msg, Target.BACKGROUND) || sender.id !== chrome.runtime.id) return;
  switch (msg.type) {
    case Type.OFFSCREEN_READY:
      loadSettings().then(sendResponse, (err) => {
        logError(err);
        sendResponse(undefined);
      });
      return true; // answered asynchronously
    case Type.NOTIFY:
      show(msg.data).catch(logError);
      break;
    case Type.RETRACT:
      retract(msg.data?.id).catch(logError);
      break;
    case Type.BADGE:
      setUnread(msg.data?.count).catch(logError);
      break;
  }
}
