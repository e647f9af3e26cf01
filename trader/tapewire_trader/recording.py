"""
The ExecutionRecorder: an Actor on NautilusTrader's message bus that spools everything the engine does —
order events (``events.order.*``), position events (``events.position.*``), account states
(``events.account.*``) and the feed status the strategies act on — with no help from the strategies.

Each spooled line carries the event as Nautilus serialises it (``to_dict``: exact strings) plus the row it
makes in Postgres (``order``, ``fill``, ``position`` or ``balances``), so the Bun writer (trader/recorder/)
only maps fields. Prices, quantities and money are exact decimal strings. Two figures Nautilus keeps as
doubles are derived exactly here instead: an order's average fill price (from its fills, 28 significant
digits) and a position's signed quantity (from its quantity and side). Average open/close prices of a
position are Nautilus' doubles, written by their shortest round-trip repr.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderInitialized
from nautilus_trader.model.events import PositionEvent

from tapewire_trader.core import TAPEWIRE_CLIENT_ID
from tapewire_trader.spool import EventSpool
from tapewire_trader.types import TAPEWIRE_STATUS
from tapewire_trader.types import TapewireStatus


class ExecutionRecorderConfig(ActorConfig, frozen=True):
    spool_dir: str
    run_id: str = ""
    strategy: str = ""
    strategy_id: str = ""
    mode: str = "paper"
    instruments: tuple[str, ...] = ()
    strategy_config: dict[str, str] | None = None


def split_money(text: str | None) -> tuple[str, str]:
    """``'-0.10000000 USDT'`` → (``'-0.10000000'``, ``'USDT'``)."""
    if not text:
        return "0", ""
    amount, _, currency = str(text).partition(" ")
    return amount, currency


def _float_text(value: Any) -> str | None:
    """A double by its shortest round-trip digits, in plain notation (no exponent)."""
    return None if value is None else format(Decimal(repr(float(value))), "f")


class ExecutionRecorder(Actor):
    def __init__(self, config: ExecutionRecorderConfig) -> None:
        super().__init__(config)
        self.run_id = config.run_id or str(uuid.uuid4())
        self.spool: EventSpool | None = None
        # client_order_id → (Σ px·qty, Σ qty) of its fills: the exact average fill price.
        self._fills: dict[str, tuple[Decimal, Decimal]] = {}
        self._reasons: dict[str, str] = {}
        self._venues = {i.rsplit(".", 1)[-1] for i in config.instruments}
        self.recorded = 0

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def on_start(self) -> None:
        cfg = self.config
        self.spool = EventSpool(cfg.spool_dir, self.run_id)
        now = self.clock.timestamp_ns()
        self._write(
            "run.started",
            now,
            f"{cfg.strategy} ({cfg.strategy_id}) on {', '.join(cfg.instruments)}, {cfg.mode}",
            strategy=cfg.strategy_id,
            info={
                "trader_id": self.trader_id.value,
                "strategy_id": cfg.strategy_id,
                "strategy": cfg.strategy,
                "mode": cfg.mode,
                "instruments": list(cfg.instruments),
                "config": dict(cfg.strategy_config or {}),
            },
        )
        # Accounts the execution clients opened before this actor started: their state now.
        for account in self.cache.accounts():
            if account.last_event is not None:
                self._on_account(account.last_event)
        self.msgbus.subscribe(topic="events.order.*", handler=self._on_order)
        self.msgbus.subscribe(topic="events.position.*", handler=self._on_position)
        self.msgbus.subscribe(topic="events.account.*", handler=self._on_account)
        self.subscribe_data(TAPEWIRE_STATUS, client_id=TAPEWIRE_CLIENT_ID)

    def on_stop(self) -> None:
        # Keep recording: the strategies stop after the actors and cancel or close as they go.
        pass

    def on_dispose(self) -> None:
        # Stopping strategies cancel and close after this actor's on_stop: the run ends at disposal.
        if self.spool is None:
            return
        self._write("run.stopped", self.clock.timestamp_ns(), "trader stopped", info={})
        self.spool.close()

    # -- events ------------------------------------------------------------------------------------------------

    def _write(self, kind: str, ts: int, message: str, **record: Any) -> None:
        if self.spool is None:
            return
        self.spool.append(kind, ts, {"message": message, **record})
        self.recorded += 1

    def _on_order(self, event: OrderEvent) -> None:
        coid = event.client_order_id.value
        data = type(event).to_dict(event)
        record: dict[str, Any] = {"strategy": event.strategy_id.value, "instrument": event.instrument_id.value}
        reason = data.get("reason")
        if reason:
            self._reasons[coid] = str(reason)
        if isinstance(event, OrderFilled):
            qty, px = Decimal(data["last_qty"]), Decimal(data["last_px"])
            cost, total = self._fills.get(coid, (Decimal(0), Decimal(0)))
            self._fills[coid] = (cost + px * qty, total + qty)
            commission, currency = split_money(data.get("commission"))
            record["fill"] = {
                "trade_id": event.trade_id.value,
                "client_order_id": coid,
                "venue_order_id": event.venue_order_id.value if event.venue_order_id else None,
                "position_id": event.position_id.value if event.position_id else None,
                "side": data["order_side"],
                "quantity": data["last_qty"],
                "price": data["last_px"],
                "commission": commission,
                "commission_currency": currency,
                "liquidity": data["liquidity_side"],
            }
        order = self.cache.order(event.client_order_id)
        if order is not None:
            record["order"] = self._order_row(order)
        elif isinstance(event, OrderInitialized):
            # Published before the order reaches the cache: the row from the event itself.
            record["order"] = self._initial_row(data)
        kind = type(event).__name__
        self._write(f"order.{kind}", event.ts_event, self._order_message(kind, record), event=data, **record)

    def _order_row(self, order: Any) -> dict[str, Any]:
        coid = order.client_order_id.value
        cost, total = self._fills.get(coid, (Decimal(0), Decimal(0)))
        price = getattr(order, "price", None)
        return {
            "client_order_id": coid,
            "venue_order_id": order.venue_order_id.value if order.venue_order_id else None,
            "side": order.side_string(),
            "type": order.type_string(),
            "quantity": str(order.quantity),
            "price": str(price) if price is not None else None,
            "time_in_force": order.tif_string(),
            "post_only": bool(order.is_post_only),
            "status": order.status_string(),
            "filled_qty": str(order.filled_qty),
            "avg_px": str((cost / total).normalize()) if total else None,
            "reason": self._reasons.get(coid),
            "ts_init": order.ts_init,
        }

    @staticmethod
    def _initial_row(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "client_order_id": data["client_order_id"],
            "venue_order_id": None,
            "side": data["order_side"],
            "type": data["order_type"],
            "quantity": data["quantity"],
            "price": (data.get("options") or {}).get("price"),
            "time_in_force": data["time_in_force"],
            "post_only": bool(data["post_only"]),
            "status": "INITIALIZED",
            "filled_qty": "0",
            "avg_px": None,
            "reason": None,
            "ts_init": data["ts_init"],
        }

    @staticmethod
    def _order_message(kind: str, record: dict[str, Any]) -> str:
        row = record.get("order")
        if row is None:
            return kind
        head = f"{row['side']} {row['quantity']} {record['instrument']}"
        fill = record.get("fill")
        if fill:
            return f"{head} filled {fill['quantity']} @ {fill['price']}"
        price = row["price"]
        return f"{head}{f' @ {price}' if price is not None else ''}: {kind.removeprefix('Order').lower()}"

    def _on_position(self, event: PositionEvent) -> None:
        data = type(event).to_dict(event)
        quantity = Decimal(data["quantity"])
        side = data["side"]
        signed = -quantity if side == "SHORT" else (Decimal(0) if side == "FLAT" else quantity)
        realized, currency = split_money(data.get("realized_pnl"))
        unrealized, _ = split_money(data.get("unrealized_pnl"))
        row = {
            "position_id": data["position_id"],
            "side": side,
            "signed_qty": str(signed),
            "avg_px_open": _float_text(data.get("avg_px_open")),
            "avg_px_close": _float_text(data.get("avg_px_close")),
            "realized_pnl": realized,
            "unrealized_pnl": unrealized,
            "currency": currency or data.get("currency", ""),
            "ts_opened": data.get("ts_opened", event.ts_event),
            "ts_closed": data.get("ts_closed") or None,
        }
        kind = type(event).__name__
        message = f"{data['instrument_id']} {side} {quantity}, realized {data.get('realized_pnl')}"
        self._write(
            f"position.{kind}",
            event.ts_event,
            message,
            strategy=data["strategy_id"],
            instrument=data["instrument_id"],
            event=data,
            position=row,
        )

    def _on_account(self, event: AccountState) -> None:
        data = AccountState.to_dict(event)
        balances = [
            {"currency": b["currency"], "total": b["total"], "locked": b["locked"], "free": b["free"]}
            for b in data["balances"]
        ]
        message = ", ".join(f"{b['total']} {b['currency']}" for b in balances)
        self._write(
            "account.AccountState",
            event.ts_event or event.ts_init or self.clock.timestamp_ns(),
            f"{data['account_id']}: {message}",
            event=data,
            account_id=data["account_id"],
            balances=balances,
        )

    def on_data(self, data: Any) -> None:
        if not isinstance(data, TapewireStatus) or (data.venue and data.venue not in self._venues):
            return
        where = data.instrument or data.venue or "relay"
        self._write(
            f"feed.{data.name}",
            data.ts_event,
            f"{where}: {data.name}{'' if data.book_valid else ' (book invalid)'}",
            instrument=data.instrument or None,
            event={
                "code": data.code,
                "name": data.name,
                "venue": data.venue,
                "instrument": data.instrument,
                "detail": data.detail,
                "count": data.count,
                "book_valid": data.book_valid,
            },
        )
