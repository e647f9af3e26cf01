// How the Kraken parsers report bad input: counted by reason, logged (rate-limited) with the message text,
// and, for a value that does not fit the instrument's fixed point, a status frame downstream.
import { DecimalError, decimalError } from "../../schema/decimal.ts";
import { Status } from "../../schema/frame.ts";
import type { FeedContext } from "../core/types.ts";

export function parseProblem(ctx: FeedContext, reason: string, text: string): void {
  ctx.metrics.parseError(reason);
  ctx.log.limited("warn", `kraken_${reason}`, "kraken message skipped", {
    reason,
    message: text.slice(0, 300),
  });
}

/**
 * parseFixed returned NaN for a price or size: either the text is not a number (malformed), or it has more
 * digits than the instrument's decimals or too many to hold exactly (unrepresentable: never rounded).
 */
export function badNumber(ctx: FeedContext, instrument: number, field: string, text: string): void {
  const error = decimalError();
  if (error === DecimalError.NotExact || error === DecimalError.Overflow) {
    ctx.metrics.unrepresentable.inc();
    ctx.metrics.parseError("unrepresentable");
    ctx.emitter.status(Status.Unrepresentable, instrument, ctx.metrics.unrepresentable.value, 0);
    ctx.log.limited(
      "error",
      "kraken_unrepresentable",
      "kraken value does not fit the instrument's decimals",
      {
        instrument,
        field,
        message: text.slice(0, 300),
      },
    );
  } else {
    parseProblem(ctx, "bad_number", text);
  }
}
