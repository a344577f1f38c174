"""`bidui export links`: one CSV row per person-level source row of a night, for Excel.

UTF-8 with a byte-order mark (Excel on Windows otherwise reads Chinese as GBK) and CRLF line ends,
written whole or not at all (pipelines.store.write_excel_csv).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["LINK_EXPORT_COLUMNS", "export_links"]

LINK_EXPORT_COLUMNS = ["feed", "record_key", "person_id", "household_code", "method", "probability"]


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
    rows = store.write_excel_csv(out, LINK_EXPORT_COLUMNS, store.iter_links(engine, day, LINK_EXPORT_COLUMNS))
    return {"path": str(Path(out).resolve()), "delivery_date": day.isoformat(), "rows": rows}
