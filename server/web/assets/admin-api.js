// admin-api.js: the moderation console's side of /api/admin. The admin token
// is kept in this tab's sessionStorage and sent in the Authorization header,
// never in a cookie, so no other site can make a visitor's browser act with
// it. Each tab labels its actions with a random session name that the audit
// log records.

const TOKEN_KEY = "tweetwire-admin-token";
const SESSION_KEY = "tweetwire-admin-session";

// AuthError is thrown when the server refuses the token: the console signs
// out and asks for it again.
export class AuthError extends Error {}

// takeTokenFromURL moves a token from the sign-in link (/admin#token=...) into
// sessionStorage and removes it from the address bar and the history, so it
// is neither bookmarked nor shown on a projected screen.
export function takeTokenFromURL() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get("token");
  if (token) {
    setToken(token);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// session names this tab in the audit log: short, and only the characters
// the server accepts.
export function session() {
  let name = sessionStorage.getItem(SESSION_KEY);
  if (!name) {
    const bytes = crypto.getRandomValues(new Uint8Array(4));
    name = "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(SESSION_KEY, name);
  }
  return name;
}

// call sends one request to the admin API and returns its JSON (null for an
// empty body). A refusal becomes an Error with the server's sentence.
export async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}`, "X-Admin-Session": session() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new Error("The server cannot be reached; check that it is running.");
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.status === 401) throw new AuthError((data && data.error) || "The admin token was refused.");
  if (!res.ok) throw new Error((data && data.error) || `The server answered ${res.status}.`);
  return data;
}

// list returns the array in an answer, whether it is the answer itself or
// its one array field.
export function list(data, field) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[field])) return data[field];
  return [];
}

// postPath is the API path of one post: ids contain ':' and may contain
// anything else, so they are always escaped.
export function postPath(id, action) {
  return `/api/admin/posts/${encodeURIComponent(id)}/${action}`;
}
