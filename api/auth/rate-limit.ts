// Login throttling in fixed windows of API_LOGIN_WINDOW_S, in three counters reserved atomically before the
// password is checked (so N concurrent guesses cannot all pass a check made before any was counted):
// - every attempt counts against the client address (API_LOGIN_MAX_PER_IP);
// - a failure counts against the (account, address) pair: a guesser is backed off after
//   API_LOGIN_MAX_PER_PAIR failures, while the owner logging in from elsewhere is not;
// - a failure counts against the account from all addresses, with a much higher threshold
//   (API_LOGIN_MAX_PER_ACCOUNT), which stops a distributed guess without one address locking the owner out.
// A success forgets the pair's and the account's failures. If the store cannot answer the limiter refuses
// (fails closed): unthrottled password guessing is worse than a short outage of logins.
import { createHash } from "node:crypto";
import { ServiceUnavailableError, TooManyRequestsError } from "../errors.ts";
import { type Store, StoreUnavailableError } from "../store/store.ts";

export interface LimiterSettings {
  maxPerIp: number;
  maxPerPair: number;
  maxPerAccount: number;
  windowS: number;
}

type Scope = "login" | "register";

// Accounts and addresses are keyed by digests so the store never holds email addresses.
const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 32);

export class LoginLimiter {
  constructor(
    private readonly store: Store,
    private readonly settings: LimiterSettings,
  ) {}

  private keys(ip: string, account: string) {
    const acct = digest(account);
    return { pair: `login:pair:${acct}:${digest(ip)}`, account: `login:acct:${acct}` };
  }

  /**
   * Reserve one attempt (with a failure slot for login); throws 429 when a counter is full, 503 when the
   * store is down. A reserved login slot stays counted as a failure unless succeeded() is called.
   */
  async reserve(scope: Scope, ip: string, account?: string): Promise<void> {
    const { windowS, maxPerIp, maxPerPair, maxPerAccount } = this.settings;
    const keys = scope === "login" && account !== undefined ? this.keys(ip, account) : {};
    const result = await this.guard(() =>
      this.store.reserveAttempt(
        { ip: `${scope}:ip:${ip}`, ...keys },
        { ip: maxPerIp, pair: maxPerPair, account: maxPerAccount },
        windowS * 1000,
      ),
    );
    if (result.ok) return;
    const retryS = result.retryMs / 1000;
    switch (result.limit) {
      case "ip":
        throw new TooManyRequestsError(`too many ${scope} attempts from this address; retry later`, retryS);
      case "pair":
        throw new TooManyRequestsError(
          "too many failed login attempts for this account from this address; retry later",
          retryS,
        );
      default:
        throw new TooManyRequestsError(
          "too many failed login attempts for this account; retry later",
          retryS,
        );
    }
  }

  /** The password was right: forget this pair's and this account's failures. */
  async succeeded(ip: string, account: string): Promise<void> {
    const { pair, account: acct } = this.keys(ip, account);
    await this.store.clearFailures(pair, acct).catch((error: unknown) => {
      // The store failed after a counted attempt; it was counted and logged there. The login stands.
      if (!(error instanceof StoreUnavailableError)) throw error;
    });
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof StoreUnavailableError)
        throw new ServiceUnavailableError(
          "login is unavailable: the rate limiter (Redis) is down; try again shortly",
        );
      throw error;
    }
  }
}
