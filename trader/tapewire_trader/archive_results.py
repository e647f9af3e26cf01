"""
A backtest's results as plain JSON-ready data: orders, fills, positions, the equity curve and summary
statistics. Every price, quantity and amount is an exact decimal string computed from the fill events'
Price/Quantity (Nautilus' own avg_px and PnL figures are floats); times are ns since the epoch, as strings
(past 2^53: a JSON reader's doubles would round them).

Positions are netted per instrument at average cost (the venue's OMS is NETTING). Equity is marked to the last
trade price or quote mid of each instrument, in the quote currency of the first traded instrument; a
commission in another currency is counted in ``stats.commissionsOther`` and not in equity. Percentages are
rounded to 6 decimal places; everything else is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context
from decimal import Decimal
from decimal import localcontext
from typing import Any

from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import liquidity_side_to_str
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId

MAX_EQUITY_POINTS = 500
ZERO = Decimal(0)


def _d(value: Decimal) -> str:
    """A decimal as a plain string (no exponent), trailing zeros trimmed."""
    text = f"{value.normalize():f}" if value else "0"
    return text


def _pct(value: Decimal) -> str:
    """A percentage (a ratio, not money): to 6 decimal places, half-even."""
    return _d(value.quantize(Decimal("0.000001")))


@dataclass(slots=True)
class _Book:
    qty: Decimal = ZERO  # signed net position
    cost: Decimal = ZERO  # average entry price
    realized: Decimal = ZERO
    cash: Decimal = ZERO  # quote flow: sells in, buys out
    fills: int = 0
    opened_ns: int = 0

    def fill(self, buy: bool, qty: Decimal, px: Decimal, ts: int) -> None:
        signed = qty if buy else -qty
        self.cash -= signed * px
        self.fills += 1
        if self.qty == 0 or (self.qty > 0) == buy:  # opening or adding
            if self.qty == 0:
                self.opened_ns = ts
            total = abs(self.qty) + qty
            self.cost = (abs(self.qty) * self.cost + qty * px) / total
            self.qty += signed
            return
        closed = min(qty, abs(self.qty))
        self.realized += (px - self.cost) * closed if self.qty > 0 else (self.cost - px) * closed
        self.qty += signed
        if self.qty == 0:
            self.cost = ZERO
        elif (self.qty > 0) == buy:  # crossed through flat: the rest opens at this price
            self.cost = px
            self.opened_ns = ts


def _fills(cache) -> list[OrderFilled]:
    events = [e for o in cache.orders() for e in o.events if isinstance(e, OrderFilled)]
    events.sort(key=lambda e: (e.ts_event, e.ts_init))
    return events


def _mark(d) -> tuple[InstrumentId, Decimal] | None:
    if isinstance(d, TradeTick):
        return d.instrument_id, d.price.as_decimal()
    if isinstance(d, QuoteTick):
        return d.instrument_id, (d.bid_price.as_decimal() + d.ask_price.as_decimal()) / 2
    return None


def _start_equity(balances: tuple[str, ...], currency: str, venues: int) -> Decimal:
    for b in balances:
        amount, _, code = b.partition(" ")
        if code == currency:
            return Decimal(amount) * venues
    return ZERO


def collect_results(  # noqa: C901 (one pass over orders, fills and marks)
    cache,
    market: list,
    ids: list[InstrumentId],
    starting_balances: tuple[str, ...],
) -> dict[str, Any]:
    with localcontext(Context(prec=40)):
        instruments = {iid: cache.instrument(iid) for iid in ids}
        currency = instruments[ids[0]].quote_currency.code
        start = _start_equity(starting_balances, currency, len({iid.venue for iid in ids}))
        orders = sorted(cache.orders(), key=lambda o: o.ts_init)
        fills = _fills(cache)
        books = {iid: _Book() for iid in ids}
        marks: dict[InstrumentId, Decimal] = {}
        commissions = ZERO
        other_commissions: dict[str, Decimal] = {}
        fill_rows = []
        by_order: dict[str, list[OrderFilled]] = {}
        for e in fills:
            by_order.setdefault(e.client_order_id.value, []).append(e)

        def equity() -> Decimal:
            value = start - commissions
            for iid, b in books.items():
                value += b.cash + b.qty * marks.get(iid, b.cost)
            return value

        curve: list[dict[str, Any]] = []
        step = max(1, len(market) // MAX_EQUITY_POINTS)
        fi = 0
        for n, d in enumerate(market):
            while fi < len(fills) and fills[fi].ts_event <= d.ts_init:
                e = fills[fi]
                fi += 1
                commissions, other_commissions = _apply_fill(e, books, commissions, other_commissions, currency)
                fill_rows.append(_fill_row(e))
                curve.append({"ts": e.ts_event, "equity": equity()})
            mark = _mark(d)
            if mark is not None and mark[0] in books:
                marks[mark[0]] = mark[1]
            if n % step == 0 or n == len(market) - 1:
                curve.append({"ts": d.ts_init, "equity": equity()})
        for e in fills[fi:]:
            commissions, other_commissions = _apply_fill(e, books, commissions, other_commissions, currency)
            fill_rows.append(_fill_row(e))
            curve.append({"ts": e.ts_event, "equity": equity()})

        peak, drawdown, drawdown_pct = start, ZERO, ZERO
        for p in curve:
            peak = max(peak, p["equity"])
            if peak - p["equity"] > drawdown:
                drawdown = peak - p["equity"]
                drawdown_pct = drawdown / peak * 100 if peak else ZERO
        end = equity()
        realized = sum((b.realized for b in books.values()), ZERO)
        unrealized = sum(
            ((marks.get(iid, b.cost) - b.cost) * b.qty for iid, b in books.items()),
            ZERO,
        )
        buys = [e for e in fills if e.is_buy]
        stats = {
            "currency": currency,
            "orders": len(orders),
            "filledOrders": sum(1 for o in orders if o.is_closed and o.filled_qty.as_decimal() > 0),
            "fills": len(fills),
            "buyFills": len(buys),
            "sellFills": len(fills) - len(buys),
            "volume": _d(sum((e.last_px.as_decimal() * e.last_qty.as_decimal() for e in fills), ZERO)),
            "commissions": _d(commissions),
            "commissionsOther": {k: _d(v) for k, v in sorted(other_commissions.items())},
            "realizedPnl": _d(realized),
            "unrealizedPnl": _d(unrealized),
            "netPnl": _d(end - start),
            "startEquity": _d(start),
            "endEquity": _d(end),
            "returnPct": _pct((end - start) / start * 100) if start else "0",
            "maxDrawdown": _d(drawdown),
            "maxDrawdownPct": _pct(drawdown_pct),
            "firstTs": str(market[0].ts_init) if market else None,
            "lastTs": str(market[-1].ts_init) if market else None,
        }
        return {
            "stats": stats,
            "orders": [_order_row(o, by_order.get(o.client_order_id.value, [])) for o in orders],
            "fills": fill_rows,
            "positions": [_position_row(iid, b, marks.get(iid)) for iid, b in books.items() if b.fills],
            "equity": [{"ts": str(p["ts"]), "equity": _d(p["equity"])} for p in curve],
        }


def _apply_fill(e: OrderFilled, books, commissions: Decimal, other: dict, currency: str):
    books[e.instrument_id].fill(
        e.is_buy,
        e.last_qty.as_decimal(),
        e.last_px.as_decimal(),
        e.ts_event,
    )
    fee = e.commission
    if fee.currency.code == currency:
        commissions += fee.as_decimal()
    else:
        other[fee.currency.code] = other.get(fee.currency.code, ZERO) + fee.as_decimal()
    return commissions, other


def _fill_row(e: OrderFilled) -> dict[str, Any]:
    return {
        "tradeId": e.trade_id.value,
        "clientOrderId": e.client_order_id.value,
        "venueOrderId": e.venue_order_id.value,
        "instrument": e.instrument_id.value,
        "side": "BUY" if e.is_buy else "SELL",
        "price": str(e.last_px),
        "quantity": str(e.last_qty),
        "commission": _d(e.commission.as_decimal()),
        "commissionCurrency": e.commission.currency.code,
        "liquidity": liquidity_side_to_str(e.liquidity_side),
        "ts": str(e.ts_event),
    }


def _order_row(o, fills: list[OrderFilled]) -> dict[str, Any]:
    qty = sum((f.last_qty.as_decimal() for f in fills), ZERO)
    avg = sum((f.last_px.as_decimal() * f.last_qty.as_decimal() for f in fills), ZERO) / qty if qty else None
    return {
        "clientOrderId": o.client_order_id.value,
        "instrument": o.instrument_id.value,
        "side": o.side_string(),
        "type": o.type_string(),
        "timeInForce": o.tif_string(),
        "quantity": str(o.quantity),
        "price": str(o.price) if getattr(o, "has_price", False) and o.price is not None else None,
        "status": o.status_string(),
        "filledQty": str(o.filled_qty),
        "avgPx": _d(avg) if avg is not None else None,
        "tsInit": str(o.ts_init),
        "tsLast": str(o.ts_last),
    }


def _position_row(iid: InstrumentId, b: _Book, mark: Decimal | None) -> dict[str, Any]:
    side = "FLAT" if b.qty == 0 else "LONG" if b.qty > 0 else "SHORT"
    unrealized = (mark - b.cost) * b.qty if mark is not None and b.qty else ZERO
    return {
        "instrument": iid.value,
        "side": side,
        "quantity": _d(abs(b.qty)),
        "avgPx": _d(b.cost),
        "realizedPnl": _d(b.realized),
        "unrealizedPnl": _d(unrealized),
        "fills": b.fills,
        "openedTs": str(b.opened_ns),
        "markPx": _d(mark) if mark is not None else None,
    }
