"""
The tapewire wire frame (docs/wire-format.md): 48 bytes, little-endian, one struct.

schema/frame.ts is the contract. This module is its Python reading, and tests/test_wire.py holds it to
that contract two ways: every constant here against ``bun trader/schema-export.ts`` (the TypeScript
definitions themselves), and every byte against the golden vectors in schema/golden/frames.json.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

import numpy as np

WIRE_VERSION = 1

# kind|flags u8, version|exchange u8, instrument u16, seq u32, id u64, price i64, size i64,
# ts_exchange i64, ts_recv i64.
FRAME = struct.Struct("<BBHIQqqqq")
FRAME_SIZE = FRAME.size

# Field offsets implied by FRAME (checked against schema/frame.ts FrameOffset in the tests).
OFFSETS = {
    "kindFlags": 0,
    "versionExchange": 1,
    "instrument": 2,
    "seq": 4,
    "id": 8,
    "price": 16,
    "size": 24,
    "tsExchange": 32,
    "tsRecv": 40,
}


class Kind(IntEnum):
    TRADE = 1
    BOOK = 2
    BBO = 3
    STATUS = 4


class Exchange(IntEnum):
    KRAKEN = 1
    COINBASE = 2
    BINANCE = 3


class Status(IntEnum):
    COLLECTOR_START = 0
    CONNECTED = 1
    DISCONNECTED = 2
    STALE = 3
    FRESH = 4
    BOOK_RESYNC = 5
    GAP = 6
    HEARTBEAT = 7
    TRADE_GAP = 8
    RELAY_GAP = 9
    SLOW_CONSUMER = 10
    BUFFER_OVERFLOW = 11
    BOOK_SYNCED = 12
    UNREPRESENTABLE = 13
    ACK = 14


class FrameError(IntEnum):
    NONE = 0
    BAD_VERSION = 1
    UNKNOWN_KIND = 2
    UNKNOWN_EXCHANGE = 3
    TRUNCATED = 4
    UNKNOWN_STATUS = 5
    UNKNOWN_FLAGS = 6
    BAD_PRICE = 7
    BAD_SIZE = 8


# Flags: the high nibble of byte 0, meaning per kind.
FLAG_TAKER_BUY = 0x10
FLAG_TAKER_SELL = 0x20
FLAG_BACKFILL = 0x40
FLAG_ASK = 0x10
FLAG_SNAPSHOT = 0x20
FLAG_BEGIN = 0x40
FLAG_END = 0x80

# Value rules (schema/frame.ts valueError): mantissas within what every process reads exactly.
MAX_MANTISSA = 2**53 - 1
MAX_STATUS = Status.ACK
KNOWN_FLAGS = (
    0,
    FLAG_TAKER_BUY | FLAG_TAKER_SELL | FLAG_BACKFILL,
    FLAG_ASK | FLAG_SNAPSHOT | FLAG_BEGIN | FLAG_END,
    FLAG_ASK | FLAG_END,
    0xF0,
)


class ResyncReason(IntEnum):
    """The ``id`` (detail) of a book_resync status frame."""

    CHECKSUM = 1
    SEQUENCE_GAP = 2
    CROSSED_BOOK = 3
    RECONNECT = 4
    REQUESTED = 5
    BAD_CHECKSUM_FIELD = 6
    BAD_LEVEL = 7


# Flag bit names per kind, in bit order (status frames carry a code instead).
FLAG_NAMES: dict[int, tuple[tuple[int, str], ...]] = {
    Kind.TRADE: ((FLAG_TAKER_BUY, "taker_buy"), (FLAG_TAKER_SELL, "taker_sell"), (FLAG_BACKFILL, "backfill")),
    Kind.BOOK: ((FLAG_ASK, "ask"), (FLAG_SNAPSHOT, "snapshot"), (FLAG_BEGIN, "begin"), (FLAG_END, "end")),
    Kind.BBO: ((FLAG_ASK, "ask"), (FLAG_END, "end")),
}

KIND_NAMES = {k.value: k.name.lower() for k in Kind}
EXCHANGE_NAMES = {e.value: e.name.lower() for e in Exchange}
STATUS_NAMES = {s.value: s.name.lower() for s in Status}
RESYNC_REASON_NAMES = {r.value: r.name.lower() for r in ResyncReason}


def flag_names(kind: int, flags: int) -> list[str]:
    """The flag bits set that have a meaning for the kind (tools, logs, the golden vectors)."""
    return [name for bit, name in FLAG_NAMES.get(kind, ()) if flags & bit]


class Frame(NamedTuple):
    """One frame as plain fields (tools, tests, the edges); the hot path works on raw tuples."""

    kind: int
    flags: int
    exchange: int
    instrument: int
    seq: int
    id: int
    price: int
    size: int
    ts_exchange: int
    ts_recv: int
    version: int = WIRE_VERSION

    @property
    def status(self) -> int:
        """Status frames carry their code in the flag nibble."""
        return self.flags >> 4


def encode_frame(f: Frame) -> bytes:
    return FRAME.pack(
        (f.kind & 0x0F) | (f.flags & 0xF0),
        ((f.version & 0x0F) << 4) | (f.exchange & 0x0F),
        f.instrument,
        f.seq & 0xFFFFFFFF,
        f.id,
        f.price,
        f.size,
        f.ts_exchange,
        f.ts_recv,
    )


def head_error(b0: int, b1: int) -> FrameError:
    """validateFrame's rule on a frame's first two bytes; never raises."""
    if b1 >> 4 != WIRE_VERSION:
        return FrameError.BAD_VERSION
    kind = b0 & 0x0F
    if kind < Kind.TRADE or kind > Kind.STATUS:
        return FrameError.UNKNOWN_KIND
    ex = b1 & 0x0F
    if ex < Exchange.KRAKEN or ex > Exchange.BINANCE:
        return FrameError.UNKNOWN_EXCHANGE
    return FrameError.NONE


def value_error(b0: int, price: int, size: int) -> FrameError:
    """
    schema/frame.ts valueError on decoded fields (the header must be valid): a status code must be known;
    flags must mean something for the kind (a trade not both sides); then price, then size: each at most
    MAX_MANTISSA, not negative, and at least 1 on a trade.
    """
    kind = b0 & 0x0F
    if kind == Kind.STATUS:
        return FrameError.UNKNOWN_STATUS if b0 >> 4 > MAX_STATUS else FrameError.NONE
    flags = b0 & 0xF0
    if flags & ~KNOWN_FLAGS[kind] or (kind == Kind.TRADE and (flags & _BOTH_SIDES) == _BOTH_SIDES):
        return FrameError.UNKNOWN_FLAGS
    low = 1 if kind == Kind.TRADE else 0
    if not low <= price <= MAX_MANTISSA:
        return FrameError.BAD_PRICE
    if not low <= size <= MAX_MANTISSA:
        return FrameError.BAD_SIZE
    return FrameError.NONE


_BOTH_SIDES = FLAG_TAKER_BUY | FLAG_TAKER_SELL


def validate_frame(buf: bytes | memoryview, offset: int = 0) -> FrameError:
    """Header, then values: what the codec accepts. Never raises."""
    if offset + FRAME_SIZE > len(buf):
        return FrameError.TRUNCATED
    head = head_error(buf[offset], buf[offset + 1])
    if head != FrameError.NONE:
        return head
    b0, _b1, _i, _s, _id, price, size, _tx, _tr = FRAME.unpack_from(buf, offset)
    return value_error(b0, price, size)


def decode_frame(buf: bytes | memoryview, offset: int = 0) -> Frame:
    """Decode one frame to fields; raises ValueError on a short buffer (use validate_frame first)."""
    if offset + FRAME_SIZE > len(buf):
        raise ValueError(f"frame at {offset} is truncated: {len(buf) - offset} of {FRAME_SIZE} bytes")
    b0, b1, inst, seq, fid, price, size, tsx, tsr = FRAME.unpack_from(buf, offset)
    return Frame(b0 & 0x0F, b0 & 0xF0, b1 & 0x0F, inst, seq, fid, price, size, tsx, tsr, b1 >> 4)


# The same layout as FRAME, for whole-batch work in numpy (decode and validate a socket read at once).
FRAME_DTYPE = np.dtype(
    [
        ("b0", "u1"),
        ("b1", "u1"),
        ("instrument", "<u2"),
        ("seq", "<u4"),
        ("id", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("ts_exchange", "<i8"),
        ("ts_recv", "<i8"),
    ],
)
assert FRAME_DTYPE.itemsize == FRAME_SIZE
_KNOWN_FLAGS = np.array([*KNOWN_FLAGS] + [0] * (16 - len(KNOWN_FLAGS)), dtype=np.uint8)  # by kind 0..15


def accepted_mask(arr: np.ndarray) -> np.ndarray:
    """validate_frame(...) == NONE for every frame of a structured batch, vectorised (same rules)."""
    b0 = arr["b0"]
    b1 = arr["b1"]
    kind = b0 & 0x0F
    flags = b0 & 0xF0
    head = (b1 >= 0x11) & (b1 <= 0x13) & (kind >= Kind.TRADE) & (kind <= Kind.STATUS)
    status_ok = (b0 >> 4) <= MAX_STATUS
    trade = kind == Kind.TRADE
    flags_ok = ((flags & ~_KNOWN_FLAGS[kind]) == 0) & ~(trade & ((flags & _BOTH_SIDES) == _BOTH_SIDES))
    low = trade.astype(np.int64)
    price = arr["price"]
    size = arr["size"]
    values = flags_ok & (price >= low) & (price <= MAX_MANTISSA) & (size >= low) & (size <= MAX_MANTISSA)
    return head & np.where(kind == Kind.STATUS, status_ok, values)


class FrameBatchDecoder:
    """
    Stream reassembly for socket reads: the whole frames of each chunk decoded and validated in one numpy
    pass, a partial frame carried to the next chunk, invalid frames counted and skipped (the stream stays
    aligned). Out come plain tuples (b0, b1, instrument, seq, id, price, size, ts_exchange, ts_recv).
    """

    __slots__ = ("_carry", "frames", "invalid")

    def __init__(self) -> None:
        self._carry = b""
        self.frames = 0
        self.invalid: dict[FrameError, int] = {}

    @property
    def pending_bytes(self) -> int:
        return len(self._carry)

    def reset(self) -> None:
        """Drop a partial frame (a new connection starts on a frame boundary)."""
        self._carry = b""

    def feed(self, chunk: bytes) -> list[tuple[int, int, int, int, int, int, int, int, int]]:
        data = self._carry + chunk if self._carry else chunk
        whole = len(data) - len(data) % FRAME_SIZE
        self._carry = data[whole:]
        if whole == 0:
            return []
        arr = np.frombuffer(data, dtype=FRAME_DTYPE, count=whole // FRAME_SIZE)
        ok = accepted_mask(arr)
        if ok.all():
            out = arr.tolist()
        else:
            out = arr[ok].tolist()
            for b0, b1, _i, _s, _id, price, size, _tx, _tr in arr[~ok].tolist():
                err = head_error(b0, b1)
                if err == FrameError.NONE:
                    err = value_error(b0, price, size)
                self.invalid[err] = self.invalid.get(err, 0) + 1
        self.frames += len(out)
        return out
