"""`export_clues`: the clues a user may see, in two forms. The .xlsx is for people (Chinese headers
and status words, clue number, rule name, township, village and person names, keys and ID numbers
stored as text so Excel keeps every digit); the .csv keeps the machine columns and codes that other
systems and scripts read (CLUE_EXPORT_COLUMNS). ID numbers are masked unless the user may see them,
and no cell of either can run as a formula (pipelines.store)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.access import Scope
from pipelines.clues.life import CLUE_EXPORT_COLUMNS, load_clues
from pipelines.clues.states import STATE_LABELS
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["CLUE_EXCEL_COLUMNS", "export_clues"]

CLUE_EXCEL_COLUMNS = [
    "线索编号",
    "规则",
    "规则名称",
    "状态",
    "乡镇",
    "村",
    "户编号",
    "姓名",
    "身份证号",
    "人员编号",
    "对象数据项",
    "对象记录编号",
    "核实部门",
    "首次发现",
    "最近发现",
    "重开次数",
    "整改期限",
]
_WIDTHS = {"线索编号": 12, "规则名称": 24, "身份证号": 20, "对象记录编号": 20, "核实部门": 12}


def _day(value) -> str | None:
    return None if value in (None, "") else str(value)[:10]


def _region_name(regions: dict[str, str], code: str | None, digits: int) -> str:
    if not code or len(code) < digits:
        return ""
    return regions.get(code[:digits].ljust(12, "0")) or code[:digits]


def build_clue_sheet(settings: Settings, frame: pd.DataFrame, scope: Scope) -> list[list]:
    """One row of CLUE_EXCEL_COLUMNS per clue of `frame` (load_clues), as `scope` may see it."""
    from pipelines.catalog import load_feeds
    from pipelines.rules import load_rules

    engine = store.connect(settings)
    rule_names = {rule.code: rule.name for rule in load_rules()}
    feed_titles = {name: feed.title for name, feed in load_feeds(settings.feeds_config).items()}
    reference = store.load_region_reference(engine)
    regions = dict(zip(reference["code"], reference["name"]))
    people = store.load_person_names(engine, frame["person_id"])
    rows = []
    for clue in frame.to_dict("records"):
        name, id_number = people.get(clue["person_id"] or "", (None, None))
        rows.append(
            [
                clue["clue_id"],
                clue["rule"],
                rule_names.get(clue["rule"], ""),
                STATE_LABELS.get(clue["status"], clue["status"]),
                _region_name(regions, clue["village_code"], 9),
                _region_name(regions, clue["village_code"], 12),
                scope.mask_text(clue["household_no"]) or None,
                name,
                scope.mask_id(id_number) or None,
                clue["person_id"],
                feed_titles.get(clue["subject_feed"], clue["subject_feed"]),
                scope.mask_text(clue["subject_key"]),
                clue["department"],
                _day(clue["first_seen"]),
                _day(clue["last_seen"]),
                int(clue["reopen_count"] or 0),
                _day(clue["deadline"]),
            ]
        )
    return rows


def export_clues(settings: Settings, out: Path, scope: Scope) -> dict:
    """Write the clues `scope` may see to `out`: an .xlsx for people or a .csv for machines (UTF-8
    with BOM, CRLF), whole or not at all; returns the path and the rows written."""
    kind = Path(out).suffix.lower()
    if kind not in (".xlsx", ".csv"):
        raise BiduiError(f"输出文件 {out} 须以 .xlsx（给人用 Excel 打开）或 .csv（给其他系统读取）结尾")
    frame = load_clues(store.connect(settings), scope)
    if kind == ".xlsx":
        rows = store.write_excel_table(out, "问题线索", CLUE_EXCEL_COLUMNS, build_clue_sheet(settings, frame, scope), _WIDTHS)
    else:
        for column in ("first_seen", "last_seen", "deadline"):
            frame[column] = [_day(v) for v in frame[column]]
        # Some departments key their records by ID number: the subject key is then one.
        for column in ("subject_key", "person_id", "household_no"):
            frame[column] = [None if v is None else scope.mask_text(v) for v in frame[column]]
        rows = store.write_excel_csv(out, CLUE_EXPORT_COLUMNS, [frame])
    return {"path": str(Path(out).resolve()), "rows": rows}
