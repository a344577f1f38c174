"""Filled ledgers dropped into the inbox folder (<data_dir>/inbox/ledgers/), imported one file at a
time as the system and moved on: to done/ with its import report beside it, or to rejected/ with
the reason it could not be imported at all beside it.

- A file changed within the last `settle_seconds` (its modified or its change time: a copy may keep
  the old modified time) is still being copied in: it is left for the next run (so are Excel's `~$`
  lock files and hidden temporaries).
- A file is moved only after its import committed; whatever else goes wrong (the store away, the
  machine stopped) leaves it in the inbox for the retry or the next run. Importing a ledger again
  changes nothing (pipelines.ledgers.imports), so a file imported but not yet moved, or dropped
  twice, is never applied twice; the second import is recorded with every row "unchanged", and its
  report goes under a name of its own, beside the first try's report rather than over it.
- Only the file's own faults send it to rejected/ (not an .xlsx, unreadable, no ledger sheet,
  columns missing); any other error (the store busy with the night, or away) is raised and the
  file stays for the retry.
- Rows the import sends back are in the report of a file in done/: the file was imported.
  rejected/ holds files that are not a ledger at all (not .xlsx, unreadable, columns missing).

The inbox is a folder on the server, written by the prefecture's data team (or a transfer they
run), so its files are imported with the system's reach, as the nightly issue is made.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.ledgers.imports import import_ledger
from pipelines.ledgers.reading import NotALedger
from pipelines.settings import Settings
from pipelines.store.inbox import free_name, last_changed, move_file
from pipelines.store.workbooks import WorkbookUnreadable

__all__ = ["DEFAULT_SETTLE_SECONDS", "import_inbox_ledger", "ledger_inbox", "list_inbox_ledgers"]

DEFAULT_SETTLE_SECONDS = 120.0
REPORT_SUFFIX = "_导入报告.xlsx"
REASON_SUFFIX = "_未导入原因.txt"


def ledger_inbox(settings: Settings) -> Path:
    """The inbox folder (made when missing)."""
    folder = settings.data_dir / "inbox" / "ledgers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settled(path: Path, settle_seconds: float, now: float | None) -> bool:
    return ((time.time() if now is None else now) - last_changed(path)) >= settle_seconds


def list_inbox_ledgers(settings: Settings, settle_seconds: float = DEFAULT_SETTLE_SECONDS, now: float | None = None) -> list[str]:
    """The files waiting in the inbox that nobody is writing any more, by name (one mapped task each)."""
    waiting = []
    for path in sorted(ledger_inbox(settings).iterdir()):
        if path.is_file() and not path.name.startswith((".", "~$")) and _settled(path, settle_seconds, now):
            waiting.append(str(path))
    return waiting


def import_inbox_ledger(
    settings: Settings, path: Path | str, settle_seconds: float = DEFAULT_SETTLE_SECONDS, now: float | None = None
) -> dict:
    """Import one inbox file and move it to done/ (with its import report) or rejected/ (with the
    reason); returns {file, outcome: done | rejected | left | gone, moved_to, report, reason, rows,
    applied, unchanged, blank, rejected_rows}. Errors other than the file's own are raised, the file
    left where it was for the retry."""
    path = Path(path)
    result: dict = {"file": path.name, "moved_to": None, "report": None, "reason": None}
    if not path.is_file():  # an earlier try of this task moved it
        return {**result, "outcome": "gone"}
    if not _settled(path, settle_seconds, now):
        return {**result, "outcome": "left", "reason": "文件仍在写入，留待下次导入"}
    inbox = path.parent
    try:
        imported = import_ledger(store.connect(settings), settings, Scope.system(), path)
    except (NotALedger, WorkbookUnreadable) as exc:
        target = free_name(inbox / "rejected", path.name, (REASON_SUFFIX,))
        reason = f"台账“{path.name}”未导入：{exc}\n"
        store.write_bytes(target.with_name(target.stem + REASON_SUFFIX), reason.encode("utf-8"))
        move_file(path, target)
        return {**result, "outcome": "rejected", "moved_to": str(target), "reason": str(exc)}
    target = free_name(inbox / "done", path.name, (REPORT_SUFFIX,))
    report = target.with_name(target.stem + REPORT_SUFFIX)
    store.write_bytes(report, Path(imported["report"]).read_bytes())
    move_file(path, target)
    counts = {k: imported[k] for k in ("rows", "applied", "unchanged", "blank")}
    return {
        **result,
        "outcome": "done",
        "moved_to": str(target),
        "report": str(report),
        **counts,
        "rejected_rows": imported["rejected"],
    }
