// The toolbar badge shows the unread count the offscreen document keeps.

const COLOR = "#1d6fd6";

export async function setUnread(count) {
  const n = Number.isInteger(count) && count > 0 ? count : 0;
  await chrome.action.setBadgeBackgroundColor({ color: COLOR });
  await chrome.action.setBadgeText({ text: n === 0 ? "" : n > 99 ? "99+" : String(n) });
}
