"""The archive reader without the manifest's file list lists the folders: a compacted day counts once."""

import os
from pathlib import Path

from tapewire_trader.archive import list_partitions


def _touch(root: Path, path: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(b"PAR1")


def test_a_compacted_day_is_read_from_its_day_file_while_its_hourly_files_remain(tmp_path: Path) -> None:
    base = "trades/exchange=kraken"
    hours = [f"{base}/date=2026-11-20/hour={h:02d}/part-2026-11-20T{h:02d}.parquet" for h in range(24)]
    day = f"{base}/date=2026-11-20/hour=all/part-2026-11-20.parquet"
    nxt = [f"{base}/date=2026-11-21/hour={h:02d}/part-2026-11-21T{h:02d}.parquet" for h in range(2)]
    for p in [*hours, day, *nxt]:
        _touch(tmp_path, p)
    # The day's hourly files are superseded (kept for the grace period): only the day file and the open day's hours.
    assert list_partitions(tmp_path, "trades", "kraken") == [day, *nxt]
    # Given the manifest's files, exactly those.
    assert list_partitions(tmp_path, "trades", "kraken", hours) == hours


def test_a_re_exported_partition_is_read_from_its_newest_version_while_the_old_one_remains(tmp_path: Path) -> None:
    base = "trades/exchange=kraken/date=2026-11-21/hour=00"
    old, new = (
        f"{base}/part-2026-11-21T00.0123456789abcdef.parquet",
        f"{base}/part-2026-11-21T00.fedcba9876543210.parquet",
    )
    other = "trades/exchange=kraken/date=2026-11-21/hour=01/part-2026-11-21T01.00000000000000aa.parquet"
    for p in [new, old, other]:
        _touch(tmp_path, p)
    # The old version (kept for the grace period after the re-export) is older than the new one.
    os.utime(tmp_path / old, ns=(1_000_000_000, 1_000_000_000))
    assert list_partitions(tmp_path, "trades", "kraken") == [new, other]
