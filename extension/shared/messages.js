// Every message between the extension's contexts is {target, type, data}.
// chrome.runtime.sendMessage reaches every open extension page (offscreen
// document, popup, options) and the service worker, so each side checks
// `target` first and ignores the rest; the names below are the only place
// they are spelled.

/** Who a message is for. OFFSCREEN is the connection host
 * (offscreen/host.js): Chrome's offscreen document, Firefox's event page.
 * In Firefox nothing is sent to BACKGROUND: what the offscreen document
 * sends Chrome's worker is a call there, since both live in one page. */
export const Target = Object.freeze({
  BACKGROUND: "background",
  OFFSCREEN: "offscreen",
});

/** What a message asks for; the comment says who sends it and its data. */
export const Type = Object.freeze({
  // offscreen -> background, no data; the answer is the current settings
  // (see shared/settings.js). Sent when the document starts.
  OFFSCREEN_READY: "offscreen-ready",
  // background -> offscreen, data: settings. Sent when they change.
  CONFIG: "config",
  // offscreen -> background, data: {id, title, message, iconUrl, icon
  // ("avatar" or "bundled"), url, postIds, sentAt, count?}. One
  // notification, already filtered and paced: a post ("post:<id>") or the
  // digest ("digest", updated in place), whose postIds are the posts this
  // update adds and count all it sums up.
  NOTIFY: "notify",
  // offscreen -> background, data: {id}: the post was deleted; clear its
  // notification if it is still shown.
  RETRACT: "retract",
  // offscreen -> background, data: {count}: the unread count for the badge.
  BADGE: "badge",
  // popup -> offscreen, no data: the user has seen the list.
  MARK_READ: "mark-read",
});

/** message builds a message; use it rather than object literals. */
export function message(target, type, data) {
  return { target, type, data };
}

/** isFor reports whether msg is a well-formed message for target. */
export function isFor(msg, target) {
  return msg !== null && typeof msg === "object" && msg.target === target && typeof msg.type === "string";
}

/**
 * send delivers a message and resolves with the answer, or with undefined
 * when no context is listening (the offscreen document is not open yet,
 * the popup is closed): that is never an error worth a log line here.
 */
export async function send(target, type, data) {
  try {
    return await chrome.runtime.sendMessage(message(target, type, data));
  } catch (err) {
    if (/Receiving end does not exist|message port closed/i.test(String(err?.message))) return undefined;
    throw err;
  }
}
