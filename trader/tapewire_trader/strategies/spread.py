"""
Cross-venue spread: the same pair on two venues (e.g. BTCUSDT.BINANCE and BTC/USDT.KRAKEN). When one
venue's bid is above the other's ask by more than ``entry_bps``, buy the cheap venue and sell the dear one
with IOC market orders, within a per-venue inventory limit; one pair at a time, a cooldown between pairs,
nothing while either feed is halted (FeedGuard). Times come from the data (ts_init), not the wall clock.
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import NonNegativeInt
from nautilus_trader.config import PositiveInt
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from tapewire_trader.core import TAPEWIRE_CLIENT_ID
from tapewire_trader.strategies.feed_guard import FeedGuard
from tapewire_trader.types import TAPEWIRE_STATUS
from tapewire_trader.types import TapewireStatus

BPS = Decimal(10_000)


class CrossVenueSpreadConfig(StrategyConfig, frozen=True):
    instrument_a: InstrumentId
    instrument_b: InstrumentId
    trade_size: Decimal
    max_inventory: Decimal
    entry_bps: PositiveInt = 5
    cooldown_ms: NonNegativeInt = 1_000


class CrossVenueSpread(Strategy):
    def __init__(self, config: CrossVenueSpreadConfig) -> None:
        super().__init__(config)
        self.guard = FeedGuard()
        self._quotes: dict[InstrumentId, QuoteTick] = {}
        self._next_ns = 0
        self.pairs = 0

    def on_start(self) -> None:
        for iid in (self.config.instrument_a, self.config.instrument_b):
            if self.cache.instrument(iid) is None:
                self.log.error(f"Could not find instrument {iid}")
                self.stop()
                return
        self.subscribe_data(TAPEWIRE_STATUS, client_id=TAPEWIRE_CLIENT_ID)
        for iid in (self.config.instrument_a, self.config.instrument_b):
            self.subscribe_quote_ticks(iid)

    def on_data(self, data) -> None:
        if isinstance(data, TapewireStatus):
            self.guard.on_status(data)

    def on_quote_tick(self, quote: QuoteTick) -> None:
        self.guard.on_market_data()
        self._quotes[quote.instrument_id] = quote
        a = self._quotes.get(self.config.instrument_a)
        b = self._quotes.get(self.config.instrument_b)
        now = quote.ts_init
        if a is None or b is None or now < self._next_ns:
            return
        for q in (a, b):
            if self.guard.halted(q.instrument_id.value, q.instrument_id.venue.value, now):
                return
        if self.cache.orders_open_count(strategy_id=self.id) > 0:
            return
        if self._edge(a, b):  # a's bid over b's ask: buy b, sell a
            self._pair(buy=b.instrument_id, sell=a.instrument_id, now=now)
        elif self._edge(b, a):
            self._pair(buy=a.instrument_id, sell=b.instrument_id, now=now)

    def _edge(self, dear: QuoteTick, cheap: QuoteTick) -> bool:
        bid = dear.bid_price.as_decimal()
        ask = cheap.ask_price.as_decimal()
        return ask > 0 and (bid - ask) * BPS > ask * self.config.entry_bps

    def _pair(self, buy: InstrumentId, sell: InstrumentId, now: int) -> None:
        size = self.config.trade_size
        limit = self.config.max_inventory
        if self.portfolio.net_position(buy) + size > limit or self.portfolio.net_position(sell) - size < -limit:
            return
        self._next_ns = now + self.config.cooldown_ms * 1_000_000
        self.pairs += 1
        for iid, side in ((buy, OrderSide.BUY), (sell, OrderSide.SELL)):
            instrument = self.cache.instrument(iid)
            order = self.order_factory.market(
                instrument_id=iid,
                order_side=side,
                quantity=instrument.make_qty(size),
                time_in_force=TimeInForce.IOC,
            )
            self.submit_order(order)

    def on_stop(self) -> None:
        for iid in (self.config.instrument_a, self.config.instrument_b):
            self.cancel_all_orders(iid)
            self.close_all_positions(iid)
