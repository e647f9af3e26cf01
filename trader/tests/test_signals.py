"""
`python -m tapewire_trader` stops cleanly when the stop signal comes twice (the process group's signal and
trader/main.ts forwarding it): the strategy stops, the recorder writes ``run.stopped``, exit code 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from conftest import wait_for


def test_a_second_sigterm_during_shutdown_does_not_kill_the_node(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TAPEWIRE_RELAY_OUT": str(tmp_path / "no-relay.sock"),  # it keeps reconnecting: a node that runs
        "TRADER_SPOOL_DIR": str(tmp_path / "spool"),
        "TRADER_LOG_LEVEL": "WARNING",
        "TRADER_VENUES": "BINANCE",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tapewire_trader"],
        cwd=Path(__file__).parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        spool = tmp_path / "spool"
        wait_for(lambda: any(spool.glob("*.jsonl")), timeout_s=60, what="the run's spool file")
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: any("Received SIGTERM" in line for line in lines), timeout_s=20, what="the first stop")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, "".join(lines[-20:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (file,) = spool.glob("*.jsonl")
    kinds = [json.loads(line)["kind"] for line in file.read_text().splitlines()]
    assert kinds[0] == "run.started"
    assert kinds[-1] == "run.stopped"
