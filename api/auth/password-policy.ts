// Password rules at registration, after OWASP's Authentication Cheat Sheet and NIST SP 800-63B: a minimum
// length, no composition rules, a blocklist of the most common passwords, every printable Unicode
// character allowed (spaces too), nothing trimmed. Passwords are NFKC-normalised before hashing and before
// verifying, so the same password typed on two keyboards (full-width digits, ligatures) is one password.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
/** NFKC can expand a character many times (U+FDFA is 18); the hash input stays bounded. */
const NORMALIZED_MAX = 1024;

/**
 * What the OpenAPI schema states: PASSWORD_MIN..PASSWORD_MAX characters, no control characters, not all
 * whitespace. The blocklist is the one rule the schema cannot state.
 */
export const PASSWORD_PATTERN =
  "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";
const PASSWORD_RE = new RegExp(PASSWORD_PATTERN, "u");

const BLOCKLIST: ReadonlySet<string> = new Set(
  readFileSync(join(import.meta.dir, "common-passwords.txt"), "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#")),
);

export const normalizePassword = (password: string): string => password.normalize("NFKC");

/** The reason a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, email?: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX)
    return `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`;
  if (!PASSWORD_RE.test(password))
    return "password must not contain control characters (such as NUL) or be only spaces";
  const normalized = normalizePassword(password);
  if ([...normalized].length > NORMALIZED_MAX) return "password is too long once Unicode-normalised";
  const folded = normalized.toLowerCase();
  if (BLOCKLIST.has(folded)) return "password is one of the most common passwords; choose another";
  if (email && folded === email.toLowerCase()) return "password must not be your email address";
  return undefined;
}
