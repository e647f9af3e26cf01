"""
The tapewire LiveMarketDataClient: NautilusTrader reads the same relay stream the dashboard does.

One client serves every venue on the stream (KRAKEN, COINBASE, BINANCE). Subscriptions become the relay
filter line; frames are decoded a socket read at a time (FrameBatchDecoder) and translated
(FrameTranslator) into TradeTick, QuoteTick, OrderBookDeltas and TapewireStatus, published through the
DataEngine like any adapter's data.
"""

from __future__ import annotations

import asyncio
import time

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.enums import LogColor
from nautilus_trader.data.messages import SubscribeData
from nautilus_trader.data.messages import SubscribeInstrument
from nautilus_trader.data.messages import SubscribeInstruments
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.data.messages import SubscribeQuoteTicks
from nautilus_trader.data.messages import SubscribeTradeTicks
from nautilus_trader.data.messages import UnsubscribeData
from nautilus_trader.data.messages import UnsubscribeInstrument
from nautilus_trader.data.messages import UnsubscribeInstruments
from nautilus_trader.data.messages import UnsubscribeOrderBook
from nautilus_trader.data.messages import UnsubscribeQuoteTicks
from nautilus_trader.data.messages import UnsubscribeTradeTicks
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.config import TapewireDataClientConfig
from tapewire_trader.core import TAPEWIRE
from tapewire_trader.parsing import FrameTranslator
from tapewire_trader.parsing import Key
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.relay import RawFrame
from tapewire_trader.relay import RelayConnection
from tapewire_trader.relay import relay_out_path
from tapewire_trader.types import TapewireStatus
from tapewire_trader.wire import EXCHANGE_NAMES


class TapewireDataClient(LiveMarketDataClient):
    """
    Provides market data from the tapewire relay's consumer socket.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The event loop for the client.
    msgbus : MessageBus
        The message bus for the client.
    cache : Cache
        The cache for the client.
    clock : LiveClock
        The clock for the client.
    instrument_provider : TapewireInstrumentProvider
        The instrument provider (the tapewire registry).
    config : TapewireDataClientConfig
        The configuration for the client.
    name : str, optional
        The custom client ID.

    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: TapewireInstrumentProvider,
        config: TapewireDataClientConfig,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or TAPEWIRE),
            venue=None,  # serves several venues
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._provider = instrument_provider
        self._config = config
        self.translator = FrameTranslator(instrument_provider.spec)
        self.relay = RelayConnection(
            relay_out_path(config.relay_path),
            on_frames=self._on_frames,
            on_connect=self._on_relay_connect,
            on_disconnect=self._on_relay_disconnect,
            read_bytes=config.read_bytes,
            reconnect_initial_s=config.reconnect_initial_ms / 1000,
            reconnect_max_s=config.reconnect_max_ms / 1000,
        )
        self._relay_task: asyncio.Task | None = None
        self._was_connected = False

    # Connection ----------------------------------------------------------------------------------------

    async def _connect(self) -> None:
        await self._provider.initialize()
        for instrument in self._provider.list_all():
            self._handle_data(instrument)
        self._update_filter()
        self._relay_task = self.create_task(self.relay.run(), log_msg="relay consumer")
        self._log.info(f"Reading relay {self.relay.path}", LogColor.BLUE)

    async def _disconnect(self) -> None:
        await self.relay.close()
        if self._relay_task is not None:
            self._relay_task.cancel()
            self._relay_task = None

    def _on_relay_connect(self) -> None:
        self._was_connected = True
        self._log.info(f"Connected to relay {self.relay.path}", LogColor.GREEN)

    def _on_relay_disconnect(self, reason: str) -> None:
        if not self._was_connected:
            return  # still waiting for the relay: one log line per lost connection, not per retry
        self._was_connected = False
        self._log.warning(f"Relay connection lost ({reason}); reconnecting, books invalid until resnapshot")
        out: list = []
        self.translator.connection_lost(time.time_ns(), out)
        self._publish(out)

    def _on_frames(self, frames: list[RawFrame]) -> None:
        out: list = []
        self.translator.translate(frames, out)
        self._publish(out)

    def _publish(self, out: list) -> None:
        handle = self._handle_data
        for data in out:
            handle(data)

    # Subscriptions -------------------------------------------------------------------------------------

    def _key(self, instrument_id: InstrumentId) -> Key | None:
        spec = self._provider.spec_for(instrument_id)
        if spec is None:
            self._log.error(f"{instrument_id} is not in the tapewire registry; nothing will arrive for it")
            return None
        return (spec.exchange, spec.wire_id)

    def _update_filter(self) -> None:
        t = self.translator
        keys = t.trades | t.quotes | set(t.books)
        kinds = ["status"]
        if t.trades:
            kinds.append("trade")
        if t.quotes:
            kinds.append("bbo")
        if t.books:
            kinds.append("book")
        self.relay.set_filter(
            {
                "name": self._config.consumer_name,
                # Empty lists mean "all" to the relay: with nothing subscribed only statuses flow.
                "exchanges": sorted({EXCHANGE_NAMES[k[0]] for k in keys}),
                "instruments": sorted({k[1] for k in keys}),
                "kinds": kinds,
            },
        )

    async def _subscribe(self, command: SubscribeData) -> None:
        if command.data_type.type is not TapewireStatus:
            self._log.error(f"Cannot subscribe to {command.data_type}: tapewire publishes TapewireStatus")
        # Statuses always flow (they carry gaps and resyncs).

    async def _unsubscribe(self, command: UnsubscribeData) -> None:
        pass  # statuses keep flowing: the books' validity depends on them

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        pass  # all registry instruments are published at connect

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        pass

    async def _unsubscribe_instruments(self, command: UnsubscribeInstruments) -> None:
        pass

    async def _unsubscribe_instrument(self, command: UnsubscribeInstrument) -> None:
        pass

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        key = self._key(command.instrument_id)
        if key is not None:
            self.translator.trades.add(key)
            self._update_filter()

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        key = self._key(command.instrument_id)
        if key is not None:
            self.translator.trades.discard(key)
            self._update_filter()

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        key = self._key(command.instrument_id)
        if key is not None:
            self.translator.quotes.add(key)
            self._update_filter()

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        key = self._key(command.instrument_id)
        if key is not None:
            self.translator.quotes.discard(key)
            self._update_filter()

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        key = self._key(command.instrument_id)
        if key is not None:
            self.translator.subscribe_book(key)
            self._update_filter()

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        key = self._key(command.instrument_id)
        if key is not None:
            self.translator.unsubscribe_book(key)
            self._update_filter()
