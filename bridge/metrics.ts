// The bridge's Prometheus metrics. Hot paths hold the label children and bump .value directly.
import { type CounterChild, type GaugeChild, MetricsRegistry } from "../lib/metrics.ts";
import { TABLE_NAMES, type TableName } from "./sink/types.ts";
import type { SlowReason } from "./slow-clients.ts";
import type { KindName } from "./topics.ts";

const KINDS: readonly KindName[] = ["trade", "book", "bbo", "status"];

export class BridgeMetrics {
  readonly registry: MetricsRegistry;
  readonly clients: GaugeChild;
  readonly relayConnected: GaugeChild;
  readonly framesIn: Record<KindName, CounterChild>;
  readonly framesSkipped: (reason: string) => CounterChild;
  /** JSON messages built (each once, however many clients get it). */
  readonly messagesOut: Record<KindName, CounterChild>;
  /** Messages × subscribers at publish time. */
  readonly deliveries: CounterChild;
  /** WebSocket messages published (a batch of several JSON messages counts once). */
  readonly wsPublishes: CounterChild;
  readonly slowClientsClosed: (reason: SlowReason) => CounterChild;
  /** Unsent bytes of all clients not cut, at the last check (the BRIDGE_MAX_TOTAL_BUFFERED_BYTES budget). */
  readonly bufferedBytes: GaugeChild;
  readonly authClosed: (code: "token_expired" | "session_revoked") => CounterChild;
  /** Cut clients dropped without a close frame, because closing sockets already hold maxClosingBytes. */
  readonly clientsTerminated: CounterChild;
  readonly conflations: CounterChild;
  readonly clientsRejected: (reason: string) => CounterChild;
  readonly clientErrors: (code: string) => CounterChild;
  readonly rowsQueued: Record<TableName, CounterChild>;
  readonly rowsWritten: Record<TableName, CounterChild>;
  readonly rowsDuplicate: Record<TableName, CounterChild>;
  readonly rowsRejected: CounterChild;
  readonly rowsLost: CounterChild;
  readonly batches: (table: TableName, result: "ok" | "error" | "rejected") => CounterChild;
  readonly dbErrors: (code: string) => CounterChild;
  readonly spoolErrors: CounterChild;
  readonly queuedBytes: GaugeChild;
  readonly spoolBytes: GaugeChild;
  readonly spoolFiles: GaugeChild;
  /** 1 while the database writer has stopped its feed (memory full and the spool failing). */
  readonly writerFull: GaugeChild;
  readonly writeSeconds;

