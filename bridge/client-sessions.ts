// Authenticated connections by login session, and the timer that ends each at its token's exp (issue 8: a
// connection kept streaming after its token expired). The hub decides how a connection is closed; this only
// knows which connections belong to a session and when each must end.
import type { ClientAuth } from "./auth.ts";

export interface SessionSocket {
  readonly data: { readonly auth: ClientAuth | null; expiry: Timer | null };
}

export class ClientSessions<S extends SessionSocket> {
  private readonly bySession = new Map<string, Set<S>>();

  /** Track an authenticated socket; `expire` runs at its token's exp. */
  add(ws: S, expire: (ws: S) => void): void {
    const auth = ws.data.auth;
    if (!auth) return;
    if (auth.sid !== undefined) {
      let set = this.bySession.get(auth.sid);
      if (!set) {
        set = new Set();
        this.bySession.set(auth.sid, set);
      }
      set.add(ws);
    }
    // One timer per authenticated connection (its handle in ws.data): the close comes at exp, not at a poll.
    ws.data.expiry = setTimeout(() => expire(ws), Math.max(0, auth.exp * 1000 - Date.now()));
  }

  remove(ws: S): void {
    const d = ws.data;
    if (d.expiry) clearTimeout(d.expiry);
    d.expiry = null;
    const sid = d.auth?.sid;
    if (sid === undefined) return;
    const set = this.bySession.get(sid);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.bySession.delete(sid);
  }

  /** Session ids with at least one open connection. */
  sessions(): Iterable<string> {
    return this.bySession.keys();
  }

  /** The open connections of one session (a copy: closing them changes the set). */
  of(sid: string): S[] {
    return [...(this.bySession.get(sid) ?? [])];
  }
}
