// Binance prices and quantities are decimal strings padded to 8 places:
// https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
// What happens to a value that cannot become a frame: a value the instrument's fixed point cannot hold
// exactly is reported (Unrepresentable status, counter, log), never rounded; anything else is a parse error.
import { DecimalError, decimalError } from "../../schema/decimal.ts";
import { Status } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import type { FeedContext } from "../core/types.ts";

/** Report one bad value; the caller skips the message (after rolling back anything it staged). */
export function reportBadValue(
  ctx: FeedContext,
  instrument: Instrument,
  field: string,
  text: string,
  start: number,
  end: number,
): void {
  const error = decimalError();
  const value = text.slice(start, end);
  if (error === DecimalError.NotExact || error === DecimalError.Overflow) {
    ctx.metrics.unrepresentable.inc();
    ctx.emitter.status(Status.Unrepresentable, instrument.id, ctx.metrics.unrepresentable.value, 0);
    ctx.log.limited(
      "error",
      `unrepresentable_${instrument.id}`,
      "value does not fit the instrument's fixed point",
      {
        symbol: instrument.symbol,
        field,
        value,
        priceDecimals: instrument.priceDecimals,
        sizeDecimals: instrument.sizeDecimals,
        reason: error === DecimalError.NotExact ? "more_decimals" : "overflow",
      },
    );
    return;
  }
  ctx.metrics.parseError("bad_number");
  ctx.log.limited("warn", "bad_number", "malformed or out-of-range number", {
    symbol: instrument.symbol,
    field,
    value,
  });
}
