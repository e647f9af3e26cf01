"""
tapewire_trader: NautilusTrader on the tapewire relay stream.

The layout follows NautilusTrader's ``adapters/_template``: ``config`` (client configs), ``data`` (the
LiveMarketDataClient), ``factories`` (how a TradingNode builds it), ``providers`` (instruments from the
registry), plus ``wire`` (the 48-byte frame codec) and ``parsing`` (frames to Nautilus data).
"""

from tapewire_trader.config import TapewireDataClientConfig
from tapewire_trader.core import TAPEWIRE
from tapewire_trader.core import TAPEWIRE_CLIENT_ID
from tapewire_trader.factories import TapewireLiveDataClientFactory
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.types import TapewireStatus

__all__ = [
    "TAPEWIRE",
    "TAPEWIRE_CLIENT_ID",
    "TapewireDataClientConfig",
    "TapewireInstrumentProvider",
    "TapewireLiveDataClientFactory",
    "TapewireStatus",
]
