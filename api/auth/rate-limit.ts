// Login throttling: every attempt counts against the client address, every failure against the account (a
// success clears the account's count), in fixed windows of API_LOGIN_WINDOW_S. If the store cannot answer
// the limiter refuses (fails closed): unthrottled password guessing is worse than a short outage of logins.
import { createHash } from "node:crypto";
import { ServiceUnavailableError, TooManyRequestsError } from "../errors.ts";
import { type Store, StoreUnavailableError } from "../store/store.ts";

export interface LimiterSettings {
  maxPerIp: number;
  maxPerAccount: number;
  windowS: number;
}

type Scope = "login" | "register";

export class LoginLimiter {
  constructor(
    private readonly store: Store,
    private readonly settings: LimiterSettings,
  ) {}

  // Accounts are keyed by a digest so the store never holds email addresses.
  private accountKey(scope: Scope, account: string): string {
    return `${scope}:acct:${createHash("sha256").update(account).digest("hex").slice(0, 32)}`;
  }

  /** Count an attempt; throws 429 when the address or the account is over its limit, 503 when the store is down. */
  async attempt(scope: Scope, ip: string, account: string): Promise<void> {
    let count: Awaited<ReturnType<Store["countAttempt"]>>;
    try {
      count = await this.store.countAttempt(
        `${scope}:ip:${ip}`,
        this.accountKey(scope, account),
        this.settings.windowS * 1000,
      );
    } catch (error) {
      if (error instanceof StoreUnavailableError)
        throw new ServiceUnavailableError(
          "login is unavailable: the rate limiter (Redis) is down; try again shortly",
        );
      throw error;
    }
    if (count.ipCount > this.settings.maxPerIp)
      throw new TooManyRequestsError(
        `too many ${scope} attempts from this address; retry later`,
        count.ipTtlMs / 1000,
      );
    if (count.failures >= this.settings.maxPerAccount)
      throw new TooManyRequestsError(
        `too many failed ${scope} attempts for this account; retry later`,
        count.accountTtlMs / 1000,
      );
  }

  // The two below run after a counted attempt. If the store failed in between, the failure was counted and
  // logged by the store; the next attempt will be refused by attempt() anyway.
  async failed(scope: Scope, account: string): Promise<void> {
    await this.store
      .countFailure(this.accountKey(scope, account), this.settings.windowS * 1000)
      .catch(ignoreUnavailable);
  }

  async succeeded(scope: Scope, account: string): Promise<void> {
    await this.store.clearFailures(this.accountKey(scope, account)).catch(ignoreUnavailable);
  }
}

function ignoreUnavailable(error: unknown): void {
  if (!(error instanceof StoreUnavailableError)) throw error;
}