  constructor(registry = new MetricsRegistry()) {
    this.registry = registry;
    const r = registry;
    this.clients = r.gauge("bridge_clients", "Open WebSocket clients").labels();
    this.relayConnected = r.gauge("bridge_relay_connected", "1 while the relay socket is connected").labels();
    const framesIn = r.counter("bridge_frames_in_total", "Frames received from the relay, by kind");
    this.framesIn = byKind((kind) => framesIn.labels({ kind }));
    const skipped = r.counter("bridge_frames_skipped_total", "Frames not published or stored, by reason");
    this.framesSkipped = memo((reason) => skipped.labels({ reason }));
    const out = r.counter(
      "bridge_messages_out_total",
      "JSON messages built for clients (once per message), by kind",
    );
    this.messagesOut = byKind((kind) => out.labels({ kind }));
    this.deliveries = r
      .counter("bridge_deliveries_total", "Messages times their subscribers at publish")
      .labels();
    this.wsPublishes = r
      .counter("bridge_ws_publishes_total", "WebSocket messages published (batches count once)")
      .labels();
    const slow = r.counter(
      "bridge_slow_clients_closed_total",
      "Clients closed as slow_client, by reason (buffer, behind, budget)",
    );
    this.slowClientsClosed = memo((reason) => slow.labels({ reason }));
    this.bufferedBytes = r
      .gauge("bridge_clients_buffered_bytes", "Unsent bytes of all clients together at the last check")
      .labels();
    this.clientsTerminated = r
      .counter(
        "bridge_clients_terminated_total",
        "Cut clients dropped without a final message (closing sockets held BRIDGE_MAX_CLOSING_BYTES)",
      )
      .labels();
    const authClosed = r.counter(
      "bridge_auth_closed_total",
      "Authenticated connections closed, by code (token_expired, session_revoked)",
    );
    this.authClosed = memo((code) => authClosed.labels({ code }));
    this.conflations = r
      .counter("bridge_conflations_total", "Times a slow client's book/bbo topics were paused (conflated)")
      .labels();
    const rejected = r.counter("bridge_clients_rejected_total", "Connections refused, by reason");
    this.clientsRejected = memo((reason) => rejected.labels({ reason }));
    const errors = r.counter("bridge_client_errors_total", "Error messages sent to clients, by code");
    this.clientErrors = memo((code) => errors.labels({ code }));
    const queued = r.counter("bridge_rows_queued_total", "Rows handed to the database writer, by table");
    this.rowsQueued = byTable((table) => queued.labels({ table }));
    const written = r.counter("bridge_rows_written_total", "Rows inserted into the database, by table");
    this.rowsWritten = byTable((table) => written.labels({ table }));
    const dup = r.counter(
      "bridge_rows_duplicate_total",
      "Rows skipped as already stored (replays), by table",
    );
    this.rowsDuplicate = byTable((table) => dup.labels({ table }));
    this.rowsRejected = r
      .counter(
        "bridge_rows_rejected_total",
        "Rows in batches the database refused as bad data (kept in spool/rejected)",
      )
      .labels();
    this.rowsLost = r
      .counter(
        "bridge_rows_lost_total",
        "Rows dropped because neither the database, memory nor the spool could hold them",
      )
      .labels();
    const batches = r.counter("bridge_db_batches_total", "Database batch writes, by table and result");
    const batchMemo = memo((key) => {
      const [table, result] = key.split("/");
      return batches.labels({ table: table!, result: result! });
    });
    this.batches = (table, result) => batchMemo(`${table}/${result}`);
    const dbErrors = r.counter("bridge_db_errors_total", "Failed database writes, by error code");
    this.dbErrors = memo((code) => dbErrors.labels({ code }));
    this.spoolErrors = r.counter("bridge_spool_errors_total", "Spool file operations that failed").labels();
    this.queuedBytes = r
      .gauge("bridge_db_queued_bytes", "COPY text waiting in memory for the database")
      .labels();
    this.spoolBytes = r.gauge("bridge_spool_bytes", "Bytes in spool files waiting for the database").labels();
    this.spoolFiles = r.gauge("bridge_spool_files", "Spool files waiting for the database").labels();
    this.writerFull = r
      .gauge(
        "bridge_db_feed_paused",
        "1 while the database writer's relay feed is stopped: memory full and the spool failing (rows wait in the relay journal)",
      )
      .labels();
    this.writeSeconds = r.histogram(
      "bridge_db_write_seconds",
      "Time to write one batch to the database",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    // Series that alerts and dashboards rate() exist from the start, at 0 (a counter born at 1 has no increase).
    for (const reason of ["buffer", "behind", "budget"] as const) this.slowClientsClosed(reason);
    for (const code of ["token_expired", "session_revoked"] as const) this.authClosed(code);
    for (const t of TABLE_NAMES) for (const res of ["ok", "error", "rejected"] as const) this.batches(t, res);
  }
}

function memo<T>(make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      v = make(key);
      cache.set(key, v);
    }
    return v;
  };
}

function byKind(make: (kind: KindName) => CounterChild): Record<KindName, CounterChild> {
  return Object.fromEntries(KINDS.map((k) => [k, make(k)])) as Record<KindName, CounterChild>;
}

function byTable(make: (table: TableName) => CounterChild): Record<TableName, CounterChild> {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, make(t)])) as Record<TableName, CounterChild>;
}
