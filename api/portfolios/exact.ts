// Exact decimal arithmetic on BigInt for the paper ledger (fills, lots, PnL). Values are parsed from
// Postgres NUMERIC text and written back as text; nothing passes through a float.
import { formatFixedBig } from "../../schema/decimal.ts";

export interface Dec {
  /** value = units / 10^scale */
  units: bigint;
  scale: number;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

export function dec(text: string): Dec {
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  const frac = m[3] ?? "";
  const units = BigInt(m[2]! + frac);
  return { units: m[1] ? -units : units, scale: frac.length };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

export const add = (a: Dec, b: Dec): Dec => {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
};
export const sub = (a: Dec, b: Dec): Dec => {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
};
export const mul = (a: Dec, b: Dec): Dec => ({ units: a.units * b.units, scale: a.scale + b.scale });
export const neg = (a: Dec): Dec => ({ units: -a.units, scale: a.scale });
export const cmp = (a: Dec, b: Dec): number => {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
};
export const abs = (a: Dec): Dec => (a.units < 0n ? neg(a) : a);
export const min = (a: Dec, b: Dec): Dec => (cmp(a, b) <= 0 ? a : b);
export const sign = (a: Dec): number => (a.units > 0n ? 1 : a.units < 0n ? -1 : 0);
export const ZERO: Dec = { units: 0n, scale: 0 };

/** Divide by 10^k exactly (fees in basis points). */
export const shift = (a: Dec, k: number): Dec => ({ units: a.units, scale: a.scale + k });

/** Canonical text: trailing fractional zeros dropped ("1.50" -> "1.5", "2.000" -> "2"). */
export function str(a: Dec): string {
  return formatFixedBig(a.units, a.scale, true);
}

/** Fee in basis points of a notional: notional x bps / 10^4, exact. */
export const feeOf = (notional: Dec, feeBps: string): Dec => shift(mul(notional, dec(feeBps)), 4);

/** Sum of exact decimals. */
export const sum = (values: readonly Dec[]): Dec => values.reduce(add, ZERO);
