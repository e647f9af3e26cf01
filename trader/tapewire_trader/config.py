"""Configuration for the tapewire data client (NautilusTrader's LiveDataClientConfig pattern)."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import PositiveInt
from nautilus_trader.config import RoutingConfig

from tapewire_trader.core import VENUE_BY_EXCHANGE


class TapewireDataClientConfig(LiveDataClientConfig, frozen=True):
    """
    Configuration for ``TapewireDataClient`` instances.

    Parameters
    ----------
    relay_path : str, optional
        The relay's consumer socket. If ``None`` then TAPEWIRE_RELAY_OUT, else ``run/relay-out.sock``
        (relative paths resolve from the working directory, as for every tapewire process).
    consumer_name : str, default "nautilus"
        The name the relay shows for this consumer in logs and metrics (≤ 64 chars).
    instruments_url : str, optional
        The API's instruments route (e.g. ``http://127.0.0.1:3000/api/market/instruments``). If ``None``
        the registry is read from schema/ through Bun (honouring TAPEWIRE_INSTRUMENTS).
    read_bytes : PositiveInt, default 262144
        The most bytes taken from the socket per batch (decoded in one pass).
    max_order_quantity : Decimal, optional
        Caps every instrument's ``max_quantity`` (the RiskEngine refuses larger orders).
    reconnect_initial_ms / reconnect_max_ms : PositiveInt
        Reconnect backoff: doubles from the initial delay up to the max, with jitter.

    """

    relay_path: str | None = None
    consumer_name: str = "nautilus"
    instruments_url: str | None = None
    read_bytes: PositiveInt = 262_144
    max_order_quantity: Decimal | None = None
    reconnect_initial_ms: PositiveInt = 50
    reconnect_max_ms: PositiveInt = 2_000
    instrument_provider: InstrumentProviderConfig = InstrumentProviderConfig(load_all=True)
    # Serves every venue on the stream, so subscriptions for KRAKEN/COINBASE/BINANCE instruments route here.
    routing: RoutingConfig = RoutingConfig(venues=frozenset(v.value for v in VENUE_BY_EXCHANGE.values()))
