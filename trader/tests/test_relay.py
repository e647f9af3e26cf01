"""RelayConnection against the real relay (`bun relay/main.ts`): filter line, frames, reconnects."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import Producer
from conftest import Received
from conftest import filtered_pair_arrives
from conftest import relay_client
from conftest import start_relay
from conftest import until

from tapewire_trader.relay import RelayConnection
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Kind


def test_filter_frames_and_reconnect_with_the_filter_again(relay_dir):
    async def scenario() -> None:
        filter_ = {"name": "pytest", "exchanges": ["binance"], "kinds": ["trade"]}
        async with relay_client(relay_dir, filter_) as client:
            got = client.got
            producer = Producer(client.relay.in_path).connect()
            next_id = await filtered_pair_arrives(producer, got, 1)
            # From here the filter holds for every frame.
            mark = len(got.frames)
            for n in range(next_id, next_id + 20):
                producer.trade(Exchange.KRAKEN, 1, n, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
                producer.trade(Exchange.BINANCE, 4, n, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
            await until(lambda: next_id + 19 in got.trades(Exchange.BINANCE), what="the last binance trade")
            assert not got.trades(Exchange.KRAKEN) & set(range(next_id, next_id + 20))
            after = got.frames[mark:]
            assert after and all(t[0] & 0x0F == Kind.TRADE and t[1] & 0x0F == Exchange.BINANCE for t in after)
            producer.close()

            # The relay goes away and comes back on the same path: the client reconnects by itself.
            await client.restart_relay()
            producer = Producer(client.relay.in_path).connect()
            await filtered_pair_arrives(producer, got, 10_000)
            producer.close()

    asyncio.run(scenario())


def test_a_client_started_before_the_relay_connects_when_it_appears(relay_dir):
    async def scenario() -> None:
        got = Received()
        conn = RelayConnection(
            str(relay_dir / "out" / "relay-out.sock"),
            on_frames=got.frames.extend,
            on_disconnect=got.disconnects.append,
            reconnect_initial_s=0.02,
            reconnect_max_s=0.1,
        )
        task = asyncio.create_task(conn.run())
        await until(lambda: len(got.disconnects) >= 2, what="failed connection attempts")
        assert got.disconnects[0].startswith("connect failed")
        relay = start_relay(relay_dir)
        try:
            await until(lambda: conn.connected, what="the connection once the relay is up")
            producer = Producer(relay.in_path).connect()
            producer.trade(Exchange.COINBASE, 2, 77, 300000, 5, FLAG_TAKER_BUY, time.time_ns())
            await until(lambda: 77 in got.trades(Exchange.COINBASE), what="the trade")
            producer.close()
        finally:
            await conn.close()
            task.cancel()
            relay.stop()

    asyncio.run(scenario())


def test_a_dropped_connection_resumes_where_it_left_off(relay_dir):
    async def scenario() -> None:
        relay = start_relay(relay_dir)
        got = Received()
        conn = RelayConnection(relay.out_path, on_frames=got.frames.extend, reconnect_initial_s=0.5)
        conn.set_filter({"name": "pytest-resume", "exchanges": ["binance"], "kinds": ["trade"]})
        task = asyncio.create_task(conn.run())
        producer = Producer(relay.in_path)
        try:
            await until(lambda: conn.connected, what="the connection")
            next_id = await filtered_pair_arrives(producer, got, 1)
            seen = len(got.trades(Exchange.BINANCE))
            # Drop our side; while we are away (>= 0.25 s backoff) the market moves on.
            conn._writer.transport.abort()
            await until(lambda: not conn.connected, what="the drop")
            for n in range(next_id, next_id + 10):
                producer.trade(Exchange.BINANCE, 4, n, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
            await until(lambda: conn.connects == 2, what="the reconnect")

            def journal_off() -> bool:
                return "resume asked but the journal is off" in relay.log_path.read_text()

            await until(
                lambda: next_id + 9 in got.trades(Exchange.BINANCE) or journal_off(),
                what="the missed trades",
            )
            # Either way the reconnect asked for it: positions after what we saw, the first connect's time.
            log = relay.log_path.read_text()
            assert f'"binance":{conn.positions["binance"] - 10}' in log or '"from":{' in log
            assert '"fromTime":"' in log
            if journal_off():
                pytest.skip("this relay runs without its journal: resume is sent but not served")
            ids = [t[4] for t in got.frames if t[0] & 0x0F == Kind.TRADE and t[1] & 0x0F == Exchange.BINANCE]
            assert ids[seen:] == list(range(next_id, next_id + 10))  # each once, in order, none lost
            assert len(ids) == len(set(ids))
        finally:
            producer.close()
            await conn.close()
            task.cancel()
            relay.stop()

    asyncio.run(scenario())
