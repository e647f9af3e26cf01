"""
A market maker with inventory limits: one post-only bid and ask around the mid, re-quoted when the mid
moves, never letting the net position pass ``max_inventory`` either way, and pulled while the feed is
halted (FeedGuard). Deterministic: it decides only from the data it is given (times from ts_init), so a
backtest and a paper run fed the same frames make the same orders.
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import PositiveInt
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from tapewire_trader.core import TAPEWIRE_CLIENT_ID
from tapewire_trader.strategies.feed_guard import FeedGuard
from tapewire_trader.types import TAPEWIRE_STATUS
from tapewire_trader.types import TapewireStatus

BPS = Decimal(10_000)


class InventoryMarketMakerConfig(StrategyConfig, frozen=True):
    """
    Parameters
    ----------
    instrument_id : InstrumentId
        What to quote, e.g. ``BTCUSDT.BINANCE``.
    trade_size : Decimal
        Quantity of each quote.
    max_inventory : Decimal
        The largest net position (base units, either side) the strategy may hold.
    half_spread_bps : PositiveInt, default 10
        Distance of each quote from the mid.
    requote_bps : PositiveInt, default 5
        Mid move that makes it cancel and re-quote.

    """

    instrument_id: InstrumentId
    trade_size: Decimal
    max_inventory: Decimal
    half_spread_bps: PositiveInt = 10
    requote_bps: PositiveInt = 5


class InventoryMarketMaker(Strategy):
    def __init__(self, config: InventoryMarketMakerConfig) -> None:
        super().__init__(config)
        self.instrument: Instrument | None = None
        self.guard = FeedGuard()
        self._quoted_mid: Decimal | None = None
        self._halted: str | None = None

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        if self.instrument is None:
            self.log.error(f"Could not find instrument {self.config.instrument_id}")
            self.stop()
            return
        self.subscribe_data(TAPEWIRE_STATUS, client_id=TAPEWIRE_CLIENT_ID)
        self.subscribe_quote_ticks(self.config.instrument_id)
        # The sandbox venue fills resting orders on trades as well as quotes.
        self.subscribe_trade_ticks(self.config.instrument_id)

    def on_data(self, data) -> None:
        if isinstance(data, TapewireStatus):
            self.guard.on_status(data)

    def on_quote_tick(self, quote: QuoteTick) -> None:
        self.guard.on_market_data()
        instrument = self.instrument
        if instrument is None:
            return
        iid = self.config.instrument_id
        halted = self.guard.halted(iid.value, iid.venue.value, quote.ts_init)
        if halted:
            if self._halted != halted:
                self.log.warning(f"Feed {halted}: quotes pulled")
                self.cancel_all_orders(iid)
                self._quoted_mid = None
            self._halted = halted
            return
        self._halted = None
        bid = quote.bid_price.as_decimal()
        ask = quote.ask_price.as_decimal()
        if bid <= 0 or ask <= 0 or ask < bid:
            return
        mid = (bid + ask) / 2
        quoted = self._quoted_mid
        if quoted is not None and abs(mid - quoted) * BPS < quoted * self.config.requote_bps:
            return
        self.cancel_all_orders(iid)
        self._quoted_mid = mid
        self._quote(instrument, mid)

    def _quote(self, instrument: Instrument, mid: Decimal) -> None:
        size = self.config.trade_size
        position = self.portfolio.net_position(self.config.instrument_id)
        offset = mid * self.config.half_spread_bps / BPS
        if position + size <= self.config.max_inventory:
            self._post(instrument, OrderSide.BUY, mid - offset)
        if position - size >= -self.config.max_inventory:
            self._post(instrument, OrderSide.SELL, mid + offset)

    def _post(self, instrument: Instrument, side: OrderSide, price: Decimal) -> None:
        order = self.order_factory.limit(
            instrument_id=instrument.id,
            order_side=side,
            quantity=instrument.make_qty(self.config.trade_size),
            price=instrument.make_price(price),
            time_in_force=TimeInForce.GTC,
            post_only=True,
        )
        self.submit_order(order)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.config.instrument_id)
        self.close_all_positions(self.config.instrument_id)
