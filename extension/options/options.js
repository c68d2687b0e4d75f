// The options page: server URL, mute and alert lists and notifications, saved to
// chrome.storage.sync. The service worker sees the change and the offscreen
// document applies it at once; nothing is reloaded.

import { parseWords } from "../shared/notify-rules.js";
import { normalizeSettings, parseServerUrl, SYNC_DEFAULTS } from "../shared/settings.js";
import { showConnection } from "./connection.js";
import { requestServerAccess } from "./server-access.js";

const form = document.getElementById("settings");
const result = document.getElementById("result");

function say(text, isError = false) {
  result.textContent = text;
  result.toggleAttribute("data-error", isError);
}

async function load() {
  const s = normalizeSettings(await chrome.storage.sync.get(SYNC_DEFAULTS));
  form.serverUrl.value = s.serverUrl;
  form.muteWords.value = s.muteWords.join("\n");
  form.alertWords.value = s.alertWords.join("\n");
  form.alertAuthors.value = s.alertAuthors.join("\n");
  form.digestPosts.value = String(s.digestPosts);
  form.digestSeconds.value = String(s.digestSeconds);
  form.notify.checked = s.notify;
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const serverUrl = parseServerUrl(form.serverUrl.value);
  if (!serverUrl) {
    say("Enter an http:// or https:// URL, e.g. http://localhost:8124", true);
    return;
  }
  // Asked first, while the click still counts as a user gesture.
  const access = requestServerAccess(serverUrl);
  const settings = {
    serverUrl,
    muteWords: parseWords(form.muteWords.value),
    alertWords: parseWords(form.alertWords.value),
    alertAuthors: parseWords(form.alertAuthors.value),
    digestPosts: form.digestPosts.valueAsNumber,
    digestSeconds: form.digestSeconds.valueAsNumber,
    notify: form.notify.checked,
  };
  Promise.all([access, chrome.storage.sync.set(settings)])
    .then(([granted]) => {
      form.serverUrl.value = serverUrl;
      say(granted ? "Saved." : "Saved. Avatars served by this server will show the Tweetwire icon in notifications.");
    })
    .catch((err) => say(`Not saved: ${err.message}`, true));
});

showConnection(document.getElementById("connection"));
load().catch((err) => say(`Cannot read the settings: ${err.message}`, true));
