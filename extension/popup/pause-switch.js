// The notifications switch: pausing is stored in chrome.storage.local,
// where the service worker picks it up and tells the offscreen document.

import { LOCAL_DEFAULTS } from "../shared/settings.js";

export async function bindPauseSwitch(input) {
  const show = (paused) => (input.checked = !paused);
  const { paused } = await chrome.storage.local.get(LOCAL_DEFAULTS);
  show(paused);
  input.addEventListener("change", () => {
    chrome.storage.local.set({ paused: !input.checked }).catch((err) => console.error("tweetwire:", err));
  });
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && "paused" in changes) show(changes.paused.newValue === true);
  });
}
