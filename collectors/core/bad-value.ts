// The one policy for input a venue parser cannot turn into a frame (STYLE.md: errors named for the domain,
// never a silent catch). A malformed or unknown message part is a parse error: counted by reason and logged,
// rate-limited, with the message text. A well-formed value the instrument's fixed point cannot hold exactly
// (more decimals than it has, or beyond 2^53) is unrepresentable: never rounded, counted in its own metric
// and announced downstream with an Unrepresentable status frame. The caller skips what it could not read.
import { DecimalError, decimalError } from "../../schema/decimal.ts";
import { Status } from "../../schema/frame.ts";
import type { FeedContext } from "./types.ts";

/** A malformed or unknown part of a message: counted by reason, logged (rate-limited) with the text. */
export function parseProblem(ctx: FeedContext, reason: string, text: string, detail?: string): void {
  ctx.metrics.parseError(reason);
  ctx.log.limited("warn", `${ctx.exchange}_${reason}`, `${ctx.exchange} message part skipped`, {
    reason,
    detail,
    message: text.slice(0, 300),
  });
}

/** parseFixed's last NaN was a value the instrument cannot hold exactly (not a malformed number). */
export const lastValueUnrepresentable = (): boolean => {
  const error = decimalError();
  return error === DecimalError.NotExact || error === DecimalError.Overflow;
};

/**
 * parseFixed returned NaN for `field`: report it as unrepresentable or as a bad number. With `quiet`, the
 * Unrepresentable status is left to the caller (reportUnrepresentable), for one that must not commit in the
 * middle of an exchange update. Returns true when the value was unrepresentable.
 */
export function badValue(
  ctx: FeedContext,
  instrument: number,
  field: string,
  text: string,
  quiet = false,
): boolean {
  if (!lastValueUnrepresentable()) {
    parseProblem(ctx, "bad_number", text, field);
    return false;
  }
  ctx.metrics.unrepresentable.inc();
  ctx.log.limited(
    "error",
    `${ctx.exchange}_unrepresentable_${instrument}`,
    "value does not fit the instrument's fixed point",
    {
      instrument,
      field,
      reason: decimalError() === DecimalError.NotExact ? "more_decimals" : "overflow",
      message: text.slice(0, 300),
    },
  );
  if (!quiet) reportUnrepresentable(ctx, instrument);
  return true;
}

/** The Unrepresentable status frame: detail = unrepresentable values so far, count = 1 (this one). */
export function reportUnrepresentable(ctx: FeedContext, instrument: number): void {
  ctx.emitter.status(Status.Unrepresentable, instrument, ctx.metrics.unrepresentable.value, 1);
}
