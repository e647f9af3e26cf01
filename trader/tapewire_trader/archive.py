"""
The Parquet archive (schema/archive.ts, docs/archive.md) read back as NautilusTrader data for a backtest.

Rows become the 48-byte frames' fields again (INT64 mantissas at the registry decimals, the collector's seq
and receive stamp) and go through the live client's FrameTranslator: so TradeTick, OrderBookDeltas and
TapewireStatus come out exactly as the live stream publishes them, Price and Quantity built from the integer
mantissas at the venue's precision (no float anywhere), in the order the relay delivers them (per exchange by
receive time, then the collector's seq). Not NautilusTrader's wranglers (they take float DataFrames) nor a
ParquetDataCatalog (it would be a second copy of the archive in Nautilus' own schema).

What the archive does not hold, and how it is bridged:
- BBO frames (the exchanges' ticker channels) are not archived (book_tops are the bridge's samples). Quotes
  are derived from the archived book instead: after each apply point whose top of book changed, a QuoteTick
  of the top level (ts from that update). An exchange's ticker reports that same top.
- ``time`` is kept to the microsecond (the receive stamp ``recv_ns`` to the ns): ts_init is exact for trades
  and book changes, ts_event is the exchange time truncated to the µs. Feed events have only ``time``: their
  ts_init is that µs time, so they sort by it among the frames of their exchange.
- Heartbeats and acks are not stored (they publish nothing on the live bus either).
- A book becomes valid at a snapshot: for a window that starts mid-stream the book changes from the last
  snapshot before it (up to ``BOOK_LOOKBACK_PARTITIONS`` partitions back) warm the book up; nothing before
  the window is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.parsing import FrameTranslator
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.wire import EXCHANGE_NAMES
from tapewire_trader.wire import FLAG_BEGIN
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import FLAG_TAKER_SELL
from tapewire_trader.wire import STATUS_NAMES
from tapewire_trader.wire import Kind

BOOK_LOOKBACK_PARTITIONS = 48
_CODE_BY_STATUS = {name: code for code, name in STATUS_NAMES.items()}
# An hour's file (hour=13/), or a closed day compacted into one file (hour=all/: the whole UTC day).
_PART = re.compile(r"date=(\d{4}-\d{2}-\d{2})/hour=(\d{2}|all)/")
_HOUR_NS = 3_600_000_000_000
_SIDE_FLAGS = {"buy": FLAG_TAKER_BUY, "sell": FLAG_TAKER_SELL}


class ArchiveError(ValueError):
    """The archive cannot be read as asked (missing folder, decimals that disagree with the registry)."""


@dataclass(slots=True)
class ArchiveData:
    """Market data (trades, quotes derived from the book, book deltas) and status data, in stream order."""

    trades: list[TradeTick] = field(default_factory=list)
    quotes: list[QuoteTick] = field(default_factory=list)
    deltas: list[OrderBookDeltas] = field(default_factory=list)
    statuses: list[CustomData] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rows: int = 0
    # Everything in stream order (a derived quote right after the book update it comes from).
    ordered: list = field(default_factory=list)

    def stream(self, book: bool = False) -> list:
        """What a backtest adds: trades, quotes and statuses (with the book deltas when asked), in stream order."""
        return [d for d in self.ordered if book or not isinstance(d, OrderBookDeltas)]

    def market(self, book: bool = False) -> list:
        return [d for d in self.stream(book) if not isinstance(d, CustomData)]


def _partition_span_ns(path: str) -> tuple[int, int] | None:
    """(start, length) of the time a partition file covers, in ns; None for a path of another shape."""
    m = _PART.search(path.replace("\\", "/"))
    if not m:
        return None
    day = int(datetime.strptime(m[1], "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) * 1_000_000_000
    if m[2] == "all":
        return day, 24 * _HOUR_NS
    return day + int(m[2]) * _HOUR_NS, _HOUR_NS


def _partition_start_ns(path: str) -> int | None:
    span = _partition_span_ns(path)
    return span[0] if span else None


def list_partitions(root: Path, dataset: str, exchange: str, files: Iterable[str] | None = None) -> list[str]:
    """Partition files (relative to root) of one dataset and exchange, oldest first: the manifest's when given."""
    prefix = f"{dataset}/exchange={exchange}/"
    if files is not None:
        found = [f for f in files if f.startswith(prefix)]
    else:
        # Without the manifest, the folder: a compacted day's file (hour=all) holds its hours' rows, and its
        # hourly files may still be there (kept for ARCHIVE_COMPACT_GRACE after the swap, or left by a crash),
        # so a date folder with a day file is read from that file alone: every row once.
        folder = root / dataset / f"exchange={exchange}"
        found = (
            [p.relative_to(root).as_posix() for p in folder.glob("date=*/hour=*/*.parquet")] if folder.is_dir() else []
        )
        compacted = {f.split("/hour=")[0] for f in found if "/hour=all/" in f}
        found = [f for f in found if "/hour=all/" in f or f.split("/hour=")[0] not in compacted]
        # Names are content-addressed (part-…T13.<sha256 prefix>.parquet): a re-export with other rows is a new
        # file beside the old one, which stays for the grace period too. One partition per folder: the newest.
        newest: dict[str, str] = {}
        for f in found:
            folder = f.rsplit("/", 1)[0]
            if folder not in newest or (root / f).stat().st_mtime_ns > (root / newest[folder]).stat().st_mtime_ns:
                newest[folder] = f
        found = list(newest.values())
    return sorted(found, key=lambda f: (_partition_start_ns(f) or 0, f))


