// Auth request and response schemas.
import { t } from "elysia";

const Email = t.String({
  format: "email",
  maxLength: 254,
  error: "email must be a valid email address",
  examples: ["ada@example.com"],
});
// The upper bound keeps hashing cost bounded (argon2 is deliberately slow).
const Password = t.String({
  minLength: 10,
  maxLength: 256,
  error: "password must be 10 to 256 characters",
  examples: ["correct horse battery"],
});
const RefreshToken = t.String({
  maxLength: 100,
  error: "refreshToken must be a string",
  examples: ["rt1.3Jx..."],
});

const User = t.Object({ id: t.String({ format: "uuid" }), email: t.String(), createdAt: t.String() });

export const AuthModel = {
  credentials: t.Object(
    { email: Email, password: Password },
    { examples: [{ email: "ada@example.com", password: "correct horse battery" }] },
  ),
  refresh: t.Object(
    { refreshToken: RefreshToken },
    { examples: [{ refreshToken: "rt1.Vx1oE5dYc0m9HkK3qJ2r8T4s6u7w9y0a1b2c3d4e5f6" }] },
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
      refreshToken: t.String({ description: "single use: POST /api/auth/refresh returns the next one" }),
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
