// Symbol text inside a raw message → our per-symbol state. Kraken never escapes symbols, but valid JSON may
// ("BTC\/USD"): when the fast in-place lookup misses, an escaped spelling is decoded and looked up again,
// instead of being mistaken for an unknown pair.
import type { KrakenSymbol, SymbolTable } from "./symbols.ts";

export function resolveSymbol(
  text: string,
  start: number,
  end: number,
  symbols: SymbolTable,
): KrakenSymbol | undefined {
  const sym = symbols.lookup(text, start, end);
  if (sym !== undefined) return sym;
  let escaped = false;
  for (let i = start; i < end && !escaped; i++) escaped = text.charCodeAt(i) === 92;
  if (!escaped) return undefined;
  try {
    const decoded: unknown = JSON.parse(text.slice(start - 1, end + 1));
    return typeof decoded === "string" ? symbols.byName(decoded) : undefined;
  } catch {
    // A bad escape: the caller counts the element as an unknown symbol.
    return undefined;
  }
}
