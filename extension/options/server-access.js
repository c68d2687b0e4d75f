// Host access to the server. The connection itself needs none (the server
// allows this extension's origin by name), but avatars the server serves
// itself are fetched and redrawn as notification icons, which needs either
// CORS headers or this permission. The default server's is granted at
// install; any other is asked for when the user saves it.

/** requestServerAccess resolves to whether the extension may read from the
 * server at serverUrl. Call it from a user gesture. */
export async function requestServerAccess(serverUrl) {
  const origins = [new URL(serverUrl).origin + "/*"];
  try {
    return await chrome.permissions.request({ origins });
  } catch (err) {
    console.warn("tweetwire: host permission not requested:", err);
    return false;
  }
}
