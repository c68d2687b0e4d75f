// Showing notifications and opening their post when clicked. What was shown
// is recorded in chrome.storage.session (memory only, gone with the
// browser): the click handler needs each notification's URL after the
// worker restarted, and the end-to-end test reads the record because
// headless Chromium closes notifications after a few seconds.

import { DIGEST_ID } from "../shared/notify-rules.js";

const SHOWN_KEY = "shownNotifications";
const SHOWN_LIMIT = 200;
const BUNDLED_ICON = chrome.runtime.getURL("icons/icon-128.png");

// Writes to the record are chained so that two notifications shown
// together never overwrite each other's entry. Lost with the worker, which
// is fine: it only orders writes made by this run.
let writes = Promise.resolve();

function record(entry) {
  writes = writes
    .then(async () => {
      const { [SHOWN_KEY]: shown = [] } = await chrome.storage.session.get(SHOWN_KEY);
      shown.push(entry);
      await chrome.storage.session.set({ [SHOWN_KEY]: shown.slice(-SHOWN_LIMIT) });
    })
    .catch((err) => console.error("tweetwire: cannot record a notification:", err));
  return writes;
}

async function lookup(id) {
  const { [SHOWN_KEY]: shown = [] } = await chrome.storage.session.get(SHOWN_KEY);
  return shown.findLast((n) => n.id === id);
}

/** show displays n (see Type.NOTIFY); always with an icon, which Chrome
 * requires: if the avatar is refused, the bundled icon. */
export async function show(n) {
  const options = {
    type: "basic",
    title: String(n.title ?? ""),
    message: String(n.message ?? ""),
    iconUrl: n.iconUrl || BUNDLED_ICON,
    priority: 0,
  };
  let icon = n.icon ?? "bundled";
  try {
    // The digest is one notification updated in place while it is on
    // screen (create would close and reopen it); once the user or the
    // system closed it, the next update opens it again.
    // Firefox has no notifications.update; there create with the same id
    // replaces the notification, which is the nearest it offers.
    const updated = n.id === DIGEST_ID && typeof chrome.notifications.update === "function" && (await chrome.notifications.update(n.id, options));
    if (!updated) await chrome.notifications.create(n.id, options);
  } catch (err) {
    if (options.iconUrl === BUNDLED_ICON) throw err;
    console.warn("tweetwire: avatar refused, showing the bundled icon:", err);
    await chrome.notifications.create(n.id, { ...options, iconUrl: BUNDLED_ICON });
    icon = "bundled";
  }
  await record({
    id: n.id,
    title: options.title,
    message: options.message,
    icon,
    url: typeof n.url === "string" ? n.url : "",
    postIds: Array.isArray(n.postIds) ? n.postIds : [],
    count: Number(n.count) || (Array.isArray(n.postIds) ? n.postIds.length : 0),
    sentAt: Number(n.sentAt) || 0, // when the offscreen document sent it
    at: Date.now(),
  });
}

/** retract clears the notification of a deleted post, if shown. */
export async function retract(postId) {
  await chrome.notifications.clear("post:" + postId);
}

export async function onClicked(id) {
  const shown = await lookup(id);
  // Only web links: a post's URL comes from the server.
  if (shown && /^https?:\/\//i.test(shown.url)) await chrome.tabs.create({ url: shown.url });
  await chrome.notifications.clear(id);
}
