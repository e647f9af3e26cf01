"""
A paper run on the real relay and a BacktestEngine run fed the very frames the paper run received agree on
every fill (instrument, side, price, quantity) for the deterministic market maker; and so does a backtest of
the same window read from the Parquet archive, after the relay's journal went through the bridge's database
writer and the archiver.

The archive holds no BBO frames (the exchanges' ticker channels are not archived): its backtest quotes come
from the archived L2 book's top. So the scenario sends, with every BBO, the book update whose top it is (as an
exchange's ticker reports its book's top). What must agree, and does: every fill. What differs by design:
ts_event is kept to the µs in the archive (ts_init, the receive stamp, exactly), and heartbeats are not stored.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from backtest_archive_kit import archive_relay
from conftest import Producer
from conftest import wait_for
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.backtest import filled_orders
from tapewire_trader.backtest import run_archive_backtest
from tapewire_trader.backtest import run_backtest
from tapewire_trader.node import build_node
from tapewire_trader.settings import load_settings
from tapewire_trader.wire import FLAG_ASK
from tapewire_trader.wire import FLAG_BEGIN
from tapewire_trader.wire import FLAG_END
from tapewire_trader.wire import FLAG_SNAPSHOT
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import FLAG_TAKER_SELL
from tapewire_trader.wire import FRAME
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status

BTCUSDT = InstrumentId.from_str("BTCUSDT.BINANCE")
ENV = {
    "TRADER_STRATEGY": "market_maker",
    "TRADER_VENUES": "BINANCE",
    "TRADER_INSTRUMENT": "BTC-USDT",
    "TRADER_TRADE_SIZE": "0.001",
    "TRADER_MAX_INVENTORY": "0.002",
    "TRADER_HALF_SPREAD_BPS": "10",
    "TRADER_LOG_LEVEL": "WARNING",
}


@pytest.fixture
def paper(relay, registry, monkeypatch):
    monkeypatch.setenv("TAPEWIRE_RELAY_OUT", relay.out_path)
    node, _strategy = build_node(load_settings(ENV), registry)
    client = next(iter(node.kernel.data_engine._clients.values()))
    captured: list[tuple] = []
    deliver = client.relay._on_frames

    def tap(frames):  # what the relay delivered, in order, before the client translates it
        captured.extend(frames)
        deliver(frames)

    client.relay._on_frames = tap
    runner = threading.Thread(target=node.run, daemon=True)
    runner.start()
    try:
        yield node, _strategy, captured
    finally:
        node.get_event_loop().call_soon_threadsafe(node.stop)
        runner.join(timeout=30)
        node.dispose()


class Book:
    """Book frames whose top is each BBO sent: a snapshot first, then one update per quote."""

    def __init__(self, producer: Producer) -> None:
        self.p = producer
        self.top: tuple[int, int] | None = None

    def quote(self, bid: int, ask: int, ts: int) -> None:
        f, b = self.p.frame, Exchange.BINANCE
        if self.top is None:
            frames = [
                f(Kind.BOOK, FLAG_SNAPSHOT | FLAG_BEGIN, b, 4, 1, bid, 10**8, ts),
                f(Kind.BOOK, FLAG_SNAPSHOT | FLAG_ASK | FLAG_END, b, 4, 1, ask, 10**8, ts),
            ]
        else:
            frames = [
                f(Kind.BOOK, 0, b, 4, 2, self.top[0], 0, ts),
                f(Kind.BOOK, FLAG_ASK, b, 4, 2, self.top[1], 0, ts),
                f(Kind.BOOK, 0, b, 4, 2, bid, 10**8, ts),
                f(Kind.BOOK, FLAG_ASK | FLAG_END, b, 4, 2, ask, 10**8, ts),
            ]
        self.top = (bid, ask)
        self.p.send(b, *frames)
        self.p.bbo(b, 4, (bid, 10**8), (ask, 10**8), ts)


def test_paper_and_backtest_fill_alike_on_the_same_frames(paper, relay, producer: Producer, registry, tmp_path):
    node, strategy, captured = paper
    book = Book(producer)
    window_start = time.time_ns() - 1_000_000_000
    cache = node.cache
    # Send only once the relay applies our filter with trades and quotes (its log says so).
    wait_for(
        lambda: any(
            '"name":"nautilus"' in line and '"bbo"' in line and '"trade"' in line
            for line in relay.log_path.read_text().splitlines()
            if "consumer filter set" in line
        ),
        what="the relay applying the trader's filter",
    )

    def settled(quotes: int, trades: int, requoted_after: int = 0) -> bool:
        """The node has taken every frame sent, and after a quote has re-quoted from it, all accepted."""
        if len(cache.quote_ticks(BTCUSDT)) != quotes or len(cache.trade_ticks(BTCUSDT)) != trades:
            return False
        if cache.orders_inflight():
            return False
        resting = cache.orders_open(instrument_id=BTCUSDT)
        return not requoted_after or (bool(resting) and all(o.ts_init >= requoted_after for o in resting))

    # The collector's start (its first frame) halts the strategy for FeedGuard's cooldown: let it pass.
    producer.status(Exchange.BINANCE, Status.HEARTBEAT)
    wait_for(lambda: strategy.guard.events >= 1, what="the collector_start status")
    wait_for(lambda: not strategy.guard.halted(str(BTCUSDT), "BINANCE", time.time_ns()), what="the cooldown")
    sent = time.time_ns()
    book.quote(4200000, 4200100, sent)
    quotes, trades = 1, 0
    wait_for(lambda: settled(quotes, trades, sent), what="the first quotes resting")
    # The market moves; takers cross our quotes both ways. Each step waits until the node has acted on it.
    steps = [
        ("trade", 4195000, FLAG_TAKER_SELL),
        ("quote", 4210000, 4210100),
        ("trade", 4215000, FLAG_TAKER_BUY),
        ("quote", 4190000, 4190100),
        ("trade", 4180000, FLAG_TAKER_SELL),
        ("trade", 4170000, FLAG_TAKER_SELL),
        ("quote", 4230000, 4230100),
        ("trade", 4240000, FLAG_TAKER_BUY),
    ]
    for n, (what, a, b) in enumerate(steps):
        sent = time.time_ns()
        if what == "quote":
            book.quote(a, b, sent)
            quotes += 1
        else:
            producer.trade(Exchange.BINANCE, 4, 9000 + n, a, 100_000, b, sent)
            trades += 1
            sent = 0
        wait_for(lambda q=quotes, t=trades, s=sent: settled(q, t, s), what=f"step {n} ({what}) acted on")

    live = filled_orders(cache)
    assert len(live) >= 4, live  # the scenario really trades both ways
    assert {f[1] for f in live} == {"BUY", "SELL"}

    frames = b"".join(FRAME.pack(*t) for t in captured)
    result = run_backtest(frames, load_settings(ENV), registry)
    assert result.fills == live

    # The same window from the archive: relay journal -> bridge's database writer -> archiver -> Parquet.
    root = tmp_path / "archive"
    manifest = archive_relay(relay.out_path, {Exchange.BINANCE: producer.seqs[Exchange.BINANCE] - 1}, root)
    files = [m["path"] for m in manifest]
    archived = run_archive_backtest(str(root), load_settings(ENV), registry, window_start, time.time_ns(), files)
    assert archived.report["data"]["quotes"] == quotes  # one quote per book top, as the BBO frames were
    assert archived.report["data"]["trades"] == trades
    assert archived.fills == live
    # The stored report's fill rows (exact strings, in fill time order) are the same fills.
    rows = sorted(
        (f["instrument"], f["side"], Decimal(f["price"]), Decimal(f["quantity"])) for f in archived.report["fills"]
    )
    assert rows == sorted((f[0], f[1], Decimal(f[2]), Decimal(f[3])) for f in live)
