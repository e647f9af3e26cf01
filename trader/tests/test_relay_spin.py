"""RelayConnection in spin mode against the real relay: every frame, in order, through the busy-polled socket."""

from __future__ import annotations

import asyncio
import time

from conftest import Producer
from conftest import start_relay
from test_relay import Received
from test_relay import filtered_pair_arrives
from test_relay import until

from tapewire_trader.relay import RelayConnection
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Kind


def test_spin_mode_gets_every_frame_in_order_and_reconnects(relay_dir):
    async def scenario() -> None:
        relay = start_relay(relay_dir)
        got = Received()
        conn = RelayConnection(
            relay.out_path,
            on_frames=got.frames.extend,
            on_disconnect=got.disconnects.append,
            reconnect_initial_s=0.02,
            spin=True,
        )
        conn.set_filter({"name": "pytest-spin", "exchanges": ["binance"], "kinds": ["trade"]})
        task = asyncio.create_task(conn.run())
        try:
            await until(lambda: conn.connected, what="the first connection")
            producer = Producer(relay.in_path).connect()
            await filtered_pair_arrives(producer, got, 1)
            producer.close()

            # The relay goes away and comes back: the spinning client reconnects by itself.
            assert relay.stop() == 0
            await until(lambda: got.disconnects, what="the disconnect")
            relay = start_relay(relay_dir)
            await until(lambda: conn.connects == 2 and conn.connected, what="the reconnect")
            # A new Producer restarts its seqs; the restored relay drops its first frames as resends.
            producer = Producer(relay.in_path).connect()
            first = await filtered_pair_arrives(producer, got, 10_000)
            n = 3000
            for i in range(first, first + n):
                producer.trade(Exchange.KRAKEN, 1, i, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
                producer.trade(Exchange.BINANCE, 4, i, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
            await until(lambda: first + n - 1 in got.trades(Exchange.BINANCE), what="the last binance trade")
            trades = [t for t in got.frames if t[0] & 0x0F == Kind.TRADE and t[4] >= first]
            assert [t[4] for t in trades] == list(range(first, first + n))  # all of them, in order
            assert all(t[1] & 0x0F == Exchange.BINANCE for t in trades)  # and the filter held
            # The mode is engaged: the data came through recv_into polls, most of which found nothing, and the
            # event loop got its turns (until() above runs on timers).
            assert conn.spin_reads > 0
            assert conn.spin_polls > conn.spin_reads
            assert conn.spin_yields > 0
            producer.close()
        finally:
            await conn.close()
            task.cancel()
            relay.stop()

    asyncio.run(scenario())
