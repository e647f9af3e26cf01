"""
TradeTap: an Actor that copies every trade tick the node receives for the given instruments to a text
file, one line each (``instrument trade_id price size aggressor ts_event ts_init``), flushed per tick.
The same-data test (test/trader-same-data.e2e.test.ts) compares it with the bridge and the database.
Off unless TRADER_TAP_TRADES names a file: not for production (a write per tick).
"""

from __future__ import annotations

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import InstrumentId


class TradeTapConfig(ActorConfig, frozen=True):
    path: str
    instrument_ids: tuple[str, ...] = ()


class TradeTap(Actor):
    def __init__(self, config: TradeTapConfig) -> None:
        super().__init__(config)
        self._file = None

    def on_start(self) -> None:
        self._file = open(self.config.path, "a", encoding="utf-8", buffering=1)
        for iid in self.config.instrument_ids:
            self.subscribe_trade_ticks(InstrumentId.from_str(iid))

    def on_trade_tick(self, tick: TradeTick) -> None:
        if self._file is None:
            return
        self._file.write(
            f"{tick.instrument_id} {tick.trade_id} {tick.price} {tick.size} "
            f"{tick.aggressor_side.name} {tick.ts_event} {tick.ts_init}\n",
        )

    def on_stop(self) -> None:
        if self._file is not None:
            self._file.flush()

    def on_dispose(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
