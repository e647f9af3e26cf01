// Kraken v2 book checksum (docs.kraken.com/api/docs/guides/spot-ws-book-v2): CRC32 of the top 10 asks
// low->high then the top 10 bids high->low, each price and qty written at the pair's precision with
// the dot and leading zeros removed. That text is exactly the decimal digits of the integer mantissa.
import type { BookSide } from "../book.ts";
import type { VenueBook } from "../venue-book.ts";

function sideText(side: BookSide): string {
  let out = "";
  const n = Math.min(10, side.size);
  for (let i = 0; i < n; i++) out += `${side.prices[i]}${side.qtys[i]}`;
  return out;
}

export function bookChecksum(book: VenueBook): number {
  return Bun.hash.crc32(sideText(book.asks) + sideText(book.bids)) >>> 0;
}
