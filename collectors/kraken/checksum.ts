// Kraken v2 book checksum: CRC32 (IEEE) of the top 10 asks (low→high) then the top 10 bids (high→low), each
// level as price then qty written with the pair's price_precision / qty_precision, the dot removed and
// leading zeros stripped. Docs: https://docs.kraken.com/api/docs/guides/spot-ws-book-v2
// (now https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2).
//
// "Dot removed, leading zeros stripped" of a value written with exactly p decimals is just the decimal
// digits of its integer mantissa at p decimals (45285.2 at p=1 → 452852; 0.00100000 at p=8 → 100000), so
// the CRC is fed straight from the book's mantissas: no strings, no allocation.
import type { OrderBook } from "../core/book.ts";

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

const digits = new Uint8Array(24);
const POW10 = Array.from({ length: 19 }, (_, i) => 10 ** i);

/** Feed the decimal digits of a non-negative safe integer (nothing for 0: all its zeros are leading). */
function feedDigits(crc: number, n: number): number {
  let len = 0;
  while (n > 0) {
    const q = Math.floor(n / 10);
    digits[len++] = 48 + (n - q * 10);
    n = q;
  }
  for (let i = len - 1; i >= 0; i--) crc = TABLE[(crc ^ digits[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/** Feed ASCII text (tests and the documented intermediate strings). */
export function crc32Text(text: string): number {
  let crc = -1;
  for (let i = 0; i < text.length; i++) crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/**
 * Re-express a mantissa with `from` decimals as one with `to` decimals. Exact when widening; when
 * narrowing, a value with more digits than Kraken's precision keeps them (the checksum then fails and the
 * book resyncs, which is the right outcome for a book we cannot reproduce).
 */
function rescale(m: number, from: number, to: number): number {
  if (to === from) return m;
  if (to > from) return m * POW10[to - from]!;
  const f = POW10[from - to]!;
  return m % f === 0 ? m / f : m;
}

export interface ChecksumPrecision {
  priceDecimals: number;
  sizeDecimals: number;
  pricePrecision: number;
  qtyPrecision: number;
}

/** The unsigned CRC32 Kraken sends as `checksum`, computed from our book. */
export function bookChecksum(book: OrderBook, p: ChecksumPrecision): number {
  let crc = -1;
  const { priceDecimals: pd, sizeDecimals: sd, pricePrecision: pp, qtyPrecision: qp } = p;
  const asks = book.asks;
  const na = Math.min(asks.length, 10);
  for (let i = 0; i < na; i++) {
    crc = feedDigits(crc, rescale(asks.prices[i]!, pd, pp));
    crc = feedDigits(crc, rescale(asks.sizes[i]!, sd, qp));
  }
  const bids = book.bids;
  const nb = Math.min(bids.length, 10);
  for (let i = 0; i < nb; i++) {
    crc = feedDigits(crc, rescale(bids.prices[i]!, pd, pp));
    crc = feedDigits(crc, rescale(bids.sizes[i]!, sd, qp));
  }
  return (crc ^ -1) >>> 0;
}
