// Accounts and sessions: register, login, refresh, logout. Passwords are argon2id (Bun.password); access
// tokens are short-lived JWTs (lib/jwt.ts); refresh tokens rotate in Redis (refresh.ts).
import { eq } from "drizzle-orm";
import { signAccessToken } from "../../lib/jwt.ts";
import { users } from "../../schema/db/index.ts";
import type { ApiConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { ConflictError, NotFoundError, UnauthorizedError, UnprocessableError } from "../errors.ts";
import type { ApiMetrics } from "../metrics.ts";
import { normalizePassword, passwordProblem } from "./password-policy.ts";
import type { LoginLimiter } from "./rate-limit.ts";
import type { IssuedRefresh, RefreshTokens } from "./refresh.ts";

// Emails are matched case-insensitively; the schema admits no whitespace, so nothing is trimmed.
export const normalizeEmail = (email: string) => email.toLowerCase();

export interface Session {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  refreshToken: string;
  user: { id: string; email: string };
}

export class AuthService {
  /** Verified when the account does not exist, so "no such user" takes as long as "wrong password". */
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly db: Database,
    private readonly config: Readonly<ApiConfig>,
    private readonly refresh: RefreshTokens,
    private readonly limiter: LoginLimiter,
    private readonly metrics: ApiMetrics,
  ) {
    this.dummyHash = this.hash(crypto.randomUUID());
  }

  private hash(password: string): Promise<string> {
    return Bun.password.hash(password, {
      algorithm: "argon2id",
      memoryCost: this.config.argon2MemoryKiB,
      timeCost: this.config.argon2TimeCost,
    });
  }

  async register(email: string, password: string, ip: string) {
    const normalized = normalizeEmail(email);
    const problem = passwordProblem(password, normalized);
    if (problem) throw new UnprocessableError(problem);
    await this.limiter.reserve("register", ip);
    const passwordHash = await this.hash(normalizePassword(password));
    try {
      const [user] = await this.db
        .insert(users)
        .values({ email: normalized, passwordHash })
        .returning({ id: users.id, email: users.email, createdAt: users.createdAt });
      return { id: user!.id, email: user!.email, createdAt: user!.createdAt.toISOString() };
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError("an account with this email already exists", "email_taken");
      throw error;
    }
  }

  async login(email: string, password: string, ip: string): Promise<Session> {
    const normalized = normalizeEmail(email);
    // Reserved before the (slow) verification: the failure is already counted unless it succeeds.
    await this.limiter.reserve("login", ip, normalized);
    const [user] = await this.db
      .select({ id: users.id, email: users.email, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.email, normalized));
    const ok = await this.verify(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !ok) {
      this.metrics.logins.inc({ result: "failed" });
      throw new UnauthorizedError("email or password is wrong");
    }
    await this.limiter.succeeded(ip, normalized);
    this.metrics.logins.inc({ result: "ok" });
    return this.session(await this.refresh.issue(user.id), user.email);
  }

  /** NFKC form first; the raw text too for an account registered before passwords were normalised. */
  private async verify(password: string, hash: string): Promise<boolean> {
    const normalized = normalizePassword(password);
    if (await Bun.password.verify(normalized, hash)) return true;
    return normalized !== password && Bun.password.verify(password, hash);
  }

  async refreshSession(refreshToken: string): Promise<Session> {
    const issued = await this.refresh.rotate(refreshToken);
    const [user] = await this.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, issued.userId));
    if (!user) throw new UnauthorizedError("the account no longer exists");
    return this.session(issued, user.email);
  }

  logout(refreshToken: string): Promise<void> {
    return this.refresh.revoke(refreshToken);
  }

  async me(userId: string) {
    const [user] = await this.db
      .select({ id: users.id, email: users.email, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.id, userId));
    if (!user) throw new NotFoundError("the account no longer exists");
    return { ...user, createdAt: user.createdAt.toISOString() };
  }

  private session(issued: IssuedRefresh, email: string): Session {
    return {
      accessToken: signAccessToken({ sub: issued.userId, sid: issued.familyId }, this.config.env, {
        ttlSeconds: this.config.accessTtlS,
      }),
      tokenType: "Bearer",
      expiresIn: this.config.accessTtlS,
      refreshToken: issued.refreshToken,
      user: { id: issued.userId, email },
    };
  }
}
