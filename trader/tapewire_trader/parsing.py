"""
Frames to NautilusTrader data: TradeTick, QuoteTick (from a BBO pair), OrderBookDeltas (one per exchange
update, ending at each apply point) and TapewireStatus. Pure: it returns objects, the client publishes them.

Book integrity: a book is valid only after a full snapshot (F_SNAPSHOT run) was seen. A gap, resync,
collector restart, lost relay connection or a value that cannot be read exactly at the venue's precision
publishes a CLEAR (F_LAST) and marks the book invalid; its updates are dropped (counted) until the next
snapshot begins, since deltas applied to a book with holes would produce a wrong book.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import TradeId

from tapewire_trader.core import VENUE_BY_EXCHANGE
from tapewire_trader.providers import InstrumentSpec
from tapewire_trader.types import TAPEWIRE_STATUS
from tapewire_trader.types import TapewireStatus
from tapewire_trader.wire import FLAG_ASK
from tapewire_trader.wire import FLAG_BEGIN
from tapewire_trader.wire import FLAG_END
from tapewire_trader.wire import FLAG_SNAPSHOT
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import FLAG_TAKER_SELL
from tapewire_trader.wire import STATUS_NAMES
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status

Key = tuple[int, int]  # (exchange code, wire instrument id)
RawFrame = tuple[int, int, int, int, int, int, int, int, int]

F_LAST = int(RecordFlag.F_LAST)
F_SNAPSHOT = int(RecordFlag.F_SNAPSHOT)

# Feed-wide statuses after which no book of that exchange can be trusted (frames were or may be lost).
_INVALIDATE_EXCHANGE = frozenset(
    {Status.COLLECTOR_START, Status.RELAY_GAP, Status.SLOW_CONSUMER, Status.BUFFER_OVERFLOW, Status.DISCONNECTED},
)
# Per-symbol statuses that invalidate that symbol's book (a gap at instrument 0 invalidates the exchange).
_INVALIDATE_BOOK = frozenset({Status.BOOK_RESYNC, Status.GAP, Status.UNREPRESENTABLE})
# Noise strategies do not need on the bus.
_QUIET = frozenset({Status.HEARTBEAT, Status.ACK})


@dataclass(slots=True)
class BookState:
    valid: bool = False
    in_snapshot: bool = False
    # (action, side, price, size, flags, sequence, ts_event, ts_init) of the exchange update being built.
    pending: list[tuple] = field(default_factory=list)


@dataclass(slots=True)
class TranslatorCounters:
    trades: int = 0
    quotes: int = 0
    deltas: int = 0
    statuses: int = 0
    unknown_instrument: int = 0
    unrepresentable: int = 0
    dropped_invalid_book: int = 0
    orphan_ask: int = 0


class FrameTranslator:
    def __init__(self, spec_of: Callable[[int, int], InstrumentSpec | None]) -> None:
        self._spec_of = spec_of
        self.trades: set[Key] = set()
        self.quotes: set[Key] = set()
        self.books: dict[Key, BookState] = {}
        self._bids: dict[Key, tuple[int, int]] = {}
        self.counters = TranslatorCounters()

    # Subscriptions -------------------------------------------------------------------------------------

    def subscribe_book(self, key: Key) -> None:
        # A new subscriber has seen no snapshot yet: the book is invalid until one arrives.
        self.books.setdefault(key, BookState())

    def unsubscribe_book(self, key: Key) -> None:
        self.books.pop(key, None)

    def book_valid(self, key: Key) -> bool:
        state = self.books.get(key)
        return state is not None and state.valid

    # Translation ---------------------------------------------------------------------------------------

    def translate(self, frames: Iterable[RawFrame], out: list) -> None:
        for t in frames:
            kind = t[0] & 0x0F
            if kind == Kind.TRADE:
                if (t[1] & 0x0F, t[2]) in self.trades:
                    self._trade(t, out)
            elif kind == Kind.BOOK:
                state = self.books.get((t[1] & 0x0F, t[2]))
                if state is not None:
                    self._level(t, state, out)
            elif kind == Kind.BBO:
                if (t[1] & 0x0F, t[2]) in self.quotes:
                    self._bbo(t, out)
            else:
                self._status(t, out)

    def connection_lost(self, ts_ns: int, out: list) -> None:
        """The relay link dropped: anything may have been missed, on every exchange."""
        self._bids.clear()
        for key, state in self.books.items():
            self._invalidate(key, state, ts_ns, ts_ns, 0, out)
        out.append(self._status_data(int(Status.DISCONNECTED), "relay_disconnected", 0, 0, 0, 0, ts_ns, ts_ns, False))

    def _trade(self, t: RawFrame, out: list) -> None:
        b0, b1, inst, _seq, trade_id, price, size, tsx, tsr = t
        spec = self._spec_of(b1 & 0x0F, inst)
        if spec is None:
            self.counters.unknown_instrument += 1
            return
        p = spec.price(price)
        q = spec.quantity(size)
        if p is None or q is None:
            self.counters.unrepresentable += 1
            return
        flags = b0 & 0xF0
        side = (
            AggressorSide.BUYER
            if flags & FLAG_TAKER_BUY
            else AggressorSide.SELLER
            if flags & FLAG_TAKER_SELL
            else AggressorSide.NO_AGGRESSOR
        )
        out.append(TradeTick(spec.instrument.id, p, q, side, TradeId(str(trade_id)), tsx or tsr, tsr))
        self.counters.trades += 1

    def _bbo(self, t: RawFrame, out: list) -> None:
        b0, b1, inst, _seq, _id, price, size, tsx, tsr = t
        key = (b1 & 0x0F, inst)
        if not b0 & FLAG_ASK:
            self._bids[key] = (price, size)
            return
        bid = self._bids.pop(key, None)
        if bid is None or not b0 & FLAG_END:
            self.counters.orphan_ask += 1
            return
        spec = self._spec_of(key[0], inst)
        if spec is None:
            self.counters.unknown_instrument += 1
            return
        bp, bs, ap, az = spec.price(bid[0]), spec.quantity(bid[1]), spec.price(price), spec.quantity(size)
        if bp is None or bs is None or ap is None or az is None:
            self.counters.unrepresentable += 1
            return
        out.append(QuoteTick(spec.instrument.id, bp, ap, bs, az, tsx or tsr, tsr))
        self.counters.quotes += 1

    def _level(self, t: RawFrame, state: BookState, out: list) -> None:
        b0, b1, inst, seq, _id, price, size, tsx, tsr = t
        key = (b1 & 0x0F, inst)
        flags = b0 & 0xF0
        ts_event = tsx or tsr
        if flags & FLAG_BEGIN:
            state.in_snapshot = True
            state.pending = [(BookAction.CLEAR, 0, 0, 0, F_SNAPSHOT, seq, ts_event, tsr)]
        elif not state.valid and not state.in_snapshot:
            self.counters.dropped_invalid_book += 1
            return
        snapshot = bool(flags & FLAG_SNAPSHOT)
        if size or not snapshot:  # an empty snapshot is the begin/end frame alone, with size 0
            action = BookAction.ADD if snapshot else BookAction.UPDATE if size else BookAction.DELETE
            side = OrderSide.SELL if flags & FLAG_ASK else OrderSide.BUY
            state.pending.append((action, side, price, size, F_SNAPSHOT if snapshot else 0, seq, ts_event, tsr))
        if flags & FLAG_END:
            self._apply_point(key, state, out)

    def _apply_point(self, key: Key, state: BookState, out: list) -> None:
        pending = state.pending
        state.pending = []
        spec = self._spec_of(*key)
        if spec is None:
            self.counters.unknown_instrument += 1
            return
        iid = spec.instrument.id
        deltas = []
        last = len(pending) - 1
        for i, (action, side, price, size, flags, seq, ts_event, ts_init) in enumerate(pending):
            if i == last:
                flags |= F_LAST
            if action == BookAction.CLEAR:
                deltas.append(OrderBookDelta(iid, action, None, flags, seq, ts_event, ts_init))
                continue
            p = spec.price(price)
            q = spec.quantity(size)
            if p is None or q is None:
                self.counters.unrepresentable += 1
                self._invalidate(key, state, ts_event, ts_init, seq, out)
                return
            order = BookOrder(side, p, q, 0)
            deltas.append(OrderBookDelta(iid, action, order, flags, seq, ts_event, ts_init))
        if not deltas:
            return
        if state.in_snapshot:
            state.in_snapshot = False
            state.valid = True
        out.append(OrderBookDeltas(iid, deltas))
        self.counters.deltas += len(deltas)

    def _invalidate(self, key: Key, state: BookState, ts_event: int, ts_init: int, seq: int, out: list) -> None:
        state.pending = []
        state.in_snapshot = False
        if not state.valid:
            return
        state.valid = False
        spec = self._spec_of(*key)
        if spec is not None:
            iid = spec.instrument.id
            clear = OrderBookDelta(iid, BookAction.CLEAR, None, F_LAST, seq, ts_event, ts_init)
            out.append(OrderBookDeltas(iid, [clear]))

    def _status(self, t: RawFrame, out: list) -> None:
        b0, b1, inst, seq, detail, count, _size, tsx, tsr = t
        code = b0 >> 4
        exchange = b1 & 0x0F
        ts_event = tsx or tsr
        if inst == 0 and (code in _INVALIDATE_EXCHANGE or code == Status.GAP):
            for key, state in self.books.items():
                if key[0] == exchange:
                    self._invalidate(key, state, ts_event, tsr, seq, out)
        elif code in _INVALIDATE_BOOK:
            state = self.books.get((exchange, inst))
            if state is not None:
                self._invalidate((exchange, inst), state, ts_event, tsr, seq, out)
        if code in _QUIET:
            return
        spec = self._spec_of(exchange, inst) if inst else None
        book_valid = (
            self.book_valid((exchange, inst))
            if inst
            else all(s.valid for k, s in self.books.items() if k[0] == exchange)
        )
        name = STATUS_NAMES.get(code, f"status_{code}")
        status = self._status_data(code, name, exchange, inst, detail, count, ts_event, tsr, book_valid, spec)
        out.append(status)

    def _status_data(
        self,
        code: int,
        name: str,
        exchange: int,
        inst: int,
        detail: int,
        count: int,
        ts_event: int,
        ts_init: int,
        book_valid: bool,
        spec: InstrumentSpec | None = None,
    ) -> CustomData:
        self.counters.statuses += 1
        venue = VENUE_BY_EXCHANGE.get(exchange)
        status = TapewireStatus(
            ts_event,
            ts_init,
            code=code,
            name=name,
            venue=venue.value if venue else "",
            instrument=spec.instrument.id.value if spec else "",
            detail=detail,
            count=count,
            book_valid=book_valid,
        )
        return CustomData(TAPEWIRE_STATUS, status)