def _read(root: Path, path: str, columns: list[str], ids: list[int]) -> pa.Table:
    try:
        table = pq.read_table(root / path, columns=columns)
    except FileNotFoundError as e:
        raise ArchiveError(f"the archive's partition file {path} is missing under {root}") from e
    except (OSError, pa.ArrowException) as e:
        raise ArchiveError(f"the archive's partition file {path} cannot be read: {e}") from e
    table = table.filter(pc.is_in(table["instrument_id"], value_set=pa.array(ids, pa.int32())))
    return table.set_column(table.schema.get_field_index("time"), "time", table["time"].cast(pa.int64()))


def _check_decimals(table: pa.Table, decimals: dict[int, tuple[int, int]], path: str) -> None:
    if table.num_rows == 0:
        return
    pairs = table.select(["instrument_id", "price_decimals", "size_decimals"]).group_by(
        ["instrument_id", "price_decimals", "size_decimals"],
    )
    for row in pairs.aggregate([]).to_pylist():
        want = decimals[row["instrument_id"]]
        if (row["price_decimals"], row["size_decimals"]) != want:
            raise ArchiveError(
                f"{path}: instrument {row['instrument_id']} has decimals "
                f"{row['price_decimals']}/{row['size_decimals']}, the registry {want[0]}/{want[1]}",
            )


