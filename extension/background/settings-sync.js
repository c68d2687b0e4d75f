// Settings changed in the options page or the popup reach the offscreen
// document without reloading anything: it reconnects when the server URL
// changed and applies the rest to the next post.

import { Type } from "../shared/messages.js";
import { isSettingsChange, loadSettings } from "../shared/settings.js";
import { sendToOffscreen } from "./offscreen-document.js";

// Two quick changes (the popup's switch, then the options page) must not
// reach the document in the wrong order, or it would go back to an old
// server: each push waits for the previous one and reads storage when its
// turn comes, so the last message always carries the latest settings.
let pushes = Promise.resolve();

export function onStorageChanged(changes, areaName) {
  if (!isSettingsChange(changes, areaName)) return;
  pushes = pushes
    .then(async () => sendToOffscreen(Type.CONFIG, await loadSettings()))
    .catch((err) => console.error("tweetwire: cannot apply settings:", err));
}
