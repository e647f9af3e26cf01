"""
Benchmark helpers for ``bun run bench:nautilus`` (bench/nautilus.ts); not a test.

``python -m tapewire_trader.bench latency RELAY_OUT SECONDS``: a TradingNode with the tapewire data client
and an actor that records, per TradeTick, the strategy clock minus the frame's receive stamp (ts_init =
tsRecv); prints one JSON line with the percentiles. ``python -m tapewire_trader.bench decode N``: decode
and translate N trade frames in socket-sized batches; prints frames/s.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.config import TapewireDataClientConfig
from tapewire_trader.core import TAPEWIRE
from tapewire_trader.factories import TapewireLiveDataClientFactory
from tapewire_trader.parsing import FrameTranslator
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.schema import schema_export
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import Frame
from tapewire_trader.wire import FrameBatchDecoder
from tapewire_trader.wire import Kind
from tapewire_trader.wire import encode_frame

BENCH_INSTRUMENT = InstrumentId.from_str("BTCUSDT.BINANCE")


def percentiles(samples: list[int]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    s = sorted(samples)

    def at(q: float) -> float:
        return s[min(len(s) - 1, int(q * len(s)))] / 1000.0  # µs

    return {"n": len(s), "p50_us": at(0.5), "p99_us": at(0.99), "max_us": s[-1] / 1000.0}


class LatencyActor(Actor):
    def __init__(self, warmup_ns: int) -> None:
        super().__init__(ActorConfig(component_id="BenchLatency"))
        self.samples: list[int] = []
        self._skip_before = 0
        self._warmup_ns = warmup_ns

    def on_start(self) -> None:
        self._skip_before = self.clock.timestamp_ns() + self._warmup_ns
        self.subscribe_trade_ticks(BENCH_INSTRUMENT)

    def on_trade_tick(self, tick) -> None:
        now = self.clock.timestamp_ns()
        if now >= self._skip_before:
            self.samples.append(now - tick.ts_init)


def latency(relay_out: str, seconds: float) -> dict:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(
        loop=loop,
        config=TradingNodeConfig(
            trader_id="BENCH-001",
            logging=LoggingConfig(log_level="ERROR"),
            data_clients={TAPEWIRE: TapewireDataClientConfig(relay_path=relay_out, consumer_name="bench-nautilus")},
            timeout_post_stop=0.5,
            timeout_disconnection=1.0,
        ),
    )
    node.add_data_client_factory(TAPEWIRE, TapewireLiveDataClientFactory)
    actor = LatencyActor(warmup_ns=1_000_000_000)
    node.trader.add_actor(actor)
    node.build()
    runner = threading.Thread(target=node.run, daemon=True)
    runner.start()
    print(json.dumps({"ready": True}), flush=True)
    time.sleep(seconds)  # a benchmark's fixed measuring window, not a wait for a condition
    node.get_event_loop().call_soon_threadsafe(node.stop)
    runner.join(timeout=30)
    node.dispose()
    return percentiles(actor.samples)


def decode(n: int) -> dict:
    provider = TapewireInstrumentProvider()
    provider.load_registry(schema_export()["instruments"])
    translator = FrameTranslator(provider.spec)
    translator.trades.add((3, 4))
    one = [
        encode_frame(Frame(Kind.TRADE, FLAG_TAKER_BUY, 3, 4, i, i, 4_200_000 + i % 100, 100_000, 1, 1))
        for i in range(5461)
    ]
    chunk = b"".join(one)  # 262 128 bytes: one socket read at the client's default read_bytes
    decoder = FrameBatchDecoder()
    done = 0
    started = time.perf_counter()
    while done < n:
        decoder.feed(chunk)
        done += len(one)
    decode_s = time.perf_counter() - started
    done = 0
    started = time.perf_counter()
    while done < n:
        out: list = []
        translator.translate(decoder.feed(chunk), out)
        done += len(one)
    elapsed = time.perf_counter() - started
    return {
        "frames": done,
        "decode_frames_per_s": round(done / decode_s),
        "frames_per_s": round(done / elapsed),
    }


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "latency":
        print(json.dumps(latency(sys.argv[2], float(sys.argv[3]))), flush=True)
    elif mode == "decode":
        print(json.dumps(decode(int(sys.argv[2]))), flush=True)
    else:
        sys.exit("usage: python -m tapewire_trader.bench latency RELAY_OUT SECONDS | decode N")
