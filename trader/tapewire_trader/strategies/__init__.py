"""Strategies that ship with the package; each reads TapewireStatus to stop trading on a broken feed."""

from tapewire_trader.strategies.feed_guard import FeedGuard
from tapewire_trader.strategies.market_maker import InventoryMarketMaker
from tapewire_trader.strategies.market_maker import InventoryMarketMakerConfig
from tapewire_trader.strategies.spread import CrossVenueSpread
from tapewire_trader.strategies.spread import CrossVenueSpreadConfig

__all__ = [
    "CrossVenueSpread",
    "CrossVenueSpreadConfig",
    "FeedGuard",
    "InventoryMarketMaker",
    "InventoryMarketMakerConfig",
]
