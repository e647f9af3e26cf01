// /ready's database check: one small connection of its own (the writer's may be busy with a COPY), a SELECT 1
// with a deadline, answered from a cache for a second so a load balancer polling /ready costs nothing.
import postgres from "postgres";

export interface DbProbe {
  (): Promise<boolean>;
  close?(): Promise<void>;
}

export function makeDbProbe(url: string, timeoutMs = 1000, cacheMs = 1000): DbProbe {
  const sql = postgres(url, {
    max: 1,
    idle_timeout: 30,
    connect_timeout: timeoutMs / 1000,
    onnotice: () => {},
  });
  let last = { at: -Infinity, ok: false };
  let inFlight: Promise<boolean> | null = null;
  const check = async (): Promise<boolean> => {
    let timer: Timer | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("database probe timed out")), timeoutMs);
      });
      await Promise.race([sql`SELECT 1`, deadline]);
      return true;
    } catch {
      return false; // not ready is the answer; the writer logs and counts the database's errors
    } finally {
      clearTimeout(timer);
    }
  };
  const probe: DbProbe = async () => {
    if (performance.now() - last.at < cacheMs) return last.ok;
    inFlight ??= check().then((ok) => {
      last = { at: performance.now(), ok };
      inFlight = null;
      return ok;
    });
    return inFlight;
  };
  probe.close = () => sql.end({ timeout: 1 });
  return probe;
}
