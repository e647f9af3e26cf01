"""
The trader's event spool: one append-only JSON-lines file per run (``<spool_dir>/<run_id>.jsonl``), each line
one engine event with its run-local ``seq``. The recorder (trader/recorder/, Bun) tails these files into
Postgres and keeps its own committed offset, so a database that is down loses nothing: lines wait here.

Nanosecond stamps (beyond 2**53) are written as decimal strings so no JSON reader rounds them.
Every line is written whole and flushed at once (a crash of this process loses nothing the OS has; the
reader never applies a line without its newline). ``close`` fsyncs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_SAFE_INT = 2**53 - 1


def exact_json(value: Any) -> Any:
    """Integers a JSON reader's double cannot hold (nanosecond stamps) become decimal strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INT <= value <= _SAFE_INT else str(value)
    if isinstance(value, dict):
        return {k: exact_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact_json(v) for v in value]
    return value


class EventSpool:
    def __init__(self, spool_dir: str | os.PathLike[str], run_id: str) -> None:
        self.dir = Path(spool_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / f"{run_id}.jsonl"
        self.run_id = run_id
        self.seq = 0
        # Line-at-a-time writes; O_APPEND keeps every line contiguous.
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)

    def append(self, kind: str, ts_ns: int, record: dict[str, Any]) -> int:
        """Write one event; returns its seq (1, 2, …)."""
        self.seq += 1
        line = json.dumps(
            exact_json({"run": self.run_id, "seq": self.seq, "kind": kind, "ts": ts_ns, **record}),
            separators=(",", ":"),
            default=str,
        )
        self._file.write(line + "\n")
        return self.seq

    def close(self) -> None:
        if self._file.closed:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
