// extension-views.mjs: what the extension's popup and options page show,
// read from their DOM, for the browser drivers (extension-check.mjs
// evaluates these in the Chromium tab; firefox-hook.mjs, in Firefox's test
// build, calls them on the page loaded in a frame of the event page). Each
// function is self-contained, since Playwright sends its source to the
// page.

/** popupView reads the popup in doc; see extension-check.mjs's "popup". */
export function popupView(doc = document) {
  const win = doc.defaultView;
  const state = doc.getElementById("state");
  // The same as page-check.mjs's richView, for the popup's items.
  const richView = (p) => ({
    links: Array.from(p.querySelectorAll(".text a"), (a) => ({
      text: a.textContent, href: a.getAttribute("href"), class: a.className, target: a.target, rel: a.rel, dir: a.dir,
    })),
    images: Array.from(p.querySelectorAll(".media img"), (img) => ({
      alt: img.alt, src: img.getAttribute("src"), loading: img.loading,
      width: Number(img.getAttribute("width")), height: Number(img.getAttribute("height")),
      loaded: img.complete && img.naturalWidth > 0,
    })),
    nameDir: p.querySelector(".name")?.dir ?? "",
    textDir: p.querySelector(".text")?.dir ?? "",
  mediaClass: p.querySelector(".media")?.className ?? "",
    repost: p.querySelector(".repost")?.textContent ?? "",
  });
  return {
    items: Array.from(doc.querySelectorAll("#posts > li.post"), (li) => ({
      id: li.dataset.id,
      name: li.querySelector(".name")?.textContent ?? "",
      handle: li.querySelector(".handle")?.textContent ?? "",
      text: li.querySelector(".text")?.textContent ?? "",
      time: li.querySelector("time")?.textContent ?? "",
      link: li.querySelector("a.link")?.href ?? "",
      avatar: li.querySelector("img.avatar")?.src ?? "",
      initial: li.querySelector(".avatar-initial")?.textContent ?? "",
      timeTitle: li.querySelector("time")?.title ?? "",
      timeAttr: li.querySelector("time")?.dateTime ?? "",
      rich: richView(li),
    })),
    state: state?.dataset.state ?? "",
    stateText: state?.textContent ?? "",
    transport: state?.dataset.transport ?? "",
    notificationsOn: doc.getElementById("notifications")?.checked ?? null,
    help: doc.getElementById("help")?.hidden === false ? doc.getElementById("help").textContent : "",
    helpLinks: Array.from(doc.querySelectorAll("#help a"), (a) => a.getAttribute("href")),
    links: doc.getElementById("pages")?.hidden === false
      ? Array.from(doc.querySelectorAll("#pages a"), (a) => ({ text: a.textContent, href: a.href, target: a.target }))
      : [],
    // The lowest WCAG contrast ratio of the grey and link text against
    // what is behind it (the first opaque ancestor, else the canvas).
    minContrast: (() => {
      const rgb = (c) => {
        const probe = doc.createElement("i");
        probe.style.color = c;
        doc.body.append(probe);
        const m = win.getComputedStyle(probe).color.match(/[\d.]+/g).map(Number);
        probe.remove();
        return m;
      };
      const lum = ([r, g, b]) => {
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const behind = (el) => {
        for (let e = el; e; e = e.parentElement) {
          const bg = win.getComputedStyle(e).backgroundColor;
          const m = bg.match(/[\d.]+/g)?.map(Number);
          if (m && (m.length < 4 || m[3] === 1)) return m;
        }
        return rgb("Canvas");
      };
      let min = Infinity;
      for (const el of doc.querySelectorAll(".handle, .time, .state, .repost, .empty:not([hidden]), footer a, .link")) {
        const a = lum(win.getComputedStyle(el).color.match(/[\d.]+/g).map(Number));
        const b = lum(behind(el));
        min = Math.min(min, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
      }
      return Number.isFinite(min) ? Math.round(min * 100) / 100 : 0;
    })(),
    // Anything but the avatars and the posts' photos would come from
    // post content.
    strayImages: doc.querySelectorAll("#posts img:not(.avatar):not(.media-item), #posts .text img, #posts script, #posts b").length,
  };
}

/** optionsView reads the options form in doc; see extension-check.mjs's
 * "options". */
export function optionsView(doc = document) {
  return {
    serverUrl: doc.getElementById("serverUrl").value,
    muteWords: doc.getElementById("muteWords").value,
    alertWords: doc.getElementById("alertWords").value,
    alertAuthors: doc.getElementById("alertAuthors").value,
    digestPosts: doc.getElementById("digestPosts").value,
    connection: doc.getElementById("connection").textContent,
    connectionState: doc.getElementById("connection").dataset.state,
    notify: doc.getElementById("notify").checked,
  };
}

/** extensionState reads what the extension holds where its connection
 * runs (Chrome's offscreen document and service worker share the
 * extension's storage; Firefox's event page): the recent posts and
 * unread count in localStorage, the connection's status and cursor, the
 * notifications shown and still active, and the badge. Each browser's
 * driver adds what only it can see. */
export async function extensionState() {
  const read = (key) => {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  };
  const { shownNotifications = [] } = await chrome.storage.session.get("shownNotifications");
  return {
    posts: read("tweetwire.posts") ?? [],
    unread: read("tweetwire.unread") ?? 0,
    status: read("tweetwire.status"),
    cursor: read("tweetwire.cursor"),
    shown: shownNotifications,
    active: Object.keys(await chrome.notifications.getAll()),
    badge: await chrome.action.getBadgeText({}),
  };
}
