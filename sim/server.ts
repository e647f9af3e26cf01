// The simulator process: one Bun.serve for all three venues (routed by path), one timer loop that steps
// the market and flushes every venue, and the fault/stat endpoints under /_sim.
import type { Server } from "bun";
import { createLogger } from "../lib/log.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { BinanceRest } from "./binance/rest.ts";
import { BinanceVenue } from "./binance/venue.ts";
import { CoinbaseVenue } from "./coinbase/venue.ts";
import { type SimSocket, type SocketData, VenueCounters } from "./counters.ts";
import { FaultError, Faults } from "./faults.ts";
import { coinbaseTicker, krakenTrades, ledger } from "./history.ts";
import { KrakenVenue } from "./kraken/venue.ts";
import { Market } from "./market.ts";
import { Rng, subSeed } from "./rng.ts";
import { collectStats } from "./stats.ts";
import type { Fault, SimOptions, Simulator, VenueName } from "./types.ts";

const LOOP_MS = 10;
const log = createLogger({ service: "sim" });

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const registry = opts.registry ?? loadRegistry();
  const seed = opts.seed ?? 1;
  const eventsPerSecond = opts.eventsPerSecond ?? 20;
  if (!(eventsPerSecond >= 0)) throw new RangeError("eventsPerSecond must be >= 0");
  const heartbeatMs = opts.heartbeatIntervalMs ?? 1000;
  const market = new Market(registry, seed, eventsPerSecond);
  if (opts.historyLimit !== undefined) for (const book of market.books) book.historyLimit = opts.historyLimit;
  const counters: Record<VenueName, VenueCounters> = {
    kraken: new VenueCounters(),
    coinbase: new VenueCounters(),
    binance: new VenueCounters(),
  };
  let kraken: KrakenVenue;
  let coinbase: CoinbaseVenue;
  let binance: BinanceVenue;
  const venues = () => ({ kraken, coinbase, binance });
  const faults = new Faults(
    (venue, symbol) => market.book(venue, symbol) !== undefined,
    (f: Fault) => {
      if (f.fault === "cross-book") {
        for (const book of market.venueBooks(f.venue))
          if (!f.symbol || book === market.book(f.venue, f.symbol)) {
            market.injectCross(book);
            if (!f.symbol) break;
          }
      } else venues()[f.venue].fault(f);
    },
  );
  kraken = new KrakenVenue(
    market,
    faults,
    counters.kraken,
    new Rng(subSeed(seed, "kraken-conn")),
    heartbeatMs,
  );
  coinbase = new CoinbaseVenue(
    market,
    faults,
    counters.coinbase,
    opts.coinbaseTradeSide ?? "maker",
    heartbeatMs,
  );
  binance = new BinanceVenue(market, faults, counters.binance, {
    pingIntervalMs: opts.binancePingIntervalMs ?? 20_000,
    maxConnectionMs: opts.binanceMaxConnectionMs ?? 86_400_000,
  });
  const rest = new BinanceRest(market, faults, counters.binance);
  const startedMs = Date.now();

  const server: Server<SocketData> = Bun.serve<SocketData>({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    fetch(req, srv) {
      const url = new URL(req.url);
      const path = url.pathname;
      if (path === "/kraken/v2" || path === "/coinbase") {
        const venue = path === "/coinbase" ? "coinbase" : "kraken";
        if (srv.upgrade(req, { data: { venue, url: req.url, conn: undefined } })) return undefined;
        return new Response("expected a websocket upgrade", { status: 400 });
      }
      if (path.startsWith("/binance/api/")) return rest.handle(req, path.slice("/binance".length), url);
      if (path === "/binance/stream" || path === "/binance/ws" || path.startsWith("/binance/ws/")) {
        const streams = binanceStreams(path, url);
        if (streams.some((s) => !binance.stream(s)))
          return Response.json({ code: 2, msg: "Invalid request: invalid stream" }, { status: 400 });
        if (srv.upgrade(req, { data: { venue: "binance", url: req.url, conn: undefined } })) return undefined;
        return new Response("expected a websocket upgrade", { status: 400 });
      }
      if (path === "/_sim/stats") return Response.json(stats());
      if (path === "/_sim/ledger" || path === "/ledger") return ledger(market, url);
      if (path === "/kraken/0/public/Trades") {
        counters.kraken.rest++;
        return krakenTrades(market, url);
      }
      const ticker = /^\/coinbase\/api\/v3\/brokerage\/market\/products\/([^/]+)\/ticker$/.exec(path);
      if (ticker) {
        counters.coinbase.rest++;
        return coinbaseTicker(market, url, decodeURIComponent(ticker[1]!), opts.coinbaseTradeSide ?? "maker");
      }
      if (path === "/_sim/faults") return faultRequest(req, faults);
      return new Response("not found", { status: 404 });
    },
    websocket: {
      idleTimeout: 0,
      sendPings: false,
      backpressureLimit: 64 * 1024 * 1024,
      closeOnBackpressureLimit: true,
      open(ws: SimSocket) {
        const c = counters[ws.data.venue];
        c.open++;
        c.total++;
        if (ws.data.venue === "binance") {
          const url = new URL(ws.data.url);
          const tu = url.searchParams.get("timeUnit")?.toUpperCase();
          const micro = tu === "MICROSECOND" || tu === "MICROS";
          binance.open(ws, binanceStreams(url.pathname, url), url.pathname === "/binance/stream", micro);
        } else venues()[ws.data.venue].open(ws);
      },
      message(ws: SimSocket, message) {
        counters[ws.data.venue].received++;
        const text = typeof message === "string" ? message : message.toString();
        try {
          venues()[ws.data.venue].message(ws, text);
        } catch (error) {
          failed(`${ws.data.venue}-message`, error);
        }
      },
      ping(ws: SimSocket) {
        if (ws.data.venue === "binance") binance.incoming(ws);
      },
      pong(ws: SimSocket) {
        if (ws.data.venue === "binance") binance.pong(ws);
      },
      close(ws: SimSocket) {
        counters[ws.data.venue].open--;
        if (ws.data.conn !== undefined) venues()[ws.data.venue].close(ws);
      },
    },
  });

  let running = true;
  let errors = 0;
  const failed = (where: string, error: unknown) => {
    errors++;
    log.limited("error", where, "simulator error", { where, error });
  };
  const loop = setInterval(() => {
    if (!running) return;
    const now = Date.now();
    try {
      faults.tick();
      market.step(now);
      kraken.flush();
      coinbase.flush(now);
      binance.flush(now);
      kraken.tick(now);
      coinbase.tick(now);
      binance.tick(now);
    } catch (error) {
      failed("loop", error);
    } finally {
      market.clearPending();
    }
  }, LOOP_MS);

  const port = server.port!;
  const listen = opts.hostname ?? "127.0.0.1";
  const host = listen === "0.0.0.0" || listen === "::" ? "127.0.0.1" : listen;
  const stats = () => ({ ...collectStats(market, counters, faults, startedMs), errors });
  const simulator: Simulator = {
    port,
    urls: {
      kraken: `ws://${host}:${port}/kraken/v2`,
      coinbase: `ws://${host}:${port}/coinbase`,
      binanceWs: `ws://${host}:${port}/binance`,
      binanceRest: `http://${host}:${port}/binance`,
      krakenRest: `http://${host}:${port}/kraken`,
      coinbaseRest: `http://${host}:${port}/coinbase`,
      ledger: `http://${host}:${port}/_sim/ledger`,
    },
    faults,
    stats,
    async stop() {
      if (!running) return;
      running = false;
      clearInterval(loop);
      faults.clear();
      kraken.closeAll();
      coinbase.closeAll();
      binance.closeAll();
      await server.stop(true);
    },
    [Symbol.asyncDispose]: () => simulator.stop(),
  };
  return simulator;
}

/** Streams named in the URL: /binance/ws/a/b or /binance/stream?streams=a/b. */
function binanceStreams(path: string, url: URL): string[] {
  if (path === "/binance/stream") {
    const list = url.searchParams.get("streams");
    return list ? list.split("/").filter((s) => s.length > 0) : [];
  }
  const rest = path.slice("/binance/ws".length);
  return rest.split("/").filter((s) => s.length > 0);
}

async function faultRequest(req: Request, faults: Faults): Promise<Response> {
  if (req.method === "GET") return Response.json({ active: faults.active() });
  if (req.method === "DELETE") {
    faults.clear();
    return Response.json({ ok: true });
  }
  if (req.method !== "POST") return Response.json({ error: "use POST, GET or DELETE" }, { status: 405 });
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return Response.json({ error: "body must be JSON" }, { status: 400 });
  }
  try {
    faults.inject(body as Fault);
    return Response.json({ ok: true });
  } catch (error) {
    if (error instanceof FaultError) return Response.json({ error: error.message }, { status: 400 });
    throw error;
  }
}
