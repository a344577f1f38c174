"""`bidui export links`: one CSV row per person-level source row of a night, for Excel.

UTF-8 with a byte-order mark (Excel on Windows otherwise reads Chinese as GBK) and CRLF line ends;
written to a temporary file beside the target and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["EXPORT_COLUMNS", "export_links", "write_excel_csv"]

EXPORT_COLUMNS = ["feed", "record_key", "person_id", "household_code", "method", "probability"]


def _night(engine, delivery_date: str | dt.date | None) -> dt.date:
    if delivery_date is None:
        day = store.latest_link_date(engine)
        if day is None:
            raise BiduiError("还没有任何关联结果，请先运行 bidui link 或 bidui run")
        return day
    try:
        day = dt.date.fromisoformat(delivery_date) if isinstance(delivery_date, str) else delivery_date
    except ValueError as exc:
        raise BiduiError(f"数据日期“{delivery_date}”格式不对，应为 YYYY-MM-DD") from exc
    if store.latest_link_date(engine, day) != day:
        raise BiduiError(f"数据日期 {day.isoformat()} 没有关联结果，请先运行 bidui link {day.isoformat()}")
    return day


def export_links(settings: Settings, out: Path, delivery_date: str | dt.date | None = None) -> dict:
    """Write a night's links (default: the newest night linked) to `out`; returns path, night and rows."""
    engine = store.connect(settings)
    day = _night(engine, delivery_date)
    rows = write_excel_csv(out, EXPORT_COLUMNS, store.iter_links(engine, day, EXPORT_COLUMNS))
    return {"path": str(Path(out).resolve()), "delivery_date": day.isoformat(), "rows": rows}


def write_excel_csv(out: Path, columns: list[str], chunks: Iterable[pd.DataFrame]) -> int:
    """Write the frames' `columns` under one header row to `out` as Excel reads it (BOM, CRLF),
    through a temporary file renamed at the end; returns the rows written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    rows = 0
    try:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerow(columns)
            for chunk in chunks:
                chunk[columns].to_csv(fh, header=False, index=False, lineterminator="\r\n")
                rows += len(chunk)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows
