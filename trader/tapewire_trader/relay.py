"""
An asyncio consumer of the relay's Unix socket (relay/README.md): one JSON filter line after connecting
(and again whenever it changes), then 48-byte frames read in large chunks and decoded one chunk at a time.
It reconnects by itself, 50 ms → 2 s with jitter, like relay/client.ts.

Spin mode (``spin=True``, off by default; relay/README.md "Spin mode"): for a latency-bound strategy the socket
is read by busy-polling a non-blocking ``recv_into`` instead of waiting in the event loop's selector, which on
this VM saves the tens of µs a wake-up costs. It spins for ``spin_slice_s`` (1 ms), then yields one event-loop
turn (``asyncio.sleep(0)``) so timers and orders still run; while connected it uses a whole CPU.

Resume (relay journal, /work/coord/ack-protocol.md §2): the seq of a frame a consumer receives is the relay's
per-exchange journal seq, so the next seq wanted per exchange is tracked, and the first filter line of every
connection carries it as ``from`` (plus ``fromTime``, the first connect, for exchanges not seen yet). A relay
that no longer holds a position answers with a ``gap`` status first, which the translator treats as loss.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import time
from collections.abc import Callable
from typing import Any

from tapewire_trader.wire import EXCHANGE_NAMES
from tapewire_trader.wire import FrameBatchDecoder
from tapewire_trader.wire import Kind
from tapewire_trader.wire import Status

RawFrame = tuple[int, int, int, int, int, int, int, int, int]

_EXCHANGE_NAMES = EXCHANGE_NAMES
_SLOW_CONSUMER_B0 = Kind.STATUS | (Status.SLOW_CONSUMER << 4)


def relay_out_path(configured: str | None = None) -> str:
    return configured or os.environ.get("TAPEWIRE_RELAY_OUT") or "run/relay-out.sock"


class _SpinWriter:
    """The filter-line side of a spin-mode connection: non-blocking sends, the rest kept for the next poll."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = b""

    def write(self, data: bytes) -> None:
        self.pending += data
        self.flush()

    def flush(self) -> None:
        while self.pending:
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return
            self.pending = self.pending[n:]

    def close(self) -> None:
        self.sock.close()

    async def wait_closed(self) -> None:
        return None


