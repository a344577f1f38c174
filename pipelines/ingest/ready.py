"""Whether a night's delivery is fully written, so ingest never reads a file still being copied in.

A delivery is ready when its folder holds the marker file `_READY` (written by the sender after the
last file), or, for senders that write no marker, when it holds files and none of them has changed
for `stable_minutes`: neither modified nor otherwise changed, as a copy that keeps each file's old
modified time (Windows Explorer, cp -p, scp -p, rsync -t) still changes it as it writes. The Airflow sensor in front of ingest asks this every few minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.store.inbox import last_changed

__all__ = ["DEFAULT_STABLE_MINUTES", "READY_MARKER", "Readiness", "delivery_ready"]

READY_MARKER = "_READY"
DEFAULT_STABLE_MINUTES = 30.0


@dataclass(frozen=True)
class Readiness:
    """Whether the delivery may be ingested, and why (Chinese, for the task log)."""

    ready: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ready


def delivery_ready(
    delivery_dir: Path | str,
    stable_minutes: float = DEFAULT_STABLE_MINUTES,
    now: float | None = None,
) -> Readiness:
    """Ready when `delivery_dir` has a `_READY` marker, or has files of which none changed in the
    last `stable_minutes` (0: any file will do; see store.inbox.last_changed). Files in subfolders count too: a sender
    copying a folder in is still writing. `now`: seconds since the epoch (default: the clock)."""
    folder = Path(delivery_dir)
    if not folder.is_dir():
        return Readiness(False, f"交付目录 {folder} 尚不存在")
    if (folder / READY_MARKER).is_file():
        return Readiness(True, f"交付目录中有完成标记 {READY_MARKER}")
    files = [p for p in folder.rglob("*") if p.is_file()]
    if not files:
        return Readiness(False, f"交付目录 {folder} 中还没有文件，也没有完成标记 {READY_MARKER}")
    changed = {p: last_changed(p) for p in files}
    newest = max(files, key=changed.__getitem__)
    quiet = ((time.time() if now is None else now) - changed[newest]) / 60
    if quiet < stable_minutes:
        return Readiness(
            False,
            f"文件“{newest.relative_to(folder)}”在 {quiet:.1f} 分钟前仍有变动，"
            f"需连续 {stable_minutes:g} 分钟没有变动（或有完成标记 {READY_MARKER}）",
        )
    return Readiness(True, f"{len(files)} 个文件已连续 {quiet:.1f} 分钟没有变动（要求 {stable_minutes:g} 分钟）")
