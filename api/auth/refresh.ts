// Rotating refresh tokens. A login starts a family; each refresh marks the presented token used and issues
// the next one in the same family. Presenting a used token again means it was copied: the whole family is
// revoked, so both the thief and the victim must log in again (OAuth 2.0 Security BCP, refresh token
// rotation). The store keeps only SHA-256 digests of tokens, never the tokens; each step is atomic there.
import { createHash, randomBytes } from "node:crypto";
import { ServiceUnavailableError, UnauthorizedError } from "../errors.ts";
import type { ApiMetrics } from "../metrics.ts";
import { type Store, StoreUnavailableError } from "../store/store.ts";
import type { SessionRevocations } from "./revocations.ts";

const TOKEN = /^rt1\.[A-Za-z0-9_-]{43}$/;

export interface IssuedRefresh {
  refreshToken: string;
  familyId: string;
  userId: string;
}

const digest = (token: string) => createHash("sha256").update(token).digest("hex");
const newToken = () => `rt1.${randomBytes(32).toString("base64url")}`;

export class RefreshTokens {
  constructor(
    private readonly store: Store,
    private readonly ttlS: number,
    private readonly metrics: ApiMetrics,
    /** Logout and reuse also end the session's access tokens (guard.ts checks every request). */
    private readonly revocations: SessionRevocations,
  ) {}

  /** Store failures become a 503: sessions cannot be checked, so none is issued or rotated. */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof StoreUnavailableError)
        throw new ServiceUnavailableError("sessions are unavailable: Redis is down; try again shortly");
      throw error;
    }
  }

  /** Start a new family for a login. */
  async issue(userId: string): Promise<IssuedRefresh> {
    const familyId = randomBytes(16).toString("base64url");
    const refreshToken = newToken();
    await this.run(() => this.store.startSession(digest(refreshToken), familyId, userId, this.ttlS * 1000));
    return { refreshToken, familyId, userId };
  }

  /** Exchange a refresh token for the next one; reuse revokes the family. */
  async rotate(token: string): Promise<IssuedRefresh> {
    if (!TOKEN.test(token)) throw new UnauthorizedError("refresh token is malformed");
    const next = newToken();
    const result = await this.run(() =>
      this.store.rotateSession(digest(token), digest(next), this.ttlS * 1000),
    );
    switch (result.status) {
      case "ok":
        return { refreshToken: next, userId: result.userId, familyId: result.familyId };
      case "reused":
        this.metrics.refreshReuse.inc();
        await this.run(() => this.revocations.revoke(result.familyId));
        throw new UnauthorizedError(
          "refresh token was already used; every session from that login is revoked",
        );
      case "revoked":
        throw new UnauthorizedError("refresh token's session was revoked; log in again");
      default:
        throw new UnauthorizedError("refresh token is unknown or expired; log in again");
    }
  }

  /**
   * Revoke the family a token belongs to and its access tokens (logout). Unknown tokens are ignored:
   * logout is idempotent.
   */
  async revoke(token: string): Promise<void> {
    if (!TOKEN.test(token)) return;
    const familyId = await this.run(() => this.store.revokeSession(digest(token)));
    if (familyId) await this.revokeFamily(familyId);
  }

  /** End a session by id (the access token's sid): its refresh family too, when the store knows it. */
  async revokeFamily(familyId: string): Promise<void> {
    await this.run(() => this.revocations.revoke(familyId));
  }
}
