// makeSession: log in, keep the access token in memory, refresh it before it expires, survive a reload.
// The refresh token is an HttpOnly SameSite=Strict cookie (tapewire_refresh, Path=/api/auth) set by the API
// on login and rotated on refresh: the browser sends it, this code never sees it. Should a response carry a
// refresh token in its body anyway, it is kept in memory only (never in storage).
import { call, errorText, setAccessToken } from "./api.ts";

export interface User {
  id: string;
  email: string;
}

interface SessionBody {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string;
  user: User;
}

export interface SessionDeps {
  login(email: string, password: string): Promise<SessionBody>;
  register(email: string, password: string): Promise<unknown>;
  refresh(refreshToken: string | null): Promise<SessionBody>;
  logout(refreshToken: string | null): Promise<unknown>;
  onChange(user: User | null, token: string | null): void;
}

export function makeSession(deps: SessionDeps) {
  let refreshToken: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let user: User | null = null;

  function adopt(s: SessionBody): User {
    user = s.user;
    refreshToken = s.refreshToken ?? null;
    setAccessToken(s.accessToken);
    if (timer) clearTimeout(timer);
    // refresh a minute early (or at 80% of a short lifetime)
    const ms = Math.max(5_000, Math.min(s.expiresIn * 800, (s.expiresIn - 60) * 1000));
    timer = setTimeout(() => void refresh().catch(() => {}), ms);
    deps.onChange(user, s.accessToken);
    return s.user;
  }

  function clear(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    user = null;
    refreshToken = null;
    setAccessToken(null);
    deps.onChange(null, null);
  }

  async function refresh(): Promise<User | null> {
    try {
      return adopt(await deps.refresh(refreshToken));
    } catch (e) {
      clear();
      throw e;
    }
  }

  return {
    login: async (email: string, password: string) => adopt(await deps.login(email, password)),
    register: (email: string, password: string) => deps.register(email, password),
    /** At start: a refresh cookie left by an earlier page gives a session without a login. */
    async restore(): Promise<User | null> {
      try {
        return await refresh();
      } catch {
        return null;
      }
    },
    refresh,
    async logout(): Promise<void> {
      const token = refreshToken;
      try {
        await deps.logout(token);
      } finally {
        clear();
      }
    },
    get user(): User | null {
      return user;
    },
    errorText,
  };
}

export type Session = ReturnType<typeof makeSession>;

export { call };
