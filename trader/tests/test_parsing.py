"""Frames to Nautilus data: ticks, quotes, book deltas with their flags, and book validity across gaps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.parsing import FrameTranslator
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.wire import FLAG_ASK
from tapewire_trader.wire import FLAG_BACKFILL
from tapewire_trader.wire import FLAG_BEGIN
from tapewire_trader.wire import FLAG_END
from tapewire_trader.wire import FLAG_SNAPSHOT
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import FLAG_TAKER_SELL
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Frame
from tapewire_trader.wire import FrameBatchDecoder
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status
from tapewire_trader.wire import encode_frame

BINANCE = Exchange.BINANCE
KRAKEN = Exchange.KRAKEN
BTC_USDT = 4  # registry id; BTCUSDT on Binance: price precision 2, size 5 (frames: 2 and 8 decimals)
BTC_USD = 1  # BTC/USD on Kraken: price precision 1 (frames: 2 decimals)
F_LAST = int(RecordFlag.F_LAST)
F_SNAPSHOT = int(RecordFlag.F_SNAPSHOT)
T0 = 1_700_000_000_000_000_000


def raw(kind, flags, exchange, inst, seq=1, id_=0, price=0, size=0, tsx=T0, tsr=T0 + 5):
    return (kind | flags, 0x10 | exchange, inst, seq, id_, price, size, tsx, tsr)


def level(flags, price, size, exchange=BINANCE, inst=BTC_USDT, seq=1):
    return raw(Kind.BOOK, flags, exchange, inst, seq=seq, price=price, size=size)


def status(code, exchange=BINANCE, inst=0, detail=0, count=0):
    return raw(Kind.STATUS, code << 4, exchange, inst, id_=detail, price=count, tsx=0)


@pytest.fixture
def tr(provider) -> FrameTranslator:
    t = FrameTranslator(provider.spec)
    for key in ((BINANCE, BTC_USDT), (KRAKEN, BTC_USD)):
        t.trades.add(key)
        t.quotes.add(key)
        t.subscribe_book(key)
    return t


def run(tr, *frames):
    out: list = []
    tr.translate(frames, out)
    return out


def test_trades_carry_aggressor_trade_id_exact_values_and_both_timestamps(tr):
    out = run(
        tr,
        raw(Kind.TRADE, FLAG_TAKER_BUY, BINANCE, BTC_USDT, id_=123456789, price=4200012, size=150000),
        raw(Kind.TRADE, FLAG_TAKER_SELL, BINANCE, BTC_USDT, id_=2**63 + 5, price=4200000, size=1000),
        raw(Kind.TRADE, 0, BINANCE, BTC_USDT, id_=7, price=4200000, size=1000, tsx=0),
        raw(Kind.TRADE, FLAG_BACKFILL | FLAG_TAKER_BUY, BINANCE, BTC_USDT, id_=8, price=4200000, size=1000),
    )
    assert all(isinstance(t, TradeTick) for t in out)
    buy, sell, unknown, backfill = out
    assert buy.instrument_id == InstrumentId.from_str("BTCUSDT.BINANCE")
    assert buy.aggressor_side == AggressorSide.BUYER and sell.aggressor_side == AggressorSide.SELLER
    assert unknown.aggressor_side == AggressorSide.NO_AGGRESSOR
    assert backfill.aggressor_side == AggressorSide.BUYER
    assert str(buy.trade_id) == "123456789" and str(sell.trade_id) == str(2**63 + 5)
    # Venue precision: price 2 decimals, size 5 (the frame's 8-decimal 150000 = 0.00150000).
    assert buy.price.as_decimal() == Decimal("42000.12") and buy.price.precision == 2
    assert buy.size.as_decimal() == Decimal("0.00150") and buy.size.precision == 5
    assert (buy.ts_event, buy.ts_init) == (T0, T0 + 5)
    assert unknown.ts_event == T0 + 5  # no exchange time: receive time stands in


def test_a_value_finer_than_the_venue_allows_is_refused_not_rounded(tr):
    # Kraken BTC/USD has price precision 1: 42000.12 cannot be represented; 42000.10 can.
    out = run(
        tr,
        raw(Kind.TRADE, FLAG_TAKER_BUY, KRAKEN, BTC_USD, id_=1, price=4200012, size=100000000),
        raw(Kind.TRADE, FLAG_TAKER_BUY, KRAKEN, BTC_USD, id_=2, price=4200010, size=100000000),
    )
    assert len(out) == 1 and out[0].price.as_decimal() == Decimal("42000.1") and out[0].price.precision == 1
    assert tr.counters.unrepresentable == 1


def test_unsubscribed_or_unknown_instruments_publish_nothing(tr):
    assert run(tr, raw(Kind.TRADE, FLAG_TAKER_BUY, BINANCE, 5, id_=1, price=1, size=1)) == []
    tr.trades.add((BINANCE, 999))
    assert run(tr, raw(Kind.TRADE, FLAG_TAKER_BUY, BINANCE, 999, id_=1, price=1, size=1)) == []
    assert tr.counters.unknown_instrument == 1


def test_bbo_pairs_become_quote_ticks(tr):
    out = run(
        tr,
        raw(Kind.BBO, 0, BINANCE, BTC_USDT, price=4200000, size=200000),
        raw(Kind.BBO, FLAG_ASK | FLAG_END, BINANCE, BTC_USDT, price=4200100, size=300000),
        raw(Kind.BBO, FLAG_ASK | FLAG_END, BINANCE, BTC_USDT, price=4200100, size=300000),  # no bid before it
    )
    assert len(out) == 1 and isinstance(out[0], QuoteTick)
    q = out[0]
    assert q.bid_price.as_decimal() == Decimal("42000.00") and q.ask_price.as_decimal() == Decimal("42001.00")
    assert q.bid_size.as_decimal() == Decimal("0.00200") and q.ask_size.as_decimal() == Decimal("0.00300")
    assert (q.ts_event, q.ts_init) == (T0, T0 + 5)
    assert tr.counters.orphan_ask == 1


def snapshot(*levels):
    """levels: (ask?, price, size); flags as the collectors write them."""
    frames = []
    for i, (ask, price, size) in enumerate(levels):
        flags = FLAG_SNAPSHOT | (FLAG_ASK if ask else 0)
        if i == 0:
            flags |= FLAG_BEGIN
        if i == len(levels) - 1:
            flags |= FLAG_END
        frames.append(level(flags, price, size))
    return frames


def deltas_of(out):
    return [d for x in out if isinstance(x, OrderBookDeltas) for d in x.deltas]


def test_snapshot_clear_first_flags_and_a_book_that_matches(tr):
    snap = run(tr, *snapshot((False, 4200000, 100000), (False, 4199900, 200000), (True, 4200100, 300000)))
    assert len(snap) == 1 and isinstance(snap[0], OrderBookDeltas)
    ds = snap[0].deltas
    assert [d.action for d in ds] == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD, BookAction.ADD]
    assert all(d.flags & F_SNAPSHOT for d in ds)
    assert [bool(d.flags & F_LAST) for d in ds] == [False, False, False, True]
    assert tr.book_valid((BINANCE, BTC_USDT))
    # An update message: one delta per level, F_LAST on the apply point only.
    update = run(tr, level(0, 4199900, 0, seq=2), level(FLAG_ASK | FLAG_END, 4200200, 50000, seq=3))
    assert len(update) == 1
    ds2 = update[0].deltas
    assert [d.action for d in ds2] == [BookAction.DELETE, BookAction.UPDATE]
    assert [d.flags for d in ds2] == [0, F_LAST]
    book = OrderBook(InstrumentId.from_str("BTCUSDT.BINANCE"), BookType.L2_MBP)
    book.apply_deltas(snap[0])
    book.apply_deltas(update[0])
    assert [(float(p.price), float(p.size())) for p in book.bids()] == [(42000.0, 0.001)]
    assert [(float(p.price), float(p.size())) for p in book.asks()] == [(42001.0, 0.003), (42002.0, 0.0005)]


def test_empty_snapshot_is_one_clear_with_last(tr):
    out = run(tr, level(FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END, 0, 0))
    (d,) = deltas_of(out)
    assert d.action == BookAction.CLEAR and d.flags == F_SNAPSHOT | F_LAST
    assert tr.book_valid((BINANCE, BTC_USDT))


def test_a_new_book_waits_for_its_first_snapshot(tr):
    assert not tr.book_valid((BINANCE, BTC_USDT))
    assert run(tr, level(FLAG_END, 4200000, 100000)) == []
    assert tr.counters.dropped_invalid_book == 1


@pytest.mark.parametrize(
    ("frame", "what"),
    [
        (status(Status.BOOK_RESYNC, inst=BTC_USDT, detail=1), "resync of the symbol"),
        (status(Status.GAP, inst=BTC_USDT, detail=10, count=3), "gap on the symbol"),
        (status(Status.GAP, inst=0, detail=10, count=3), "gap on the whole connection"),
        (status(Status.RELAY_GAP, detail=10, count=3), "frames lost before the relay"),
        (status(Status.COLLECTOR_START, detail=42), "collector restart"),
        (status(Status.BUFFER_OVERFLOW, count=9), "collector buffer overflow"),
        (status(Status.SLOW_CONSUMER, count=9), "this consumer was cut"),
        (status(Status.DISCONNECTED, detail=1), "collector lost the exchange"),
    ],
)
def test_loss_clears_the_book_and_marks_it_invalid_until_resnapshot(tr, frame, what):
    run(tr, *snapshot((False, 4200000, 100000), (True, 4200100, 300000)))
    out = run(tr, frame)
    clears = deltas_of(out)
    assert [(d.action, d.flags) for d in clears] == [(BookAction.CLEAR, F_LAST)], what
    (note,) = [x for x in out if isinstance(x, CustomData)]
    assert note.data.book_valid is False, what
    assert not tr.book_valid((BINANCE, BTC_USDT)), what
    assert run(tr, level(FLAG_END, 4200000, 5)) == [], what  # updates on a broken book are dropped
    run(tr, *snapshot((False, 4200000, 100000)))
    assert tr.book_valid((BINANCE, BTC_USDT)), what


def test_loss_on_another_exchange_or_symbol_leaves_the_book_alone(tr):
    run(tr, *snapshot((False, 4200000, 100000)))
    out = run(tr, status(Status.RELAY_GAP, exchange=KRAKEN), status(Status.BOOK_RESYNC, inst=5))
    assert deltas_of(out) == []
    assert tr.book_valid((BINANCE, BTC_USDT))


def test_statuses_reach_strategies_as_data(tr):
    out = run(
        tr,
        status(Status.STALE, inst=BTC_USDT, detail=1500),
        status(Status.HEARTBEAT),
        status(Status.TRADE_GAP, inst=BTC_USDT, detail=100, count=2),
    )
    notes = [x.data for x in out if isinstance(x, CustomData)]
    assert [(n.name, n.code, n.venue, n.instrument, n.detail, n.count) for n in notes] == [
        ("stale", 3, "BINANCE", "BTCUSDT.BINANCE", 1500, 0),
        ("trade_gap", 8, "BINANCE", "BTCUSDT.BINANCE", 100, 2),
    ]
    assert notes[0].ts_init == T0 + 5 and notes[0].ts_event == T0 + 5


def test_lost_relay_connection_invalidates_every_book(tr):
    run(tr, *snapshot((False, 4200000, 100000)))
    out: list = []
    tr.connection_lost(T0, out)
    assert [(d.action, d.flags) for d in deltas_of(out)] == [(BookAction.CLEAR, F_LAST)]
    assert out[-1].data.name == "relay_disconnected" and out[-1].data.book_valid is False
    assert not tr.book_valid((BINANCE, BTC_USDT))


frames_any = st.tuples(
    st.integers(1, 4),
    st.sampled_from(range(0, 256, 16)),
    st.sampled_from([1, 3]),
    st.sampled_from([0, BTC_USD, BTC_USDT, 7, 999]),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**53 - 1),
    st.integers(0, 2**53 - 1),
    st.integers(0, 2**63 - 1),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(frames_any, max_size=60))
def test_any_accepted_frame_sequence_translates_without_raising(registry, batch):
    # An exception here would reach the DataEngine, which stops the whole node: never allowed.
    provider = TapewireInstrumentProvider()
    provider.load_registry(registry)
    t = FrameTranslator(provider.spec)
    for key in ((BINANCE, BTC_USDT), (KRAKEN, BTC_USD), (KRAKEN, 7)):
        t.trades.add(key)
        t.quotes.add(key)
        t.subscribe_book(key)
    decoder = FrameBatchDecoder()
    stream = b"".join(
        encode_frame(Frame(k, fl, ex, inst, seq, id_, p, sz, ts, ts)) for k, fl, ex, inst, seq, id_, p, sz, ts in batch
    )
    out: list = []
    t.translate(decoder.feed(stream), out)
    for x in out:
        if isinstance(x, OrderBookDeltas):
            assert x.deltas[-1].flags & F_LAST
