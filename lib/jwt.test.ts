import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AccessTokenError,
  bearerToken,
  JwtConfigError,
  jwtSecret,
  signAccessToken,
  verifyAccessToken,
} from "./jwt.ts";

const env = { JWT_SECRET: "k".repeat(32) };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
/** A token signed with the right key but arbitrary header/claims: only the checks can reject it. */
function forge(header: unknown, claims: unknown, secret = env.JWT_SECRET): string {
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}
const now = Math.floor(Date.now() / 1000);
const good = { iss: "tapewire", aud: "tapewire-api", sub: "u1", iat: now, exp: now + 60 };
const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AccessTokenError) return error.reason;
    throw error;
  }
  return "accepted";
};

describe("access tokens", () => {
  test("round trip keeps sub and sid and sets iss/aud/exp", () => {
    const token = signAccessToken({ sub: "user-1", sid: "fam" }, env, { ttlSeconds: 60 });
    const claims = verifyAccessToken(token, env);
    expect(claims.sub).toBe("user-1");
    expect(claims.sid).toBe("fam");
    expect(claims.exp - claims.iat).toBe(60);
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(payload.iss).toBe("tapewire");
    expect(payload.aud).toBe("tapewire-api");
  });

  test("the forge helper makes tokens the verifier accepts (so the rejections below are meaningful)", () => {
    expect(reason(() => verifyAccessToken(forge({ alg: "HS256", typ: "JWT" }, good), env))).toBe("accepted");
  });

  test("rejects other algorithms, whatever the header claims", () => {
    const unsigned = `${b64({ alg: "none" })}.${b64(good)}.`;
    expect(reason(() => verifyAccessToken(unsigned, env))).toBe("malformed");
    expect(reason(() => verifyAccessToken(`${b64({ alg: "none" })}.${b64(good)}.AAAA`, env))).toBe(
      "bad_algorithm",
    );
    expect(reason(() => verifyAccessToken(forge({ alg: "HS512" }, good), env))).toBe("bad_algorithm");
    expect(reason(() => verifyAccessToken(forge({ alg: "HS256", crit: ["x"] }, good), env))).toBe(
      "bad_algorithm",
    );
  });

  test("rejects a wrong key, tampering, wrong iss/aud, expiry and future tokens", () => {
    const token = signAccessToken({ sub: "u" }, env);
    expect(reason(() => verifyAccessToken(token, { JWT_SECRET: "x".repeat(32) }))).toBe("bad_signature");
    const [h, , s] = token.split(".");
    const tampered = `${h}.${b64({ ...good, sub: "admin" })}.${s}`;
    expect(reason(() => verifyAccessToken(tampered, env))).toBe("bad_signature");
    const h256 = { alg: "HS256" };
    expect(reason(() => verifyAccessToken(forge(h256, { ...good, iss: "evil" }), env))).toBe("wrong_issuer");
    expect(reason(() => verifyAccessToken(forge(h256, { ...good, aud: "other" }), env))).toBe(
      "wrong_audience",
    );
    expect(reason(() => verifyAccessToken(forge(h256, { ...good, aud: ["x", "tapewire-api"] }), env))).toBe(
      "accepted",
    );
    expect(reason(() => verifyAccessToken(forge(h256, { ...good, exp: now - 1 }), env))).toBe("expired");
    expect(reason(() => verifyAccessToken(forge(h256, { ...good, iat: now + 3600 }), env))).toBe(
      "not_yet_valid",
    );
    expect(reason(() => verifyAccessToken(forge(h256, { ...good, sub: 7 }), env))).toBe("malformed");
    expect(reason(() => verifyAccessToken("a.b", env))).toBe("malformed");
    expect(reason(() => verifyAccessToken("a.b!.c", env))).toBe("malformed");
    expect(reason(() => verifyAccessToken(`${"a".repeat(5000)}.b.c`, env))).toBe("malformed");
  });

  test("a secret shorter than 256 bits is refused, and production needs one", () => {
    expect(() => jwtSecret({ JWT_SECRET: "short" })).toThrow(JwtConfigError);
    expect(() => jwtSecret({ NODE_ENV: "production", JWT_SECRET_FILE: "/nonexistent/x" })).toThrow(
      /required/,
    );
  });

  test("bearerToken parses the Authorization header", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer  abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("dev secret file", () => {
  test("processes started together generate one shared secret, mode 0600", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tw-jwt-")), "nested", "jwt-secret");
    const script = `import { signAccessToken } from ${JSON.stringify(join(import.meta.dir, "jwt.ts"))};
      process.stdout.write(signAccessToken({ sub: "s" }, { JWT_SECRET_FILE: ${JSON.stringify(file)} }, { now: 1000 }));`;
    const procs = Array.from({ length: 4 }, () =>
      Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" }),
    );
    const tokens = await Promise.all(procs.map((p) => new Response(p.stdout).text()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]!.split(".")).toHaveLength(3);
    expect(readFileSync(file, "utf8").trim().length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // And this process reads the same file and verifies the others' token.
    const claims = verifyAccessToken(tokens[0]!, { JWT_SECRET_FILE: file }, 1001);
    expect(claims.sub).toBe("s");
  });
});
