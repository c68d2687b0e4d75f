// Settings changed in the options page or the popup reach the connection
// host without reloading anything: it reconnects when the server URL
// changed and applies the rest to the next post.

import { isSettingsChange, loadSettings } from "../shared/settings.js";

/**
 * followSettings returns the chrome.storage.onChanged listener that hands
 * the settings to apply (a message to the offscreen document in Chrome, a
 * call in Firefox's event page).
 *
 * Two quick changes (the popup's switch, then the options page) must not
 * arrive in the wrong order, or the host would go back to an old server:
 * each push waits for the previous one and reads storage when its turn
 * comes, so the last one always carries the latest settings.
 * @param {(settings: object) => unknown} apply
 */
export function followSettings(apply) {
  let pushes = Promise.resolve();
  return (changes, areaName) => {
    if (!isSettingsChange(changes, areaName)) return;
    pushes = pushes
      .then(async () => apply(await loadSettings()))
      .catch((err) => console.error("tweetwire: cannot apply settings:", err));
  };
}
