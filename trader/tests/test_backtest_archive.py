"""
The archive → backtest path on a real archive: frames through a real relay, stored by the bridge's database
writer, exported by the archiver, read back by ArchiveReader. What comes out equals what the live
FrameTranslator makes of the same frames (exact Price/Quantity, stream order, book validity), with quotes
derived from the archived book.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
from backtest_archive_kit import archive_relay
from conftest import Producer
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.archive import ArchiveError
from tapewire_trader.archive import ArchiveReader
from tapewire_trader.backtest import run_archive_backtest
from tapewire_trader.parsing import FrameTranslator
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.settings import load_settings
from tapewire_trader.wire import FLAG_ASK
from tapewire_trader.wire import FLAG_BEGIN
from tapewire_trader.wire import FLAG_END
from tapewire_trader.wire import FLAG_SNAPSHOT
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import FLAG_TAKER_SELL
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import FrameBatchDecoder
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status

BTCUSDT = InstrumentId.from_str("BTCUSDT.BINANCE")
MS = 1_000_000
B = Exchange.BINANCE
SNAP = FLAG_SNAPSHOT


def scenario(p: Producer, t0: int) -> bytes:
    """Book snapshot, deltas, trades both ways, a resync and a new snapshot: the bytes sent, in order."""
    f = p.frame
    chunks = [
        f(Kind.BOOK, SNAP | FLAG_BEGIN, B, 4, 10, 4200000, 10**8, t0),
        f(Kind.BOOK, SNAP | FLAG_ASK | FLAG_END, B, 4, 10, 4200100, 2 * 10**8, t0),
        f(Kind.TRADE, FLAG_TAKER_BUY, B, 4, 501, 4200100, 100_000, t0 + 1 * MS),
        f(Kind.BOOK, FLAG_END, B, 4, 11, 4200050, 5 * 10**7, t0 + 2 * MS),  # new best bid: a quote
        f(Kind.BOOK, FLAG_ASK | FLAG_END, B, 4, 12, 4200300, 10**8, t0 + 3 * MS),  # behind the top: no quote
        f(Kind.TRADE, FLAG_TAKER_SELL, B, 4, 502, 4200050, 300_000, t0 + 4 * MS),
        f(Kind.STATUS, Status.BOOK_RESYNC << 4, B, 4, 1, 0, 0, t0 + 5 * MS),
        f(Kind.BOOK, FLAG_END, B, 4, 13, 4199000, 10**8, t0 + 6 * MS),  # on an invalid book: dropped
        f(Kind.BOOK, SNAP | FLAG_BEGIN, B, 4, 20, 4199900, 3 * 10**8, t0 + 7 * MS),
        f(Kind.BOOK, SNAP | FLAG_ASK | FLAG_END, B, 4, 20, 4200000, 10**8, t0 + 7 * MS),
        f(Kind.TRADE, FLAG_TAKER_BUY, B, 4, 503, 4200000, 1, t0 + 8 * MS),  # finer than Binance's lot: refused
        f(Kind.TRADE, 0, B, 4, 504, 4200000, 12_300_000, t0 + 9 * MS),
    ]
    sent = b"".join(chunks)
    p.send(B, sent)
    return sent


@pytest.fixture
def archived(relay, producer: Producer, tmp_path: Path):
    t0 = (time.time_ns() // 1000) * 1000  # whole µs: the archive keeps `time` to the µs
    sent = scenario(producer, t0)
    root = tmp_path / "archive"
    manifest = archive_relay(relay.out_path, {B: producer.seqs[B] - 1}, root)
    return t0, sent, root, manifest


def live_translation(sent: bytes, registry) -> list:
    provider = TapewireInstrumentProvider()
    provider.load_registry(registry)
    translator = FrameTranslator(provider.spec)
    key = (int(B), 4)
    translator.trades.add(key)
    translator.subscribe_book(key)
    out: list = []
    translator.translate(FrameBatchDecoder().feed(sent), out)
    return out


def delta_fields(d: OrderBookDeltas) -> list[tuple]:
    def order(x) -> tuple:
        return (x.order.side, str(x.order.price), str(x.order.size)) if x.order else (None, None, None)

    return [(x.action, *order(x), x.flags, x.sequence, x.ts_init) for x in d.deltas]


def trade_fields(t: TradeTick) -> tuple:
    return (t.instrument_id, str(t.price), str(t.size), t.aggressor_side, t.trade_id.value, t.ts_event, t.ts_init)


def test_the_archive_reads_back_as_the_live_stream_translates_the_frames(archived, registry):
    t0, sent, root, manifest = archived
    datasets = {m["dataset"] for m in manifest}
    assert {"trades", "book_changes", "feed_events"} <= datasets, manifest
    data = ArchiveReader(root, registry, [m["path"] for m in manifest]).read([BTCUSDT], t0 - MS, t0 + 10 * MS)
    live = live_translation(sent, registry)

    live_trades = [trade_fields(t) for t in live if isinstance(t, TradeTick)]
    assert [trade_fields(t) for t in data.trades] == live_trades
    assert [t[4] for t in live_trades] == ["501", "502", "504"]  # 503 is finer than the lot size, as live
    assert [(t[1], t[2]) for t in live_trades] == [
        ("42001.00", "0.00100"),
        ("42000.50", "0.00300"),
        ("42000.00", "0.12300"),
    ]
    assert str(data.trades[0].price.precision) == "2" and data.trades[0].size.precision == 5

    live_deltas = [delta_fields(d) for d in live if isinstance(d, OrderBookDeltas)]
    assert [delta_fields(d) for d in data.deltas] == live_deltas
    # snapshot, bid update, ask update, CLEAR on the resync, the new snapshot (the delta in between dropped)
    assert len(live_deltas) == 5 and live_deltas[3][0][0] == BookAction.CLEAR

    names = [s.data.name for s in data.statuses]
    assert names == ["collector_start", "book_resync"]
    # Quotes from the archived book: its top after each update that changed it.
    quotes = [(str(q.bid_price), str(q.bid_size), str(q.ask_price), str(q.ask_size), q.ts_init) for q in data.quotes]
    assert quotes == [
        ("42000.00", "1.00000", "42001.00", "2.00000", t0),
        ("42000.50", "0.50000", "42001.00", "2.00000", t0 + 2 * MS),
        ("41999.00", "3.00000", "42000.00", "1.00000", t0 + 7 * MS),
    ]
    # In stream order: each kind sorted by receive time.
    assert [d.ts_init for d in data.market(book=True)] == sorted(d.ts_init for d in data.market(book=True))


def test_a_window_that_starts_mid_book_is_warmed_from_the_last_snapshot(archived, registry):
    t0, _sent, root, manifest = archived
    data = ArchiveReader(root, registry, [m["path"] for m in manifest]).read([BTCUSDT], t0 + 3 * MS, t0 + 8 * MS)
    assert [t.trade_id.value for t in data.trades] == ["502"]
    # The book was valid from the snapshot before the window: the ask update applies, the resync CLEARs it.
    actions = [[x.action for x in d.deltas] for d in data.deltas]
    assert actions[0] == [BookAction.UPDATE]
    assert actions[1] == [BookAction.CLEAR]
    assert [s.data.name for s in data.statuses] == ["book_resync"]
    # The first quote in the window is the warmed-up top after the in-window update.
    assert (str(data.quotes[0].bid_price), str(data.quotes[0].ask_price)) == ("42000.50", "42001.00")


def test_decimals_that_disagree_with_the_registry_are_refused(archived, registry):
    t0, _sent, root, manifest = archived
    changed = copy.deepcopy(registry)
    entry = next(e for e in changed if e["id"] == 4)
    entry["priceDecimals"] = 3
    with pytest.raises(ArchiveError, match="decimals"):
        ArchiveReader(root, changed, [m["path"] for m in manifest]).read([BTCUSDT], t0, t0 + 10 * MS)
    with pytest.raises(ArchiveError, match="does not exist"):
        ArchiveReader(root / "missing", registry)


def test_an_archive_backtest_runs_the_strategy_on_the_archived_data_and_statuses(archived, registry):
    t0, _sent, root, manifest = archived
    env = {
        "TRADER_STRATEGY": "market_maker",
        "TRADER_VENUES": "BINANCE",
        "TRADER_INSTRUMENT": "BTC-USDT",
        "TRADER_TRADE_SIZE": "0.001",
        "TRADER_HALF_SPREAD_BPS": "1",
        "TRADER_LOG_LEVEL": "ERROR",
    }
    files = [m["path"] for m in manifest]
    result = run_archive_backtest(str(root), load_settings(env), registry, t0, t0 + 10 * MS, files)
    report = result.report
    assert report["data"]["trades"] == 3 and report["data"]["quotes"] == 3
    assert report["data"]["files"] and set(report["data"]["files"]) <= set(files)
    # The archived collector_start reaches the strategy: FeedGuard sits out its 2 s cooldown, so no orders.
    assert report["stats"]["orders"] == len(report["orders"]) == 0
    assert report["stats"]["fills"] == len(report["fills"]) == len(result.fills) == 0
    assert report["stats"]["startEquity"] == "100000"
    assert report["equity"] and all(isinstance(p["equity"], str) for p in report["equity"])