class ArchiveReader:
    """Reads a window of the archive for some instruments into NautilusTrader data."""

    def __init__(self, root: str | Path, registry: list[dict[str, Any]], files: Iterable[str] | None = None) -> None:
        self.root = Path(root)
        if files is None and not self.root.is_dir():
            raise ArchiveError(f"archive folder {self.root} does not exist (ARCHIVE_DIR)")
        self.files = list(files) if files is not None else None
        self.registry = registry
        self.provider = TapewireInstrumentProvider()
        self.provider.load_registry(registry)
        self.decimals = {int(e["id"]): (int(e["priceDecimals"]), int(e["sizeDecimals"])) for e in registry}

    def _frames(self, dataset: str, exchange: int, ids: list[int], start_ns: int, end_ns: int) -> list:
        """(sort key, frame) of one dataset's rows with time in [start, end)."""
        out: list = []
        name = EXCHANGE_NAMES[exchange]
        for path in list_partitions(self.root, dataset, name, self.files):
            span = _partition_span_ns(path)
            if span is not None and (span[0] + span[1] <= start_ns or span[0] >= end_ns):
                continue
            self.used.append(path)
            out.extend(self._rows(dataset, exchange, path, ids, start_ns, end_ns))
        return out

    def _rows(self, dataset: str, exchange: int, path: str, ids: list[int], start_ns: int, end_ns: int) -> list:
        cols = {
            "trades": [
                "time",
                "instrument_id",
                "trade_id",
                "price_mantissa",
                "size_mantissa",
                "side",
                "seq",
                "recv_ns",
            ],
            "book_changes": ["time", "instrument_id", "flags", "price_mantissa", "size_mantissa", "update_id", "seq"],
            "feed_events": ["time", "instrument_id", "event", "detail", "count", "seq"],
        }[dataset]
        extra = ["price_decimals", "size_decimals"] if dataset != "feed_events" else []
        extra += ["recv_ns"] if dataset == "book_changes" else []
        table = _read(self.root, path, cols + extra, ids)
        if extra:
            _check_decimals(table, self.decimals, path)
        lo, hi = start_ns // 1000, (end_ns + 999) // 1000
        table = table.filter(pc.and_(pc.greater_equal(table["time"], lo), pc.less(table["time"], hi)))
        self.rows += table.num_rows
        out: list = []
        if dataset == "trades":
            for r in table.to_pylist():
                flags = _SIDE_FLAGS.get(r["side"], 0)
                t = r["time"] * 1000
                frame = (Kind.TRADE | flags, exchange, r["instrument_id"], r["seq"], r["trade_id"])
                frame += (r["price_mantissa"], r["size_mantissa"], t, r["recv_ns"])
                out.append(((r["recv_ns"], exchange, r["seq"]), frame))
        elif dataset == "book_changes":
            for r in table.to_pylist():
                frame = (Kind.BOOK | r["flags"], exchange, r["instrument_id"], r["seq"], r["update_id"])
                frame += (r["price_mantissa"], r["size_mantissa"], r["time"] * 1000, r["recv_ns"])
                out.append(((r["recv_ns"], exchange, r["seq"]), frame))
        else:
            for r in table.to_pylist():
                code = _CODE_BY_STATUS.get(r["event"])
                if code is None:
                    continue  # a status this package does not know: nothing the translator could publish
                t = r["time"] * 1000
                frame = (Kind.STATUS | code << 4, exchange, r["instrument_id"], r["seq"], r["detail"], r["count"], 0)
                frame += (t, t)
                out.append(((t, exchange, r["seq"]), frame))
        return out

    def _warmup(self, exchange: int, ids: list[int], start_ns: int) -> list:
        """Book changes from the last snapshot before start (per instrument) up to start."""
        name = EXCHANGE_NAMES[exchange]
        before = [
            p
            for p in list_partitions(self.root, "book_changes", name, self.files)
            if (_partition_start_ns(p) or 0) < start_ns
        ][-BOOK_LOOKBACK_PARTITIONS:]
        pending = set(ids)
        chunks: list[list] = []
        for path in reversed(before):
            rows = self._rows("book_changes", exchange, path, list(pending), 0, start_ns)
            rows.sort(key=lambda kf: kf[0])
            keep: list = []
            for inst in list(pending):
                mine = [kf for kf in rows if kf[1][2] == inst]
                begins = [i for i, kf in enumerate(mine) if kf[1][0] & FLAG_BEGIN]
                keep.extend(mine[begins[-1] :] if begins else mine)
                if begins:
                    pending.discard(inst)
            chunks.append(keep)
            if not pending:
                break
        return [kf for chunk in reversed(chunks) for kf in chunk]

    def _collect(self, by_exchange: dict[int, list[int]], start_ns: int, end_ns: int, book: bool):
        """(window frames, warm-up frames), each as (sort key, frame) in stream order."""
        warm: list = []
        keyed: list = []
        for exchange, ids in by_exchange.items():
            keyed += self._frames("trades", exchange, ids, start_ns, end_ns)
            keyed += self._frames("feed_events", exchange, [*ids, 0], start_ns, end_ns)
            if book:
                keyed += self._frames("book_changes", exchange, ids, start_ns, end_ns)
                warm += self._warmup(exchange, ids, start_ns)
        keyed.sort(key=lambda kf: kf[0])
        return keyed, warm

    def read(
        self,
        instruments: list[InstrumentId],
        start_ns: int,
        end_ns: int,
        book: bool = True,
    ) -> ArchiveData:
        """Trades, feed events and (when ``book``) book changes of [start, end) for ``instruments``."""
        self.used: list[str] = []
        self.rows = 0
        translator = FrameTranslator(self.provider.spec)
        by_exchange: dict[int, list[int]] = {}
        for iid in instruments:
            spec = self.provider.spec_for(iid)
            if spec is None:
                raise ArchiveError(f"{iid} is not in the registry")
            key = (spec.exchange, spec.wire_id)
            translator.trades.add(key)
            if book:
                translator.subscribe_book(key)
            by_exchange.setdefault(spec.exchange, []).append(spec.wire_id)
        keyed, warm = self._collect(by_exchange, start_ns, end_ns, book)
        data = ArchiveData(files=sorted(set(self.used)), rows=self.rows)
        scratch: list = []
        translator.translate((kf[1] for kf in warm), scratch)  # book state only: nothing before start is published
        books = {iid: OrderBook(iid, BookType.L2_MBP) for iid in instruments}
        for d in scratch:
            if isinstance(d, OrderBookDeltas):
                books[d.instrument_id].apply_deltas(d)
        out: list = []
        translator.translate((kf[1] for kf in keyed), out)
        _sort_out(out, books, data)
        self.counters = translator.counters
        return data


def _sort_out(out: list, books: dict[InstrumentId, OrderBook], data: ArchiveData) -> None:
    """The translator's output into ``data``, with a quote after each update that changed the book's top."""
    tops: dict[InstrumentId, tuple] = {}
    for d in out:
        data.ordered.append(d)
        if isinstance(d, TradeTick):
            data.trades.append(d)
        elif isinstance(d, OrderBookDeltas):
            data.deltas.append(d)
            quote = _top_change(books[d.instrument_id], d, tops)
            if quote is not None:
                data.quotes.append(quote)
                data.ordered.append(quote)
        elif isinstance(d, CustomData):
            data.statuses.append(d)


def _top_change(book: OrderBook, deltas: OrderBookDeltas, tops: dict) -> QuoteTick | None:
    """Apply one exchange update; a QuoteTick of the new top when both sides exist and the top changed."""
    book.apply_deltas(deltas)
    bid, ask = book.best_bid_price(), book.best_ask_price()
    if bid is None or ask is None:
        tops.pop(deltas.instrument_id, None)
        return None
    top = (bid, book.best_bid_size(), ask, book.best_ask_size())
    if tops.get(deltas.instrument_id) == top:
        return None
    tops[deltas.instrument_id] = top
    last = deltas.deltas[-1]
    return QuoteTick(deltas.instrument_id, top[0], top[2], top[1], top[3], last.ts_event, last.ts_init)
