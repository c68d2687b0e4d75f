// The one offscreen document. Chrome allows a single one per extension and
// throws if asked for a second, and several events can wake the worker at
// once (start-up, the alarm, a message), so every caller shares one
// in-flight creation and checks chrome.runtime.getContexts first.

import { send, Target } from "../shared/messages.js";

const PATH = "offscreen/offscreen.html";

// Only this promise lives in a global: it describes work in progress in
// this run of the worker, not state to keep across restarts.
let creating = null;

/** ensureOffscreen resolves once the offscreen document exists. */
export async function ensureOffscreen() {
  if (creating) return creating;
  if (await hasDocument()) return;
  // Another caller may have started while we looked.
  creating ??= chrome.offscreen
    .createDocument({
      url: PATH,
      reasons: [chrome.offscreen.Reason.LOCAL_STORAGE],
      justification: "Keeps the live connection to the Tweetwire server and the recent posts in localStorage.",
    })
    .catch((err) => {
      // Created by an earlier run of this worker whose promise we lost.
      if (!/single offscreen document/i.test(String(err?.message))) throw err;
    })
    .finally(() => {
      creating = null;
    });
  return creating;
}

async function hasDocument() {
  const contexts = await chrome.runtime.getContexts({
    contextTypes: ["OFFSCREEN_DOCUMENT"],
    documentUrls: [chrome.runtime.getURL(PATH)],
  });
  return contexts.length > 0;
}

/** sendToOffscreen makes sure the document exists, then messages it. */
export async function sendToOffscreen(type, data) {
  await ensureOffscreen();
  return send(Target.OFFSCREEN, type, data);
}
