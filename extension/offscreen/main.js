// The offscreen document (Chrome): it lives as long as the browser does
// (the service worker does not), so it runs the connection host
// (host.js). Its only extension API is chrome.runtime: settings arrive
// from the service worker, notifications and the badge go back to it.

import { send, Target, Type } from "../shared/messages.js";
import { startHost } from "./host.js";

const host = startHost({
  notify: (n) => send(Target.BACKGROUND, Type.NOTIFY, n),
  retract: (id) => send(Target.BACKGROUND, Type.RETRACT, { id }),
  badge: (count) => send(Target.BACKGROUND, Type.BADGE, { count }),
});

chrome.runtime.onMessage.addListener((msg) => {
  host.onMessage(msg);
});

// Ask the service worker for the settings; it created this document, so it
// is running, but retry in case it was stopped in between.
async function start() {
  for (let attempt = 0; ; attempt++) {
    try {
      const settings = await send(Target.BACKGROUND, Type.OFFSCREEN_READY);
      if (settings) {
        // A CONFIG message may have come first; it is the same or newer.
        if (!host.configured()) host.configure(settings);
        return;
      }
    } catch (err) {
      console.error("tweetwire:", err);
    }
    await new Promise((r) => setTimeout(r, Math.min(10000, 250 * 2 ** attempt)));
  }
}

start();
