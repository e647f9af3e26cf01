/** @jsxImportSource solid-js */
// Register and log in. Errors are the API's own words.
import { createSignal, Show } from "solid-js";
import { session } from "../app/auth.ts";
import { errorText } from "../lib/api.ts";

export function AuthForm() {
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function run(kind: "login" | "register") {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      if (kind === "register") {
        await session.register(email(), password());
        setNote("Account created: logging in…");
      }
      await session.login(email(), password());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card auth" aria-labelledby="auth-title">
      <h2 id="auth-title">Log in or register</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run("login");
        }}
      >
        <label>
          Email
          <input
            type="email"
            name="email"
            autocomplete="username"
            required
            value={email()}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            required
            value={password()}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <div class="buttons">
          <button type="submit" disabled={busy()}>
            Log in
          </button>
          <button type="button" class="secondary" disabled={busy()} onClick={() => void run("register")}>
            Register
          </button>
        </div>
        <Show when={note()}>
          <p role="status">{note()}</p>
        </Show>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="auth-error">
            {error()}
          </p>
        </Show>
      </form>
    </section>
  );
}
