/** @jsxImportSource solid-js */
// One table for the pages' lists (portfolio, strategies, backtests): a header row of `scope="col"` cells and
// one row per item, each cell rendered by its column. Columns are data, so a page lists what it shows and
// how; the markup (and so the pages' tests and styles) is the same everywhere.
import { For, type JSX } from "solid-js";

export interface Column<T> {
  /** Header text, or markup (e.g. a screen-reader-only label). */
  readonly header: JSX.Element;
  readonly cell: (row: T) => JSX.Element;
  /** A class for the cell (e.g. "bid"/"ask" by side). */
  readonly class?: (row: T) => string | undefined;
}

export function DataTable<T>(props: {
  readonly testid: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
}) {
  return (
    <table data-testid={props.testid}>
      <thead>
        <tr>
          <For each={props.columns}>{(c) => <th scope="col">{c.header}</th>}</For>
        </tr>
      </thead>
      <tbody>
        <For each={props.rows}>
          {(row) => (
            <tr>
              <For each={props.columns}>{(c) => <td class={c.class?.(row)}>{c.cell(row)}</td>}</For>
            </tr>
          )}
        </For>
      </tbody>
    </table>
  );
}

/** The buy/sell colour class for a side in any case ("buy", "SELL"). */
export const sideClass = (side: string): string => (side.toLowerCase() === "buy" ? "bid" : "ask");
