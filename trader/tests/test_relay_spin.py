"""RelayConnection in spin mode against the real relay: every frame, in order, through the busy-polled socket."""

from __future__ import annotations

import asyncio
import time

from conftest import Producer
from conftest import filtered_pair_arrives
from conftest import relay_client
from conftest import until

from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Kind


def test_spin_mode_gets_every_frame_in_order_and_reconnects(relay_dir):
    async def scenario() -> None:
        filter_ = {"name": "pytest-spin", "exchanges": ["binance"], "kinds": ["trade"]}
        async with relay_client(relay_dir, filter_, spin=True) as client:
            conn, got = client.conn, client.got
            producer = Producer(client.relay.in_path).connect()
            await filtered_pair_arrives(producer, got, 1)
            producer.close()

            # The relay goes away and comes back: the spinning client reconnects by itself.
            await client.restart_relay()
            # A new Producer restarts its seqs; the restored relay drops its first frames as resends.
            producer = Producer(client.relay.in_path).connect()
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

    asyncio.run(scenario())
