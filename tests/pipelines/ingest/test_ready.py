"""Whether a delivery is fully written (pipelines.ingest.delivery_ready), on tmp folders with set
modification times: the marker, a stable file set, files still changing, no folder yet."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.ingest import READY_MARKER, delivery_ready

# The check's clock in these tests (seconds since the epoch, in 2096): later than any file's change
# time on this machine, which the check reads too and no test can set.
NOW = 4_000_000_000.0


def _file(path: Path, minutes_ago: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("证件号码\n", encoding="utf-8")
    os.utime(path, (NOW - minutes_ago * 60, NOW - minutes_ago * 60))
    return path


def test_a_marker_makes_the_delivery_ready_whatever_its_files_do(tmp_path):
    _file(tmp_path / "2026-11-20" / "hukou.csv", minutes_ago=1)
    _file(tmp_path / "2026-11-20" / READY_MARKER, minutes_ago=0)
    readiness = delivery_ready(tmp_path / "2026-11-20", stable_minutes=30, now=NOW)
    assert (bool(readiness), readiness.reason) == (True, "交付目录中有完成标记 _READY")


def test_files_unchanged_for_the_stable_minutes_are_ready(tmp_path):
    _file(tmp_path / "hukou.csv", minutes_ago=45)
    _file(tmp_path / "school_enrolment.xlsx", minutes_ago=30)
    readiness = delivery_ready(tmp_path, stable_minutes=30, now=NOW)
    assert (readiness.ready, readiness.reason) == (True, "2 个文件已连续 30.0 分钟没有变动（要求 30 分钟）")


def test_a_file_changed_within_the_stable_minutes_keeps_the_night_waiting(tmp_path):
    _file(tmp_path / "hukou.csv", minutes_ago=45)
    _file(tmp_path / "parts" / "medical.csv", minutes_ago=12)  # a folder still being copied in
    readiness = delivery_ready(tmp_path, stable_minutes=30, now=NOW)
    assert (readiness.ready, readiness.reason) == (
        False,
        "文件“parts/medical.csv”在 12.0 分钟前仍有变动，需连续 30 分钟没有变动（或有完成标记 _READY）",
    )
    # Zero stable minutes: any file will do.
    assert delivery_ready(tmp_path, stable_minutes=0, now=NOW).ready is True


def test_a_missing_or_empty_folder_is_not_ready(tmp_path):
    missing = delivery_ready(tmp_path / "2026-11-21", stable_minutes=30, now=NOW)
    assert (missing.ready, missing.reason) == (False, f"交付目录 {tmp_path / '2026-11-21'} 尚不存在")
    (tmp_path / "2026-11-21").mkdir()
    empty = delivery_ready(tmp_path / "2026-11-21", stable_minutes=0, now=NOW)
    assert (empty.ready, empty.reason) == (
        False,
        f"交付目录 {tmp_path / '2026-11-21'} 中还没有文件，也没有完成标记 _READY",
    )


def test_a_file_copied_in_with_its_old_modified_time_is_still_arriving(tmp_path):
    # cp -p, scp -p, rsync -t and Windows copies keep a department's file's modified time, days old
    # while it is still being written; the change time (set by the copy itself) says when it arrived.
    copied = tmp_path / "hukou.csv"
    copied.write_text("证件号码\n", encoding="utf-8")
    days_old = copied.stat().st_mtime - 3 * 86400
    os.utime(copied, (days_old, days_old))
    arrived = copied.stat().st_ctime
    readiness = delivery_ready(tmp_path, stable_minutes=30, now=arrived + 60)
    assert (readiness.ready, readiness.reason) == (
        False,
        "文件“hukou.csv”在 1.0 分钟前仍有变动，需连续 30 分钟没有变动（或有完成标记 _READY）",
    )
    assert delivery_ready(tmp_path, stable_minutes=30, now=arrived + 31 * 60).ready is True
