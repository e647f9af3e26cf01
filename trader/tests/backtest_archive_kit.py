"""
The real path from the relay to the Parquet archive, for the backtest tests: `archive-fixture.ts` stores the
relay's journal through the bridge's database writer into a fresh database and exports it with the archiver.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tapewire_trader.core import REPO_ROOT
from tapewire_trader.schema import bun_executable

HOUR_NS = 3_600_000_000_000


def archive_relay(relay_out: str, until: dict[int, int], root: Path, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Archive everything the relay journaled up to ``until`` (exchange -> last seq); the manifest rows."""
    # Two hours on: every partition of frames stamped now is closed for the archiver.
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 3600))
    args = {"relayOut": relay_out, "until": {str(k): v for k, v in until.items()}, "root": str(root), "now": now}
    done = subprocess.run(
        [bun_executable(), "trader/tests/archive-fixture.ts", json.dumps(args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"archive-fixture exited {done.returncode}: {done.stderr}{done.stdout}")
    return json.loads(done.stdout.strip().splitlines()[-1])["manifest"]