class RelayConnection:
    def __init__(
        self,
        path: str,
        on_frames: Callable[[list[RawFrame]], None],
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
        read_bytes: int = 262_144,
        reconnect_initial_s: float = 0.05,
        reconnect_max_s: float = 2.0,
        resume: bool = True,
        spin: bool = False,
        spin_slice_s: float = 0.001,
    ) -> None:
        self.path = path
        self._on_frames = on_frames
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._read_bytes = read_bytes
        self._initial = reconnect_initial_s
        self._max = reconnect_max_s
        self._filter: dict[str, Any] = {}
        self._writer: asyncio.StreamWriter | _SpinWriter | None = None
        self.spin = spin
        self._slice = spin_slice_s
        # Spin mode's counters: recv calls that found nothing, that returned data, event-loop turns yielded.
        self.spin_polls = 0
        self.spin_reads = 0
        self.spin_yields = 0
        self._closed = False
        self.decoder = FrameBatchDecoder()
        self.connects = 0
        self.batches = 0
        self._resume = resume
        # Next journal seq wanted per exchange name (low 32 bits: the relay maps them to its latest such seq).
        self.positions: dict[str, int] = {}
        self._from_time_ns: int | None = None

    @property
    def connected(self) -> bool:
        return self._writer is not None

    def set_filter(self, filter_: dict[str, Any]) -> None:
        """Replace the filter as a whole (sent at once when connected, and on every reconnect)."""
        self._filter = filter_
        if self._writer is not None:
            self._send_filter(self._writer)

    def _send_filter(self, writer: asyncio.StreamWriter | _SpinWriter, first: bool = False) -> None:
        line = dict(self._filter)
        if first and self._resume and self._from_time_ns is not None:
            if self.positions:
                line["from"] = dict(self.positions)
            line["fromTime"] = str(self._from_time_ns)
        writer.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")

    def _track(self, frames: list[RawFrame]) -> None:
        positions = self.positions
        names = _EXCHANGE_NAMES
        for t in frames:
            b0 = t[0]
            if b0 == _SLOW_CONSUMER_B0:
                nxt = t[3]  # seq = the first frame dropped for us: resume exactly there
            else:
                nxt = (t[3] + 1) & 0xFFFFFFFF
            positions[names[t[1] & 0x0F]] = nxt

    async def run(self) -> None:
        """Connect, read, reconnect, until close(); never raises for a lost or missing relay."""
        delay = self._initial
        while not self._closed:
            reason = "closed by relay"
            if self.spin:
                try:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        sock.connect(self.path)
                    except OSError:
                        sock.close()
                        raise
                except OSError as e:
                    reason = f"connect failed: {e.strerror or e}"
                else:
                    delay = self._initial
                    sock.setblocking(False)
                    reason = await self._read_spin(sock)
            else:
                try:
                    reader, writer = await asyncio.open_unix_connection(self.path)
                except OSError as e:
                    reason = f"connect failed: {e.strerror or e}"
                else:
                    delay = self._initial
                    reason = await self._read(reader, writer)
            if self._closed:
                return
            if self._on_disconnect is not None:
                self._on_disconnect(reason)
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 (jitter, not crypto)
            delay = min(delay * 2, self._max)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        try:
            self._opened(writer)
            while True:
                chunk = await reader.read(self._read_bytes)
                if not chunk:
                    return "closed by relay"
                frames = self.decoder.feed(chunk)
                if frames:
                    self._deliver(frames)
                    # One batch per turn: timers, orders and other clients run between batches.
                    await asyncio.sleep(0)
        except (ConnectionError, OSError) as e:
            return f"read failed: {e}"
        finally:
            self._writer = None
            writer.close()

    def _opened(self, writer: asyncio.StreamWriter | _SpinWriter) -> None:
        self.decoder.reset()
        self._writer = writer
        self.connects += 1
        self._send_filter(writer, first=True)
        if self._from_time_ns is None:
            self._from_time_ns = time.time_ns()
        if self._on_connect is not None:
            self._on_connect()

    def _deliver(self, frames: list[RawFrame]) -> None:
        self.batches += 1
        if self._resume:
            self._track(frames)
        self._on_frames(frames)

    async def _read_spin(self, sock: socket.socket) -> str:
        """Spin mode: poll recv_into for one slice, hand each read's frames on, yield a turn, repeat."""
        writer = _SpinWriter(sock)
        buf = bytearray(self._read_bytes)
        try:
            self._opened(writer)
            while self._writer is writer:  # close() clears it during a yield
                ended = self._spin_slice(sock, writer, buf)
                if ended is not None:
                    return ended
                self.spin_yields += 1
                await asyncio.sleep(0)
            return "closed"
        except (ConnectionError, OSError) as e:
            return f"read failed: {e}"
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()

    def _spin_slice(self, sock: socket.socket, writer: _SpinWriter, buf: bytearray) -> str | None:
        """Busy-poll for spin_slice_s; returns why the connection ended, or None to yield and go on."""
        perf = time.perf_counter
        deadline = perf() + self._slice
        view = memoryview(buf)
        while True:
            try:
                n = sock.recv_into(buf)
            except BlockingIOError:
                self.spin_polls += 1
                if writer.pending:
                    writer.flush()
                if perf() >= deadline:
                    return None
                continue
            if n == 0:
                return "closed by relay"
            self.spin_reads += 1
            frames = self.decoder.feed(bytes(view[:n]))
            if frames:
                self._deliver(frames)
            if self._writer is not writer or perf() >= deadline:
                return None

    async def close(self) -> None:
        self._closed = True
        writer = self._writer
        self._writer = None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass  # already gone: closing is all we wanted
