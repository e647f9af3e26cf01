// The instrument registry as the API serves it (symbols, decimals, listings), loaded once.
import { createResource, createRoot } from "solid-js";
import type { ExchangeName } from "../../../schema/frame.ts";
import { api, call } from "../lib/api.ts";

export interface InstrumentInfo {
  id: number;
  symbol: string;
  base: string;
  quote: string;
  priceDecimals: number;
  sizeDecimals: number;
  exchanges: ExchangeName[];
}

const [instruments] = createRoot(() =>
  createResource(async () => (await call(api.market.instruments.get())) as InstrumentInfo[]),
);

export { instruments };

export const instrumentBySymbol = (symbol: string): InstrumentInfo | undefined =>
  instruments()?.find((i) => i.symbol === symbol);
export const instrumentById = (id: number): InstrumentInfo | undefined =>
  instruments()?.find((i) => i.id === id);
