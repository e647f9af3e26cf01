// The session, reactive: who is logged in. The access token is in memory (lib/api.ts); the bridge
// connection is reopened with the new token whenever it changes.
import { createSignal } from "solid-js";
import { api, call } from "../lib/api.ts";
import { makeSession, type User } from "../lib/session.ts";
import { stream } from "./stream.ts";

const [user, setUser] = createSignal<User | null>(null);
const [restoring, setRestoring] = createSignal(true);

export { restoring, user };

let lastToken: string | null = null;

/** refresh/logout: the cookie carries the refresh token (a body token only if an API ever returned one). */
const tokenBody = (refreshToken: string | null) => (refreshToken ? { refreshToken } : {});

export const session = makeSession({
  // refreshCookie: the API sets the HttpOnly SameSite=Strict refresh cookie instead of returning the token
  login: (email, password) => call(api.auth.login.post({ email, password, refreshCookie: true })),
  register: (email, password) => call(api.auth.register.post({ email, password })),
  // biome-ignore lint/suspicious/noExplicitAny: the body is optional once the API reads the cookie
  refresh: (rt) => call(api.auth.refresh.post(tokenBody(rt) as any)),
  // biome-ignore lint/suspicious/noExplicitAny: as above
  logout: (rt) => call(api.auth.logout.post(tokenBody(rt) as any)),
  onChange(u, token) {
    setUser(u);
    if (token !== lastToken) {
      const hadToken = lastToken !== null;
      lastToken = token;
      // a bridge that requires auth needs the new token; one that does not is left alone unless we logged out
      if (hadToken || token) stream.reconnect();
    }
  },
});

export async function restoreSession(): Promise<void> {
  try {
    await session.restore();
  } finally {
    setRestoring(false);
  }
}
