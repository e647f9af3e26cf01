"""
Backtests with NautilusTrader's BacktestEngine, on raw 48-byte frames (a capture, or what the relay journals)
or on a window of the Parquet archive (tapewire_trader.archive). Either way the data goes through the same
FrameTranslator as the live client, the strategy is the one the paper node runs, and the simulated venue is set
up like the paper sandbox (no latency, no message queue, default fill and maker/taker fee models): so a
backtest and a paper run fed the same frames make the same fills.

``python -m tapewire_trader.backtest FRAMES_FILE``: the fills and final balances as JSON (stdout).
``python -m tapewire_trader.backtest --archive DIR --from T --to T [--files F] [--out FILE]``: the full result
(summary statistics, orders, fills, positions, equity curve) as JSON; T is RFC 3339 or ns since the epoch,
F a JSON file listing the partition files to read (the archive manifest's paths; default: every file under
DIR). The strategy and its parameters come from the TRADER_* settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Money

from tapewire_trader.archive import ArchiveError
from tapewire_trader.archive import ArchiveReader
from tapewire_trader.archive_results import collect_results
from tapewire_trader.core import TAPEWIRE_CLIENT_ID
from tapewire_trader.node import NodeSetupError
from tapewire_trader.node import make_strategy
from tapewire_trader.node import traded_instruments
from tapewire_trader.parsing import FrameTranslator
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.providers import build_specs
from tapewire_trader.schema import schema_export
from tapewire_trader.settings import SettingsError
from tapewire_trader.settings import TraderSettings
from tapewire_trader.settings import load_settings
from tapewire_trader.wire import FrameBatchDecoder

Fill = tuple[str, str, str, str]  # instrument, side, average price, filled quantity


@dataclass(frozen=True, slots=True)
class BacktestResult:
    fills: list[Fill]
    balances: dict[str, list[str]]
    frames: int
    report: dict[str, Any] = field(default_factory=dict)


def frames_to_stream(frames: bytes, registry: list[dict[str, Any]], ids: list[InstrumentId]) -> list:
    """Market and status data for the traded instruments, exactly as the live client would publish them."""
    provider = TapewireInstrumentProvider()
    provider.load_registry(registry)
    translator = FrameTranslator(provider.spec)
    for iid in ids:
        spec = provider.spec_for(iid)
        if spec is None:
            raise ValueError(f"{iid} is not in the registry")
        key = (spec.exchange, spec.wire_id)
        translator.trades.add(key)
        translator.quotes.add(key)
    out: list = []
    translator.translate(FrameBatchDecoder().feed(frames), out)
    return out


def frames_to_data(frames: bytes, registry: list[dict[str, Any]], ids: list[InstrumentId]) -> tuple[list, list]:
    """(market data, status data) of frames_to_stream."""
    out = frames_to_stream(frames, registry, ids)
    return [d for d in out if not isinstance(d, CustomData)], [d for d in out if isinstance(d, CustomData)]


def filled_orders(cache) -> list[Fill]:
    orders = sorted(cache.orders(), key=lambda o: o.ts_init)
    return [
        (o.instrument_id.value, o.side_string(), f"{o.avg_px:.10g}", str(o.filled_qty))
        for o in orders
        if o.status == OrderStatus.FILLED
    ]


def run_engine(
    stream: list,
    settings: TraderSettings,
    registry: list[dict[str, Any]],
    frames: int = 0,
) -> BacktestResult:
    ids = traded_instruments(settings, registry)
    engine = BacktestEngine(
        config=BacktestEngineConfig(trader_id="BACKTEST-001", logging=LoggingConfig(log_level="ERROR")),
    )
    try:
        balances = [Money.from_str(b) for b in settings.starting_balances]
        for venue in {iid.venue for iid in ids}:
            engine.add_venue(
                venue=venue,
                oms_type=OmsType.NETTING,
                account_type=AccountType.MARGIN,
                starting_balances=balances,
                book_type=BookType.L1_MBP,
                fill_model=FillModel(),
                fee_model=MakerTakerFeeModel(),
                latency_model=LatencyModel(0),
                use_message_queue=False,  # as the sandbox: orders reach the venue at once
            )
        instruments = [s.instrument for s in build_specs(registry, max_quantity=settings.max_order_size)]
        for instrument in instruments:
            if instrument.id in ids:
                engine.add_instrument(instrument)
        add_stream(engine, stream)
        engine.add_strategy(make_strategy(settings, ids))
        # Streaming: results are read at the end of the data, before the strategy's on_stop flattens it.
        engine.run(streaming=True)
        fills = filled_orders(engine.cache)
        accounts = {str(a.id): sorted(str(b.total) for b in a.balances().values()) for a in engine.cache.accounts()}
        market = [d for d in stream if not isinstance(d, CustomData)]
        report = collect_results(engine.cache, market, ids, settings.starting_balances)
        engine.end()
        return BacktestResult(fills=fills, balances=accounts, frames=frames, report=report)
    finally:
        engine.dispose()


def add_stream(engine: BacktestEngine, stream: list) -> None:
    """
    Market data and statuses as ONE stream, so equal ts_init keep their stream order (two add_data calls would
    put every status after the market data of its nanosecond). The status client is registered by a first,
    validated add of one status, then that is cleared (clear_data keeps clients and instruments).
    """
    status = next((d for d in stream if isinstance(d, CustomData)), None)
    if status is not None:
        engine.add_data([status], client_id=TAPEWIRE_CLIENT_ID, sort=False)
        engine.clear_data()
    if stream:
        engine.add_data(stream, validate=False)  # sorted by ts_init, stably


def run_backtest(frames: bytes, settings: TraderSettings, registry: list[dict[str, Any]]) -> BacktestResult:
    ids = traded_instruments(settings, registry)
    return run_engine(frames_to_stream(frames, registry, ids), settings, registry, frames=len(frames) // 48)


def run_archive_backtest(
    root: str,
    settings: TraderSettings,
    registry: list[dict[str, Any]],
    start_ns: int,
    end_ns: int,
    files: list[str] | None = None,
) -> BacktestResult:
    """A backtest of [start, end) of the archive under ``root`` (only ``files``, when given)."""
    ids = traded_instruments(settings, registry)
    reader = ArchiveReader(root, registry, files)
    data = reader.read(ids, start_ns, end_ns)
    result = run_engine(data.stream(), settings, registry, frames=data.rows)
    result.report["data"] = {
        "rows": data.rows,
        "files": data.files,
        "trades": len(data.trades),
        "quotes": len(data.quotes),
        "bookDeltas": len(data.deltas),
        "statuses": len(data.statuses),
    }
    return result


def parse_time_ns(text: str) -> int:
    """RFC 3339 (``2026-12-01T10:00:00Z``) or an integer of ns since the epoch."""
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r}: a time needs a zone (Z or ±HH:MM)")
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _archive_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tapewire_trader.backtest")
    parser.add_argument("--archive", required=True)
    parser.add_argument("--from", dest="start", required=True)
    parser.add_argument("--to", dest="end", required=True)
    parser.add_argument("--files", help="JSON file: the partition paths to read, relative to the archive")
    parser.add_argument("--out", help="write the result JSON here (default stdout)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ)
        start, end = parse_time_ns(args.start), parse_time_ns(args.end)
        if end <= start:
            raise ValueError("--to must be after --from")
        files = None
        if args.files:
            with open(args.files, encoding="utf-8") as f:
                files = [str(p) for p in json.load(f)]
        result = run_archive_backtest(args.archive, settings, schema_export()["instruments"], start, end, files)
    except (SettingsError, ValueError, ArchiveError, NodeSetupError, OSError) as e:
        print(f"backtest: {e}", file=sys.stderr)
        return 78 if isinstance(e, SettingsError) else 65
    text = json.dumps(result.report)
    if args.out:
        tmp = f"{args.out}.partial"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.out)
    else:
        print(text)
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--"):
        return _archive_main(sys.argv[1:])
    if len(sys.argv) != 2:
        print("usage: python -m tapewire_trader.backtest FRAMES_FILE | --archive DIR --from T --to T", file=sys.stderr)
        return 2
    try:
        settings = load_settings(os.environ)
    except SettingsError as e:
        print(f"backtest: {e}", file=sys.stderr)
        return 78
    with open(sys.argv[1], "rb") as f:
        frames = f.read()
    result = run_backtest(frames, settings, schema_export()["instruments"])
    print(json.dumps({"frames": result.frames, "fills": result.fills, "balances": result.balances}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
