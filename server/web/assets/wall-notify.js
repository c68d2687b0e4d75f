// Desktop notifications from the wall page, for readers in any browser with
// the Notification API (Firefox and Safari have no Tweetwire extension).
// They are opt-in (the header's bell button asks for the permission on a
// click, as browsers require) and follow the extension's rules with the
// same code, vendor/notify-rules.js (copied from
// extension/shared/notify-rules.js by scripts/prepare): one notification
// per post while posts are rare, one digest updated in place during a
// rush, the "only about" (alert) and "never about" (mute) lists.
//
// Only live posts that arrive while the tab is hidden notify: a reader
// looking at the wall sees them already.

import { DIGEST_ID, digestText, normalizeWords, NotifyPacer } from "./vendor/notify-rules.js";

const KEY = "tweetwire.wall.notify";
const ICON = new URL("favicon.svg", document.baseURI).href;
const SHOWN_LIMIT = 50;
const BIDI_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

function load() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY));
    if (v && typeof v === "object") return { on: v.on === true, only: String(v.only ?? ""), never: String(v.never ?? "") };
  } catch {
    // A bad value is no setting.
  }
  return { on: false, only: "", never: "" };
}

function save(state) {
  try {
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch {
    // Private mode: the choice lasts as long as the page.
  }
}

function str(v) {
  return typeof v === "string" ? v : "";
}

// A notification is plain text in one run: the author's name loses its
// own direction controls, which could otherwise reverse the handle.
function title(post) {
  const name = str(post.name).replace(BIDI_CONTROLS, "");
  const handle = post.user ? "@" + str(post.user).replace(BIDI_CONTROLS, "") : "";
  return [name, handle].filter(Boolean).join(" ") || "New post";
}

function icon(post) {
  const raw = str(post.picture);
  if (/^data:image\//i.test(raw)) return raw;
  try {
    const u = new URL(raw, document.baseURI);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : ICON;
  } catch {
    return ICON;
  }
}

/**
 * setupNotifications wires the button (and the two filter fields) and
 * returns {add(post), retract(id)} for the page's live posts.
 */
export function setupNotifications({ button, rules, only, never }) {
  const state = load();
  const shown = new Map(); // post id -> Notification, for retracting
  const pacer = new NotifyPacer((item) => show(item));
  // Ids handed to the pacer: a post the organiser hid and unhid comes back
  // as news to the wall, not to the reader, who was told already.
  const told = new Set();

  const supported = typeof window.Notification === "function";
  button.hidden = !supported;
  rules.hidden = !supported;
  only.value = state.only;
  never.value = state.never;

  function configure() {
    pacer.configure({
      notify: state.on && Notification.permission === "granted",
      paused: false,
      // "@name" in the alert list matches the author (and mentions).
      alertWords: normalizeWords(state.only),
      alertAuthors: [],
      muteWords: normalizeWords(state.never),
    });
  }

  function render(blocked = false) {
    const on = state.on && supported && Notification.permission === "granted";
    button.setAttribute("aria-pressed", String(on));
    button.dataset.state = on ? "on" : blocked ? "blocked" : "off";
    button.textContent = on ? "🔔 Notifying" : blocked ? "🔕 Blocked" : "🔔 Notify me";
    button.title = on
      ? "Desktop notifications for new posts while this tab is in the background. Click to stop."
      : blocked
        ? "This browser blocks notifications from this site: allow them in its site settings, then click again."
        : "Get a desktop notification for new posts while this tab is in the background";
  }

  async function show(item) {
    let n;
    try {
      if (item.kind === "digest") {
        const { title: t, message } = digestText(item.posts);
        // The same tag replaces the notification on screen: one digest,
        // updated, not one more per update.
        n = new Notification(t, { body: message, tag: DIGEST_ID, icon: ICON });
      } else {
        const post = item.post;
        n = new Notification(title(post), { body: str(post.text), tag: "post:" + post.id, icon: icon(post) });
        shown.set(post.id, n);
        if (shown.size > SHOWN_LIMIT) shown.delete(shown.keys().next().value);
      }
    } catch (err) {
      // Chrome on Android only shows notifications through a service worker.
      console.warn("tweetwire: this browser did not show the notification:", err);
      return;
    }
    n.onclick = () => {
      window.focus();
      n.close();
    };
  }

  button.addEventListener("click", async () => {
    if (state.on) {
      state.on = false;
    } else {
      const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
      state.on = permission === "granted";
    }
    save(state);
    configure();
    render(!state.on && Notification.permission === "denied");
  });
  for (const [field, key] of [[only, "only"], [never, "never"]]) {
    field.addEventListener("input", () => {
      state[key] = field.value;
      save(state);
      configure();
    });
  }

  if (supported) {
    configure();
    render(state.on && Notification.permission === "denied");
  }

  return {
    add(post) {
      if (!supported || !post || typeof post !== "object" || document.visibilityState === "visible") return;
      const id = String(post.id);
      if (told.has(id)) return;
      told.add(id);
      if (told.size > 5000) told.delete(told.values().next().value);
      pacer.add([{ ...post, id }]);
    },
    retract(id) {
      if (!supported) return;
      pacer.retract(id);
      shown.get(id)?.close();
      shown.delete(id);
    },
  };
}
