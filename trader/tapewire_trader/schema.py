"""
The contract from schema/, read through ``bun trader/schema-export.ts`` (the TypeScript definitions
themselves, so nothing is copied by hand): wire constants for the tests, the instrument registry for the
provider. The export honours TAPEWIRE_INSTRUMENTS exactly as every other process does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from tapewire_trader.core import REPO_ROOT

EXPORT_SCRIPT = REPO_ROOT / "trader" / "schema-export.ts"


class SchemaExportError(RuntimeError):
    """The schema export could not be run or did not print the expected JSON."""


def bun_executable() -> str:
    found = os.environ.get("BUN") or shutil.which("bun")
    if not found:
        raise SchemaExportError("`bun` is not on PATH: the trader reads schema/ through Bun (set BUN=/path/to/bun)")
    return found


def schema_export(env: dict[str, str] | None = None, timeout_s: float = 30.0) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [bun_executable(), str(EXPORT_SCRIPT)],
            cwd=REPO_ROOT,
            env=env if env is not None else dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SchemaExportError(f"bun {EXPORT_SCRIPT.name} failed to run: {e}") from e
    if done.returncode != 0:
        raise SchemaExportError(f"bun {EXPORT_SCRIPT.name} exited {done.returncode}: {done.stderr.strip()}")
    try:
        parsed = json.loads(done.stdout)
    except json.JSONDecodeError as e:
        raise SchemaExportError(f"bun {EXPORT_SCRIPT.name} printed no JSON: {e}") from e
    if not isinstance(parsed, dict) or not isinstance(parsed.get("instruments"), list):
        raise SchemaExportError(f"bun {EXPORT_SCRIPT.name}: expected an object with an instruments list")
    return parsed
