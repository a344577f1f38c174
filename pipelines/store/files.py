"""Files people open (reports, ledgers, summaries, CSV for Excel), written so that none is ever seen
half-written: each is written to a temporary file beside its final name and renamed into place only
when everything that belongs with it succeeded (a database transaction included)."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "looks_like_formula",
    "neutralise_cell",
    "neutralise_frame",
    "read_or_make_secret",
    "staged_files",
    "write_bytes",
    "write_excel_csv",
    "write_json",
]

Stage = Callable[[Path], Path]
# What Excel and LibreOffice take for the start of a formula (OWASP "CSV injection"), also behind
# the tabs and carriage returns they skip.
_FORMULA_START = re.compile(r"[\t\r]*[=+\-@]")


@contextlib.contextmanager
def staged_files() -> Iterator[Stage]:
    """`stage(final)` gives a temporary path beside `final` to write to. When the block ends without
    an error every staged file is renamed to its final name; on an error every temporary is removed
    and the final files stay as they were.

    Used around a database transaction (`with staged_files() as stage: with engine.begin() …`), the
    files appear only after the transaction committed.
    """
    staged: dict[Path, Path] = {}

    def stage(final: Path) -> Path:
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
        os.close(handle)
        staged[final] = Path(temp)
        return Path(temp)

    try:
        yield stage
        for temp in staged.values():  # every file on disk before any is renamed: all or none
            _flush_to_disk(temp)
            os.chmod(temp, 0o644)  # mkstemp makes files private; these are meant to be shared
        for final, temp in list(staged.items()):
            os.replace(temp, final)
            del staged[final]
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)


def _flush_to_disk(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all."""
    with staged_files() as stage:
        stage(path).write_bytes(data)
    return Path(path)


def write_json(path: Path, value: Any, default: Callable[[Any], Any] = str) -> Path:
    """`value` as indented UTF-8 JSON (Chinese left readable), whole or not at all."""
    text = json.dumps(value, ensure_ascii=False, indent=2, default=default)
    return write_bytes(path, text.encode("utf-8"))


def looks_like_formula(value: Any) -> bool:
    """Whether a spreadsheet would run this text cell as a formula ('=HYPERLINK(…)', '+1', '@A1')."""
    return isinstance(value, str) and _FORMULA_START.match(value) is not None


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, with a leading single quote so it opens
    as text (for CSV, which has no cell formats); every other value unchanged."""
    if looks_like_formula(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell passed through neutralise_cell (numbers stay numbers)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_cell)
    return out


def write_excel_csv(out: Path, columns: list[str], chunks: Iterable[pd.DataFrame]) -> int:
    """Write the frames' `columns` under one header row to `out` as Excel reads it (BOM, CRLF),
    whole or not at all, no cell able to run as a formula; returns the rows written."""
    rows = 0
    with staged_files() as stage, open(stage(Path(out)), "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow([neutralise_cell(c) for c in columns])
        for chunk in chunks:
            neutralise_frame(chunk[columns]).to_csv(fh, header=False, index=False, lineterminator="\r\n")
            rows += len(chunk)
    return rows


def read_or_make_secret(path: Path) -> str:
    """A random key kept in `path` (readable by its owner only), made the first time it is asked
    for. The key is written in full beside it and linked into place, so two processes starting at
    once both end up with the one key that got there first."""
    import secrets

    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
        try:
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            os.unlink(temp)
    return path.read_text(encoding="ascii").strip()
