// The client address used for rate limits. X-Forwarded-For is honoured only with API_TRUST_PROXY, since any
// client can send it; behind a proxy the left-most entry is the one the proxy saw.
interface IpSource {
  requestIP?(request: Request): { address: string } | null;
}

export function clientIp(request: Request, server: IpSource | null | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return server?.requestIP?.(request)?.address ?? "unknown";
}
