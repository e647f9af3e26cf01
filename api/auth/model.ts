// Auth request and response schemas. What the server checks, the schema states (patterns, lengths), so
// generated clients and fuzzers see the real rules; the one rule it cannot state (the common-password
// blocklist) is in the description.
import { t } from "elysia";
import { PASSWORD_MAX, PASSWORD_MIN, PASSWORD_PATTERN } from "./password-policy.ts";

const EMAIL_PATTERN =
  "^[^\\s@\\u0000-\\u001f\\u007f]{1,64}@[^\\s@\\u0000-\\u001f\\u007f.]+(\\.[^\\s@\\u0000-\\u001f\\u007f.]+)+$";

const Email = t.String({
  pattern: EMAIL_PATTERN,
  maxLength: 254,
  error: "email must be a valid email address",
  description: "local@domain; matched case-insensitively",
  examples: ["ada@example.com"],
});
const NewPassword = t.String({
  minLength: PASSWORD_MIN,
  maxLength: PASSWORD_MAX,
  pattern: PASSWORD_PATTERN,
  error: `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters, without control characters, not only spaces`,
  description: `${PASSWORD_MIN} to ${PASSWORD_MAX} characters (Unicode, NFKC-normalised; spaces allowed and kept). Any printable text; the most common passwords are refused (422).`,
  examples: ["correct horse battery"],
});
// Login takes whatever was registered (rules may have been different then); the bound keeps hashing cheap.
const Password = t.String({
  minLength: 1,
  maxLength: 1024,
  error: "password must be 1 to 1024 characters",
  examples: ["correct horse battery"],
});
const RefreshToken = t.String({
  maxLength: 100,
  error: "refreshToken must be a string",
  examples: ["rt1.3Jx..."],
});

const User = t.Object({ id: t.String({ format: "uuid" }), email: t.String(), createdAt: t.String() });

export const AuthModel = {
  register: t.Object(
    { email: Email, password: NewPassword },
    { examples: [{ email: "ada@example.com", password: "correct horse battery" }] },
  ),
  login: t.Object(
    {
      email: Email,
      password: Password,
      refreshCookie: t.Optional(
        t.Boolean({
          description:
            "true (browsers): the refresh token is set as an HttpOnly cookie instead of returned; needs an allowed Origin",
        }),
      ),
    },
    { examples: [{ email: "ada@example.com", password: "correct horse battery" }] },
  ),
  // An empty body reads as {} (http/json-body.ts), so the cookie flow sends none.
  refresh: t.Object(
    { refreshToken: t.Optional(RefreshToken) },
    {
      description: "refreshToken, or no body (or {}) when the refresh cookie is sent",
      examples: [{ refreshToken: "rt1.Vx1oE5dYc0m9HkK3qJ2r8T4s6u7w9y0a1b2c3d4e5f6" }],
    },
  ),
  user: t.Object(User.properties, {
    examples: [
      {
        id: "4f9b3c2e-8d1a-4c6b-9e2f-1a2b3c4d5e6f",
        email: "ada@example.com",
        createdAt: "2025-01-31T12:00:00.000Z",
      },
    ],
  }),
  session: t.Object(
    {
      accessToken: t.String({
        description: "JWT (HS256) for Authorization: Bearer; also accepted by the bridge WebSocket",
      }),
      tokenType: t.Literal("Bearer"),
      expiresIn: t.Integer({ description: "access token lifetime in seconds" }),
      refreshToken: t.Optional(
        t.String({
          description:
            "single use: POST /api/auth/refresh returns the next one. Absent when it was set as the refresh cookie",
        }),
      ),
      user: t.Object({ id: t.String(), email: t.String() }),
    },
    {
      examples: [
        {
          accessToken: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ0YXBld2lyZSJ9.sig",
          tokenType: "Bearer",
          expiresIn: 900,
          refreshToken: "rt1.Vx1oE5dYc0m9HkK3qJ2r8T4s6u7w9y0a1b2c3d4e5f6",
          user: { id: "4f9b3c2e-8d1a-4c6b-9e2f-1a2b3c4d5e6f", email: "ada@example.com" },
        },
      ],
    },
  ),
};
