"""`bidui export links`: one row per person-level source row of a night, in two forms. The .xlsx is
for people (Chinese headers and method words, keys stored as text so Excel keeps every digit); the
.csv keeps the machine columns and codes (LINK_EXPORT_COLUMNS) other systems read: UTF-8 with a
byte-order mark, CRLF. Both written whole or not at all, no cell able to run as a formula
(pipelines.store).

Links tie people together across departments: only prefecture and county users may export them,
each only for persons of their own region.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.access import Scope
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["LINK_EXCEL_COLUMNS", "LINK_EXPORT_COLUMNS", "export_links"]

LINK_EXPORT_COLUMNS = ["feed", "record_key", "person_id", "household_code", "method", "probability"]
LINK_EXCEL_COLUMNS = ["数据项", "数据项代码", "记录编号", "人员编号", "户编码", "关联方式", "匹配概率"]
METHOD_WORDS = {"id_exact": "身份证号一致", "probabilistic": "概率关联", "review_decision": "人工审核", "singleton": "单独成人"}
EXPORTING_ROLES = ("prefecture", "county", "system")


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


def _masked(chunks: Iterator[pd.DataFrame], scope: Scope) -> Iterator[pd.DataFrame]:
    # Some departments key their records by ID number.
    for chunk in chunks:
        chunk["record_key"] = [scope.mask_text(v) for v in chunk["record_key"]]
        yield chunk


def _excel_rows(chunks: Iterator[pd.DataFrame], titles: dict[str, str]) -> Iterator[list]:
    for chunk in chunks:
        for feed, key, person, household, method, probability in chunk.itertuples(index=False, name=None):
            yield [
                titles.get(feed, feed),
                feed,
                key,
                person,
                household,
                METHOD_WORDS.get(method, method),
                None if probability is None or pd.isna(probability) else float(probability),
            ]


def export_links(settings: Settings, out: Path, scope: Scope, delivery_date: str | dt.date | None = None) -> dict:
    """Write a night's links (default: the newest night linked) of `scope`'s region to `out`, an
    .xlsx for people or a .csv for machines; returns path, night and rows."""
    from pipelines.catalog import load_feeds

    if scope.role not in EXPORTING_ROLES:
        raise BiduiError(f"只有市（州）和县级用户可以导出关联结果；用户 {scope.user_name}（{scope.role_label}）不能导出")
    kind = Path(out).suffix.lower()
    if kind not in (".xlsx", ".csv"):
        raise BiduiError(f"输出文件 {out} 须以 .xlsx（给人用 Excel 打开）或 .csv（给其他系统读取）结尾")
    engine = store.connect(settings)
    day = _night(engine, delivery_date)
    chunks = _masked(store.iter_links(engine, day, LINK_EXPORT_COLUMNS, region=scope.region_code), scope)
    if kind == ".xlsx":
        titles = {name: feed.title for name, feed in load_feeds(settings.feeds_config).items()}
        rows = store.write_excel_table(out, "关联结果", LINK_EXCEL_COLUMNS, _excel_rows(chunks, titles))
    else:
        rows = store.write_excel_csv(out, LINK_EXPORT_COLUMNS, chunks)
    return {"path": str(Path(out).resolve()), "delivery_date": day.isoformat(), "rows": rows}
