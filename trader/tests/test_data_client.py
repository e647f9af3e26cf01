"""
The data client inside a TradingNode on the real relay: subscriptions become the filter, book deltas build
the engine's book, a resync clears it and the status reaches the actor, a new snapshot rebuilds it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

import pytest
from conftest import Producer
from conftest import wait_for
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.config import TapewireDataClientConfig
from tapewire_trader.core import TAPEWIRE
from tapewire_trader.core import TAPEWIRE_CLIENT_ID
from tapewire_trader.factories import TapewireLiveDataClientFactory
from tapewire_trader.types import TAPEWIRE_STATUS
from tapewire_trader.types import TapewireStatus
from tapewire_trader.wire import FLAG_ASK
from tapewire_trader.wire import FLAG_BEGIN
from tapewire_trader.wire import FLAG_END
from tapewire_trader.wire import FLAG_SNAPSHOT
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status

ETHUSDT = InstrumentId.from_str("ETHUSDT.BINANCE")  # registry id 5: price precision 2, size 4


class Watcher(Actor):
    def __init__(self) -> None:
        super().__init__(ActorConfig(component_id="Watcher"))
        self.statuses: list[TapewireStatus] = []
        self.trades: list = []

    def on_start(self) -> None:
        self.subscribe_data(TAPEWIRE_STATUS, client_id=TAPEWIRE_CLIENT_ID)
        self.subscribe_order_book_deltas(ETHUSDT, book_type=BookType.L2_MBP, managed=True)
        self.subscribe_trade_ticks(ETHUSDT)

    def on_data(self, data) -> None:
        if isinstance(data, TapewireStatus):
            self.statuses.append(data)

    def on_trade_tick(self, tick) -> None:
        self.trades.append(tick)


@pytest.fixture
def node_and_watcher(relay):
    config = TradingNodeConfig(
        trader_id="TEST-001",
        logging=LoggingConfig(log_level="WARNING"),
        data_clients={TAPEWIRE: TapewireDataClientConfig(relay_path=relay.out_path, consumer_name="pytest")},
        timeout_post_stop=0.5,
        timeout_disconnection=1.0,
    )
    loop = asyncio.new_event_loop()  # a disposed node closes its loop: each node gets its own
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    node.add_data_client_factory(TAPEWIRE, TapewireLiveDataClientFactory)
    watcher = Watcher()
    node.trader.add_actor(watcher)
    node.build()
    runner = threading.Thread(target=node.run, daemon=True)
    runner.start()
    try:
        yield node, watcher
    finally:
        node.get_event_loop().call_soon_threadsafe(node.stop)
        runner.join(timeout=30)
        node.dispose()


def send_snapshot(producer: Producer, levels: list[tuple[bool, int, int]]) -> None:
    frames = []
    for i, (ask, price, size) in enumerate(levels):
        flags = FLAG_SNAPSHOT | (FLAG_ASK if ask else 0) | (FLAG_BEGIN if i == 0 else 0)
        flags |= FLAG_END if i == len(levels) - 1 else 0
        frames.append(producer.frame(Kind.BOOK, flags, Exchange.BINANCE, 5, 1, price, size, time.time_ns()))
    producer.send(Exchange.BINANCE, *frames)


def test_books_trades_and_statuses_through_the_engine(node_and_watcher, producer: Producer):
    node, watcher = node_and_watcher
    client = next(iter(node.kernel.data_engine._clients.values()))
    wait_for(lambda: (Exchange.BINANCE, 5) in client.translator.books and client.relay.connected, what="subscribed")
    cache = node.cache

    def book():
        return cache.order_book(ETHUSDT)

    # Snapshot (sizes at 8 frame decimals; ETHUSDT's venue precision is 4).
    def snapshot_arrived():
        send_snapshot(producer, [(False, 300000, 150000000), (False, 299900, 20000), (True, 300100, 50000000)])
        return book() is not None and book().best_bid_price() is not None

    wait_for(snapshot_arrived, what="the snapshot in the engine's book")
    assert book().best_bid_price().as_decimal() == Decimal("3000.00")
    assert book().best_ask_size().as_decimal() == Decimal("0.5000")
    assert len(book().bids()) == 2

    # An update at an apply point, then a trade.
    producer.send(
        Exchange.BINANCE,
        producer.frame(Kind.BOOK, 0, Exchange.BINANCE, 5, 2, 300000, 0, time.time_ns()),
        producer.frame(Kind.BOOK, FLAG_ASK | FLAG_END, Exchange.BINANCE, 5, 3, 300050, 10000000, time.time_ns()),
    )
    producer.trade(Exchange.BINANCE, 5, 555, 300050, 10000, FLAG_TAKER_BUY, time.time_ns())
    wait_for(lambda: watcher.trades, what="the trade")
    assert str(watcher.trades[0].trade_id) == "555" and watcher.trades[0].size.as_decimal() == Decimal("0.0001")
    assert book().best_bid_price().as_decimal() == Decimal("2999.00")
    assert book().best_ask_price().as_decimal() == Decimal("3000.50")

    # A resync: the book is cleared, the actor hears of it, updates are held back until a snapshot.
    producer.status(Exchange.BINANCE, Status.BOOK_RESYNC, instrument=5, detail=1)
    wait_for(lambda: any(s.name == "book_resync" for s in watcher.statuses), what="the resync status")
    (resync,) = [s for s in watcher.statuses if s.name == "book_resync"]
    assert (resync.venue, resync.instrument, resync.detail, resync.book_valid) == ("BINANCE", str(ETHUSDT), 1, False)
    wait_for(lambda: book().best_bid_price() is None and book().best_ask_price() is None, what="the cleared book")
    producer.send(Exchange.BINANCE, producer.frame(Kind.BOOK, FLAG_END, Exchange.BINANCE, 5, 1, 290000, 1, 1))
    send_snapshot(producer, [(False, 310000, 10000), (True, 310100, 10000)])
    wait_for(lambda: book().best_bid_price() is not None, what="the rebuilt book")
    assert [lvl.price.as_decimal() for lvl in book().bids()] == [Decimal("3100.00")]  # the held update is gone
    assert client.translator.book_valid((Exchange.BINANCE, 5))
