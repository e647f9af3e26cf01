"""
Shared fixtures: the schema export (the TypeScript contract), a real relay (`bun relay/main.ts` on temp
sockets), a producer that writes collector frames into its ingest socket, and a RelayConnection client on
the relay's consumer socket (test_relay.py, test_relay_spin.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from tapewire_trader.core import REPO_ROOT
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.relay import RelayConnection
from tapewire_trader.schema import bun_executable
from tapewire_trader.schema import schema_export
from tapewire_trader.wire import FLAG_ASK
from tapewire_trader.wire import FLAG_END
from tapewire_trader.wire import FLAG_TAKER_BUY
from tapewire_trader.wire import Exchange
from tapewire_trader.wire import Frame
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status
from tapewire_trader.wire import encode_frame

# Nothing of hypothesis' in the work tree (.hypothesis/): its home in the temp dir, no example database.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "tapewire-hypothesis"))
hypothesis_settings.register_profile("tapewire", database=None)
hypothesis_settings.load_profile("tapewire")


def wait_for(condition, timeout_s: float = 10.0, what: str = "a condition", interval_s: float = 0.01):
    """Poll until condition() is truthy; fail with `what` on timeout (tests wait, never sleep for a state)."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 (a raising condition means "not yet")
            last = e
        time.sleep(interval_s)
    raise AssertionError(
        f"timed out after {timeout_s}s waiting for {what}" + (f" (last error: {last})" if last else "")
    )


