"""How a TradingNode builds the tapewire data client (``node.add_data_client_factory("TAPEWIRE", ...)``)."""

from __future__ import annotations

import asyncio

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveDataClientFactory

from tapewire_trader.config import TapewireDataClientConfig
from tapewire_trader.data import TapewireDataClient
from tapewire_trader.providers import TapewireInstrumentProvider


class TapewireLiveDataClientFactory(LiveDataClientFactory):
    """
    Provides a tapewire live data client factory.
    """

    @staticmethod
    def create(  # type: ignore
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: TapewireDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> TapewireDataClient:
        """
        Create a new tapewire data client.

        Parameters
        ----------
        loop : asyncio.AbstractEventLoop
            The event loop for the client.
        name : str
            The custom client ID.
        config : TapewireDataClientConfig
            The client configuration.
        msgbus : MessageBus
            The message bus for the client.
        cache : Cache
            The cache for the client.
        clock : LiveClock
            The clock for the client.

        Returns
        -------
        TapewireDataClient

        """
        provider = TapewireInstrumentProvider(
            config=config.instrument_provider,
            instruments_url=config.instruments_url,
            max_quantity=config.max_order_quantity,
        )
        return TapewireDataClient(
            loop=loop,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            config=config,
            name=name,
        )
