"""
The whole paper path on real processes: a real relay, collector frames from a producer, a TradingNode with
the tapewire data client and the sandbox execution client, and the market maker filling on our stream.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Producer
from conftest import wait_for
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.node import build_node
from tapewire_trader.recording import ExecutionRecorder
from tapewire_trader.settings import load_settings
from tapewire_trader.wire import FLAG_TAKER_SELL
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Status

BTCUSDT = InstrumentId.from_str("BTCUSDT.BINANCE")
BINANCE_BTC_USDT = (Exchange.BINANCE, 4)


@pytest.fixture
def paper_node(relay, registry, monkeypatch, tmp_path):
    monkeypatch.setenv("TAPEWIRE_RELAY_OUT", relay.out_path)
    settings = load_settings(
        {
            "TRADER_STRATEGY": "market_maker",
            "TRADER_VENUES": "BINANCE",
            "TRADER_INSTRUMENT": "BTC-USDT",
            "TRADER_TRADE_SIZE": "0.001",
            "TRADER_MAX_INVENTORY": "0.001",
            "TRADER_HALF_SPREAD_BPS": "10",
            "TRADER_LOG_LEVEL": "WARNING",
            "TRADER_SPOOL_DIR": str(tmp_path / "spool"),
            "TRADER_TAP_TRADES": str(tmp_path / "tap.txt"),
        },
    )
    node, strategy = build_node(settings, registry)
    runner = threading.Thread(target=node.run, name="trading-node", daemon=True)
    runner.start()
    try:
        yield node, strategy
    finally:
        loop = node.get_event_loop()
        loop.call_soon_threadsafe(node.stop)
        runner.join(timeout=30)
        node.dispose()


def data_client(node):
    return node.kernel.data_engine._clients[next(iter(node.kernel.data_engine._clients))]  # the one: TAPEWIRE


def test_market_maker_quotes_fills_respects_inventory_and_halts_on_a_stale_feed(paper_node, producer: Producer):
    node, strategy = paper_node
    dc = data_client(node)
    wait_for(lambda: BINANCE_BTC_USDT in dc.translator.quotes and dc.relay.connected, what="quote subscription")
    cache = node.cache

    def quote(bid: int, ask: int) -> None:
        producer.bbo(Exchange.BINANCE, 4, (bid, 50_000_000), (ask, 50_000_000), time.time_ns())

    # Mid 42000.50: quotes at ±10 bps, prices at the venue's precision (2 decimals).
    def open_orders():
        return cache.orders_open(instrument_id=BTCUSDT)

    # The subscription may reach the relay a moment after we see it locally: quote until orders rest.
    wait_for(lambda: quote(4200000, 4200100) or len(open_orders()) == 2, what="two resting quotes")
    prices = sorted((o.side, o.price.as_decimal()) for o in open_orders())
    assert prices == [(OrderSide.BUY, Decimal("41958.50")), (OrderSide.SELL, Decimal("42042.50"))]
    assert all(o.is_post_only and o.quantity.as_decimal() == Decimal("0.00100") for o in open_orders())

    # A taker sells through our bid: the sandbox fills it from the trade on the stream.
    producer.trade(Exchange.BINANCE, 4, 1001, 4195000, 100_000, FLAG_TAKER_SELL, time.time_ns())

    def filled():
        return [o for o in cache.orders(instrument_id=BTCUSDT) if o.status == OrderStatus.FILLED]

    wait_for(filled, what="a fill")
    (filled,) = filled()
    assert filled.side == OrderSide.BUY and filled.avg_px == pytest.approx(41958.50)
    wait_for(lambda: node.portfolio.net_position(BTCUSDT) == Decimal("0.001"), what="the position")
    check_spool(node, filled)

    # Inventory limit 0.001 reached: after a re-quote only the sell side rests.
    wait_for(
        lambda: quote(4300000, 4300100) or [o.side for o in open_orders()] == [OrderSide.SELL],
        what="sell-only quotes at the inventory limit",
    )

    # A stale feed is data the strategy acts on: it pulls its quotes until the feed is fresh again.
    producer.status(Exchange.BINANCE, Status.STALE, instrument=4, detail=5000)
    wait_for(lambda: strategy.guard.halted(str(BTCUSDT), "BINANCE", time.time_ns()), what="the halt")
    quote(4300000, 4300100)
    wait_for(lambda: not open_orders(), what="quotes pulled on the stale feed")
    producer.status(Exchange.BINANCE, Status.FRESH, instrument=4)
    wait_for(lambda: not strategy.guard.halted(str(BTCUSDT), "BINANCE", time.time_ns()), what="fresh")
    wait_for(lambda: quote(4400000, 4400100) or open_orders(), what="quotes back after fresh")
    assert all(o.status != OrderStatus.REJECTED for o in cache.orders(instrument_id=BTCUSDT))


def spool_records(node) -> list[dict]:
    (recorder,) = [a for a in node.trader.actors() if isinstance(a, ExecutionRecorder)]
    return [json.loads(line) for line in recorder.spool.path.read_text().splitlines()]


def check_spool(node, order) -> None:
    """The recorder spooled the engine's own events, in order, with exact decimals and the rows they make."""
    wait_for(lambda: any(r["kind"] == "position.PositionOpened" for r in spool_records(node)), what="spooled position")
    records = spool_records(node)
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert records[0]["kind"] == "run.started" and records[0]["info"]["instruments"] == ["BTCUSDT.BINANCE"]
    assert len({r["run"] for r in records}) == 1
    assert records[0]["strategy"] == records[0]["info"]["strategy_id"] == "InventoryMarketMaker-000"
    assert all(int(r["ts"]) > 2**53 and isinstance(r["ts"], str) for r in records)
    kinds = [r["kind"] for r in records]
    # The sandbox's account existed before the recorder started: its state is recorded first.
    assert kinds[1] == "account.AccountState"
    usdt = next(b for b in records[1]["balances"] if b["currency"] == "USDT")
    assert Decimal(usdt["total"]) == Decimal(100000)
    coid = order.client_order_id.value
    mine = [r["kind"] for r in records if r.get("order", {}).get("client_order_id") == coid]
    assert mine[:3] == ["order.OrderInitialized", "order.OrderSubmitted", "order.OrderAccepted"]
    assert mine[-1] == "order.OrderFilled"
    (fill,) = [r for r in records if r["kind"] == "order.OrderFilled"]
    assert fill["fill"]["price"] == "41958.50" and fill["fill"]["quantity"] == "0.00100"
    assert fill["fill"]["side"] == "BUY" and fill["fill"]["liquidity"] == "MAKER"
    assert fill["order"]["status"] == "FILLED" and fill["order"]["avg_px"] == "41958.5"
    assert fill["event"]["trade_id"] == fill["fill"]["trade_id"]
    (opened,) = [r for r in records if r["kind"] == "position.PositionOpened"]
    assert opened["position"]["signed_qty"] == "0.00100" and opened["position"]["side"] == "LONG"
    assert opened["position"]["currency"] == "USDT"
    commission = Decimal(fill["fill"]["commission"])
    assert Decimal(opened["position"]["realized_pnl"]) == -commission
    tap = [line.split() for line in (Path(node.trader.actors()[-1].config.path)).read_text().splitlines()]
    assert ["BTCUSDT.BINANCE", "1001", "41950.00", "0.00100", "SELLER"] in [t[:5] for t in tap]