@pytest.fixture(autouse=True)
def _spool_in_tmp(tmp_path_factory, monkeypatch) -> None:
    """A node a test builds spools its events in a temp dir, never where `bun run dev` records from."""
    import tapewire_trader.settings as settings

    monkeypatch.setattr(settings, "DEFAULT_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))


@pytest.fixture(scope="session")
def export() -> dict[str, Any]:
    return schema_export(env={k: v for k, v in os.environ.items() if k != "TAPEWIRE_INSTRUMENTS"})


@pytest.fixture(scope="session")
def registry(export: dict[str, Any]) -> list[dict[str, Any]]:
    return export["instruments"]


@pytest.fixture
def provider(registry: list[dict[str, Any]]) -> TapewireInstrumentProvider:
    p = TapewireInstrumentProvider()
    p.load_registry(registry)
    return p


@dataclass
class RelayProcess:
    in_path: str
    out_path: str
    proc: subprocess.Popen
    log_path: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _connectable(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
        except OSError:
            return False
        return True


def start_relay(directory: Path) -> RelayProcess:
    in_path = str(directory / "in" / "relay-in.sock")
    out_path = str(directory / "out" / "relay-out.sock")
    env = dict(os.environ)
    env.update(
        TAPEWIRE_RELAY_IN=in_path,
        TAPEWIRE_RELAY_OUT=out_path,
        RELAY_METRICS_PORT="-1",
        # The journal (resume) lives with the test's sockets, never in the project's .data/.
        TAPEWIRE_JOURNAL_DIR=str(directory / "journal"),
    )
    log_path = directory / f"relay-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [bun_executable(), "relay/main.ts"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    relay = RelayProcess(in_path, out_path, proc, log_path)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"relay exited {proc.returncode}: {log_path.read_text()}")
        return _connectable(in_path) and _connectable(out_path)

    wait_for(up, what="the relay's sockets")
    return relay


@pytest.fixture
def relay_dir() -> Iterator[Path]:
    # Short path: Unix socket paths are limited to ~107 bytes.
    with tempfile.TemporaryDirectory(prefix="tw-", dir="/tmp") as d:
        yield Path(d)


@pytest.fixture
def relay(relay_dir: Path) -> Iterator[RelayProcess]:
    r = start_relay(relay_dir)
    try:
        yield r
    finally:
        r.stop()


@dataclass
class Producer:
    """
    Writes frames to the relay's ingest socket like the collectors do: one connection per exchange (the
    relay binds a collector connection to its exchange), CollectorStart first, then contiguous seqs.
    """

    path: str
    socks: dict[int, socket.socket] = field(default_factory=dict)
    seqs: dict[int, int] = field(default_factory=dict)

    def connect(self) -> Producer:
        return self

    def close(self) -> None:
        for s in self.socks.values():
            s.close()
        self.socks.clear()

    def frame(self, kind: int, flags: int, exchange: int, instrument: int, id_: int, price: int, size: int, ts: int):
        if exchange not in self.seqs:
            # A collector's first frame: CollectorStart at seq 0 (a restart, never a gap).
            self.seqs[exchange] = 1
            start = encode_frame(
                Frame(Kind.STATUS, Status.COLLECTOR_START << 4, exchange, 0, 0, os.getpid(), 0, 0, 0, ts),
            )
        else:
            start = b""
        seq = self.seqs[exchange]
        self.seqs[exchange] = seq + 1
        return start + encode_frame(Frame(kind, flags, exchange, instrument, seq, id_, price, size, ts, ts))

    def send(self, exchange: int, *chunks: bytes) -> None:
        sock = self.socks.get(exchange)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.path)
            self.socks[exchange] = sock
        sock.sendall(b"".join(chunks))

    def trade(self, exchange: int, instrument: int, trade_id: int, price: int, size: int, flags: int, ts: int) -> None:
        self.send(exchange, self.frame(Kind.TRADE, flags, exchange, instrument, trade_id, price, size, ts))

    def bbo(self, exchange: int, instrument: int, bid: tuple[int, int], ask: tuple[int, int], ts: int) -> None:
        self.send(
            exchange,
            self.frame(Kind.BBO, 0, exchange, instrument, 1, bid[0], bid[1], ts),
            self.frame(Kind.BBO, FLAG_ASK | FLAG_END, exchange, instrument, 1, ask[0], ask[1], ts),
        )

    def status(self, exchange: int, code: int, instrument: int = 0, detail: int = 0, count: int = 0) -> None:
        ts = time.time_ns()
        self.send(exchange, self.frame(Kind.STATUS, code << 4, exchange, instrument, detail, count, 0, ts))


@pytest.fixture
def producer(relay: RelayProcess) -> Iterator[Producer]:
    p = Producer(relay.in_path).connect()
    try:
        yield p
    finally:
        p.close()


async def until(condition, timeout_s: float = 10.0, what: str = "a condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


class Received:
    def __init__(self) -> None:
        self.frames: list[tuple] = []
        self.disconnects: list[str] = []

    def trades(self, exchange: int) -> set[int]:
        return {t[4] for t in self.frames if t[0] & 0x0F == Kind.TRADE and t[1] & 0x0F == exchange}


async def arrived(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.005)
    return False


async def filtered_pair_arrives(producer: Producer, got: Received, start_id: int) -> int:
    """Send (kraken, binance) trade pairs until one arrives filtered; returns the next free id."""
    for n in range(start_id, start_id + 200):
        producer.trade(Exchange.KRAKEN, 1, n, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
        producer.trade(Exchange.BINANCE, 4, n, 4200000, 100, FLAG_TAKER_BUY, time.time_ns())
        # A relay may drop a new collector run's first frame (seen after a journal recovery): try the next.
        if not await arrived(lambda n=n: n in got.trades(Exchange.BINANCE), 1.0):
            continue
        if n not in got.trades(Exchange.KRAKEN):
            return n + 1
    raise AssertionError("the relay never delivered a filtered pair")


@dataclass
class RelayClient:
    """A real relay in `relay_dir` and a RelayConnection on its consumer socket, with what it received."""

    relay_dir: Path
    relay: RelayProcess
    conn: RelayConnection
    got: Received

    async def restart_relay(self) -> None:
        """The relay goes away and comes back on the same path: the client reconnects by itself."""
        connects = self.conn.connects
        assert self.relay.stop() == 0
        await until(lambda: self.got.disconnects, what="the disconnect")
        self.relay = start_relay(self.relay_dir)
        await until(lambda: self.conn.connects == connects + 1 and self.conn.connected, what="the reconnect")


@asynccontextmanager
async def relay_client(relay_dir: Path, filter_: dict[str, Any], **options: Any) -> AsyncIterator[RelayClient]:
    """Start a relay and a filtered client (reconnecting after 0.02 s), connected; both stopped on exit."""
    relay = start_relay(relay_dir)
    got = Received()
    conn = RelayConnection(
        relay.out_path,
        on_frames=got.frames.extend,
        on_disconnect=got.disconnects.append,
        reconnect_initial_s=0.02,
        **options,
    )
    conn.set_filter(filter_)
    task = asyncio.create_task(conn.run())
    client = RelayClient(relay_dir, relay, conn, got)
    try:
        await until(lambda: conn.connected, what="the first connection")
        yield client
    finally:
        await conn.close()
        task.cancel()
        client.relay.stop()


def golden_path() -> Path:
    return REPO_ROOT / "schema" / "golden" / "frames.json"


def load_golden() -> Any:
    return json.loads(golden_path().read_text())
