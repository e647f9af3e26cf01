// A response enum. t.UnionEnum's implicit default (its first value) would be a false claim in OpenAPI.
import { t } from "elysia";

export const OneOf = <const V extends readonly [string, ...string[]]>(values: V, description?: string) =>
  t.UnionEnum(values, { default: undefined, description });
