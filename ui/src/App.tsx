/** @jsxImportSource solid-js */
// The shell: navigation (path routing, the query string kept), theme, the live connection's state.
import { createSignal, Match, onCleanup, Show, Switch } from "solid-js";
import { restoreSession, user } from "./app/auth.ts";
import { startStream, streamError, streamStatus } from "./app/stream.ts";
import { BacktestsPage } from "./backtests/BacktestsPage.tsx";
import { FeedsPage } from "./feeds/FeedsPage.tsx";
import { MarketsPage } from "./markets/MarketsPage.tsx";
import { PortfolioPage } from "./portfolio/PortfolioPage.tsx";
import { StrategiesPage } from "./strategies/StrategiesPage.tsx";

const PAGES = [
  { path: "/markets", label: "Markets" },
  { path: "/feeds", label: "Feeds" },
  { path: "/portfolio", label: "Portfolio" },
  { path: "/strategies", label: "Strategies" },
  { path: "/backtests", label: "Backtests" },
] as const;

const pageOf = (path: string) => PAGES.find((p) => path.startsWith(p.path))?.path ?? "/markets";

function initialTheme(): string {
  const saved = localStorage.getItem("tapewire-theme"); // a display preference, not a secret
  if (saved === "light" || saved === "dark") return saved;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function App() {
  const [page, setPage] = createSignal<string>(pageOf(location.pathname));
  const [theme, setTheme] = createSignal(initialTheme());
  document.documentElement.dataset.theme = theme();
  const onPop = () => setPage(pageOf(location.pathname));
  addEventListener("popstate", onPop);
  onCleanup(() => removeEventListener("popstate", onPop));

  void restoreSession().finally(startStream);

  const go = (path: string) => (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    history.pushState(null, "", `${path}${location.search}`);
    setPage(path);
    document.getElementById("content")?.focus();
  };
  const toggleTheme = () => {
    const next = theme() === "dark" ? "light" : "dark";
    setTheme(next);
    document.documentElement.dataset.theme = next;
    localStorage.setItem("tapewire-theme", next);
  };
  const [now, setNow] = createSignal(Date.now());
  const timer = setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => clearInterval(timer));

  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">tapewire</span>
        <nav aria-label="pages">
          {PAGES.map((p) => (
            <a
              href={`${p.path}${location.search}`}
              onClick={go(p.path)}
              aria-current={page() === p.path ? "page" : undefined}
            >
              {p.label}
            </a>
          ))}
        </nav>
        <span
          class={`conn ${streamStatus().state}`}
          role="status"
          data-testid="connection"
          data-state={streamStatus().state}
        >
          <Show
            when={streamStatus().state === "open"}
            fallback={
              <>
                {streamStatus().state === "connecting" ? "connecting…" : "disconnected"}
                <Show when={streamStatus().retryAt}>
                  {(at) => <> · retry in {Math.max(0, Math.ceil((at() - now()) / 1000))} s</>}
                </Show>
              </>
            }
          >
            live
          </Show>
        </span>
        <span class="who muted small">{user()?.email ?? ""}</span>
        <button
          type="button"
          class="secondary theme"
          onClick={toggleTheme}
          aria-label={`switch to ${theme() === "dark" ? "light" : "dark"} theme`}
        >
          {theme() === "dark" ? "☀ light" : "☾ dark"}
        </button>
      </header>
      <Show when={streamError()}>
        <p class="error banner-small" role="alert">
          bridge: {streamError()}
        </p>
      </Show>
      <div id="content" tabindex="-1">
        <Switch>
          <Match when={page() === "/markets"}>
            <MarketsPage theme={theme()} />
          </Match>
          <Match when={page() === "/feeds"}>
            <FeedsPage />
          </Match>
          <Match when={page() === "/portfolio"}>
            <PortfolioPage />
          </Match>
          <Match when={page() === "/strategies"}>
            <StrategiesPage />
          </Match>
          <Match when={page() === "/backtests"}>
            <BacktestsPage />
          </Match>
        </Switch>
      </div>
    </>
  );
}
