"""Files dropped into an inbox folder, moved on once handled: never overwritten, never lost.

A move is a rename inside one file system (the inbox and its done/ and rejected/ folders sit
together), so a file is always whole in exactly one place."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["free_name", "last_changed", "move_file"]


def last_changed(path: Path) -> float:
    """When the file last changed, in seconds since the epoch: the later of its modified and its
    change time. Copies that keep a file's modified time (Windows Explorer, cp -p, scp -p, rsync -t)
    leave it days old while the file is still being written; the change time cannot be set back,
    and the copy moves it on as it writes and when it sets the old modified time."""
    stat = Path(path).stat()
    return max(stat.st_mtime, stat.st_ctime)


def free_name(folder: Path, name: str, companions: tuple[str, ...] = ()) -> Path:
    """`folder/name`, or `folder/<stem>_2<suffix>`, `_3`, … when that is taken; with `companions`
    (endings of files written beside it, e.g. "_导入报告.xlsx"), a name none of whose companions
    `<stem><ending>` exists either, so a file left there by a try that stopped half-way is never
    written over."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix, n = Path(name).stem, Path(name).suffix, 1
    path = folder / name
    while path.exists() or any((folder / f"{path.stem}{ending}").exists() for ending in companions):
        n += 1
        path = folder / f"{stem}_{n}{suffix}"
    return path


def move_file(path: Path, target: Path) -> Path:
    """Rename `path` to `target` (which must not exist: pick it with `free_name`)."""
    if target.exists():
        raise FileExistsError(target)
    os.replace(path, target)
    return target
