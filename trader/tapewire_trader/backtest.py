"""
Backtests on tapewire frames: raw 48-byte frames (a capture, or what the relay journals) go through the same
FrameBatchDecoder and FrameTranslator as the live client, into NautilusTrader's BacktestEngine with the same
strategy and a simulated venue set up like the paper sandbox (no latency, no message queue, default fill and
maker/taker fee models). So a backtest and a paper run fed the same frames make the same fills.

``python -m tapewire_trader.backtest FRAMES_FILE``: runs the strategy from the TRADER_* settings and prints
the fills and final balances as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
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

from tapewire_trader.core import TAPEWIRE_CLIENT_ID
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


def frames_to_data(frames: bytes, registry: list[dict[str, Any]], ids: list[InstrumentId]) -> tuple[list, list]:
    """(market data, status data) for the traded instruments, exactly as the live client would publish them."""
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
    market = [d for d in out if not isinstance(d, CustomData)]
    statuses = [d for d in out if isinstance(d, CustomData)]
    return market, statuses


def filled_orders(cache) -> list[Fill]:
    orders = sorted(cache.orders(), key=lambda o: o.ts_init)
    return [
        (o.instrument_id.value, o.side_string(), f"{o.avg_px:.10g}", str(o.filled_qty))
        for o in orders
        if o.status == OrderStatus.FILLED
    ]


def run_backtest(frames: bytes, settings: TraderSettings, registry: list[dict[str, Any]]) -> BacktestResult:
    ids = traded_instruments(settings, registry)
    market, statuses = frames_to_data(frames, registry, ids)
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
        for spec in build_specs(registry, max_quantity=settings.max_order_size):
            if spec.instrument.id in ids:
                engine.add_instrument(spec.instrument)
        engine.add_data(market)
        if statuses:
            engine.add_data(statuses, client_id=TAPEWIRE_CLIENT_ID)
        engine.add_strategy(make_strategy(settings, ids))
        # Streaming: results are read at the end of the data, before the strategy's on_stop flattens it.
        engine.run(streaming=True)
        fills = filled_orders(engine.cache)
        accounts = {str(a.id): sorted(str(b.total) for b in a.balances().values()) for a in engine.cache.accounts()}
        engine.end()
        return BacktestResult(fills=fills, balances=accounts, frames=len(frames) // 48)
    finally:
        engine.dispose()


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m tapewire_trader.backtest FRAMES_FILE", file=sys.stderr)
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
