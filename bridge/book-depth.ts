// The depths the bridge cuts its books to, declared once: the bridge keeps its books at them and the API's
// book-history route rebuilds stored books with the same cut (api/market/book-history.ts).
import { int } from "../lib/config.ts";

export const bookDepthVars = {
  bookDepth: int("BRIDGE_BOOK_DEPTH", {
    default: 1000,
    min: 1,
    max: 100_000,
    meaning: "levels per side kept per book for new subscribers' snapshots",
  }),
  krakenBookDepth: int("KRAKEN_BOOK_DEPTH", {
    default: 10,
    min: 1,
    max: 1000,
    meaning: "Kraken's subscribed book depth (shared with the Kraken collector)",
  }),
};
