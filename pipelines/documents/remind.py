"""Overdue reminders (逾期提醒): per county, the clues still open past their 整改期限 as a workbook the
county passes on to its townships — the overdue list, sorted by days overdue, and a count per
township — written to data_dir/reminders/<date>/逾期线索_<县名>_<code>_<date>.xlsx.

Overdue is pipelines.clues.is_overdue: open (issued … signed) and the deadline before the day.
Everything is asked of the database per county (the county and status index, persons by key), so a
prefecture of a million clues is a handful of indexed queries. ID numbers are masked by default, as
in the ledgers: the list goes on below county level. A county with no overdue clue gets no file,
and re-running a day rewrites that day's files (a county that has caught up loses its old one).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from pipelines import store
from pipelines.access import Scope, mask_id
from pipelines.clues import STATE_LABELS
from pipelines.clues.states import OPEN_STATES
from pipelines.errors import BiduiError
from pipelines.ledgers.values import build_region_names, region_name
from pipelines.settings import Settings
from pipelines.store.tables import clues, persons

__all__ = [
    "OVERDUE_COLUMNS",
    "TOWNSHIP_COLUMNS",
    "Reminder",
    "build_overdue_counts",
    "build_overdue_list",
    "remind_overdue",
    "reminder_file_name",
    "run_weekly_reminders",
]

OVERDUE_COLUMNS = (
    "线索编号",
    "规则",
    "乡镇",
    "村",
    "姓名",
    "身份证号",
    "核实部门",
    "状态",
    "下发日期",
    "整改期限",
    "逾期天数",
    "重开次数",
)
TOWNSHIP_COLUMNS = ("乡镇", "乡镇代码", "逾期线索数", "最长逾期天数")
LIST_SHEET = "逾期线索"
TOWNSHIP_SHEET = "按乡镇统计"
_WIDTHS = {"规则": 24, "乡镇": 12, "村": 12, "身份证号": 20, "核实部门": 12, "状态": 14, "下发日期": 11, "整改期限": 11}
_DAYS = OVERDUE_COLUMNS.index("逾期天数")
_NAME_FIELDS = ("name", "head_name", "owner_name", "姓名")
_ID_FIELDS = ("id_number", "head_id", "owner_id", "证件号码", "身份证号")


@dataclass(frozen=True)
class Reminder:
    """One county's overdue list as written."""

    county_code: str
    county_name: str
    day: dt.date
    file: Path
    clues: int
    most_days: int
    townships: dict[str, int] = field(default_factory=dict)
    masked: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the DAG task's XCom)."""
        return {
            "county_code": self.county_code,
            "county_name": self.county_name,
            "date": self.day.isoformat(),
            "file": str(self.file),
            "clues": self.clues,
            "most_days": self.most_days,
            "townships": dict(self.townships),
            "masked": self.masked,
        }


def reminder_file_name(county_name: str, county_code: str, day: dt.date) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]', "", county_name) or county_code
    return f"逾期线索_{safe}_{county_code}_{day.isoformat()}.xlsx"


def _overdue(scope: Scope, day: dt.date):
    return clues.c.status.in_(OPEN_STATES) & (clues.c.deadline < day) & scope.build_clue_filter(clues)


def build_overdue_counts(scope: Scope, day: dt.date):
    """county_code, overdue clues: the counties in `scope` with a clue open past its deadline on `day`."""
    return (
        select(clues.c.county_code, func.count().label("clues"))
        .where(_overdue(scope, day) & clues.c.county_code.is_not(None))
        .group_by(clues.c.county_code)
        .order_by(clues.c.county_code)
    )


def build_overdue_list(scope: Scope, day: dt.date, county: str):
    """A county's overdue clues in `scope` with the person's name and ID number, longest overdue first."""
    return (
        select(
            clues.c.clue_id,
            clues.c.rule,
            clues.c.village_code,
            clues.c.evidence,
            clues.c.department,
            clues.c.status,
            clues.c.issued_on,
            clues.c.deadline,
            clues.c.reopen_count,
            persons.c.name,
            persons.c.id_number,
        )
        .select_from(clues.outerjoin(persons, persons.c.person_id == clues.c.person_id))
        .where(_overdue(scope, day) & (clues.c.county_code == county))
        .order_by(clues.c.deadline, clues.c.clue_id)
    )


def _as_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _from_evidence(evidence: str | None, keys: tuple[str, ...]) -> str:
    """The first of `keys` found in a clue's evidence fields: the person when the base map has none."""
    try:
        items = json.loads(evidence or "[]")
    except json.JSONDecodeError:
        return ""
    for item in items if isinstance(items, list) else [items]:
        fields = item.get("fields") if isinstance(item, dict) else None
        for key in keys:
            if isinstance(fields, dict) and fields.get(key):
                return str(fields[key])
    return ""


def _mask_for(scope: Scope, mask_ids: bool | None) -> bool:
    if mask_ids is False and not scope.full_ids:
        raise BiduiError(f"用户 {scope.user_name} 无权查看完整身份证号，不能生成含完整身份证号的逾期清单")
    return mask_ids is not False


def _row(clue, day: dt.date, regions: dict[str, str], rule_names: dict[str, str], masked: bool) -> list:
    deadline = _as_date(clue.deadline)
    issued_on = _as_date(clue.issued_on)
    name = clue.name or _from_evidence(clue.evidence, _NAME_FIELDS)
    id_number = clue.id_number or _from_evidence(clue.evidence, _ID_FIELDS)
    return [
        clue.clue_id,
        f"{clue.rule} {rule_names[clue.rule]}" if clue.rule in rule_names else clue.rule,
        region_name(regions, clue.village_code, 9),
        region_name(regions, clue.village_code, 12),
        name,
        mask_id(id_number, full_ids=not masked),
        clue.department or "",
        STATE_LABELS.get(clue.status, clue.status),
        issued_on.isoformat() if issued_on else "",
        deadline.isoformat() if deadline else "",
        (day - deadline).days if deadline else "",
        int(clue.reopen_count or 0),
    ]


def _is_overdue_row(row: Sequence[Any]) -> bool:
    """Every row of the list is overdue by its query: the writer fills them red, as the ledgers do."""
    return row[_DAYS] != "" and row[_DAYS] > 0


def _township_rows(rows: list[list], codes: list[str]) -> list[list]:
    """乡镇, 乡镇代码, 逾期线索数, 最长逾期天数 per township, most overdue clues first."""
    counts: dict[str, list] = {}
    for row, code in zip(rows, codes):
        entry = counts.setdefault(code, [row[2] or code, code, 0, 0])
        entry[2] += 1
        entry[3] = max(entry[3], row[10] or 0)
    return sorted(counts.values(), key=lambda r: (-r[2], r[1]))


def _write_county(
    engine: Engine,
    scope: Scope,
    day: dt.date,
    county: str,
    folder: Path,
    regions: dict[str, str],
    rule_names: dict[str, str],
    masked: bool,
) -> Reminder:
    with engine.connect() as conn:
        found = conn.execute(build_overdue_list(scope, day, county)).all()
    rows = [_row(clue, day, regions, rule_names, masked) for clue in found]
    townships = _township_rows(rows, [(clue.village_code or "")[:9] for clue in found])
    county_name = regions.get(county.ljust(12, "0"), county)
    most = max((r[10] for r in rows if r[10] != ""), default=0)
    heading = f"{county_name}（{county}）逾期问题线索提醒清单"
    counted = f"统计日期：{day.isoformat()}　逾期线索 {len(rows)} 条（已过整改期限、尚未销号），涉及 {len(townships)} 个乡镇，最长逾期 {most} 天"
    note = "按逾期天数从多到少排列；请督促各乡镇、核实部门尽快核实整改。" + (
        "身份证号已脱敏显示。" if masked else "本清单含完整身份证号，请妥善保管，不得外传。"
    )
    path = folder / reminder_file_name(county_name, county, day)
    store.write_excel_tables(
        path,
        [
            store.ExcelSheet(
                LIST_SHEET, OVERDUE_COLUMNS, rows, title=[heading, counted, note], widths=_WIDTHS, overdue=_is_overdue_row
            ),
            store.ExcelSheet(TOWNSHIP_SHEET, TOWNSHIP_COLUMNS, townships, title=[heading, counted], widths={"乡镇": 14}),
        ],
    )
    return Reminder(county, county_name, day, path, len(rows), most, {r[0]: r[2] for r in townships}, masked)


def _check_scope(scope: Scope) -> None:
    if scope.role not in ("prefecture", "county", "system"):
        raise BiduiError(f"用户 {scope.user_name}（{scope.role_label}）无权生成逾期提醒：须为市（州）数据管理员或县级用户")
    if scope.region_code is not None and len(scope.region_code) > 6:
        raise BiduiError(f"用户 {scope.user_name} 管辖范围小于县，不能生成县级逾期清单")


def _remove_stale(folder: Path, scope: Scope, day: dt.date, keep: set[str]) -> None:
    """Files of `day` for counties in scope that have no overdue clue any more (an earlier run's)."""
    prefix = (scope.region_code or "")[:6]
    for path in folder.glob(f"逾期线索_*_{day.isoformat()}.xlsx"):
        code = path.stem.split("_")[-2]
        if code.startswith(prefix) and code not in keep:
            path.unlink()


def remind_overdue(
    engine: Engine,
    settings: Settings,
    scope: Scope,
    day: dt.date | str,
    out_dir: Path | None = None,
    mask_ids: bool | None = None,
    rules: list | None = None,
) -> list[Reminder]:
    """Write the overdue list of every county in `scope` that has overdue clues on `day` (one
    workbook each, in `out_dir`, default data_dir/reminders/<day>). `mask_ids` None or True masks
    ID numbers; False asks for full ones (refused to a user who may not see them). `rules`: the
    rule catalogue (default pipelines.rules.load_rules())."""
    _check_scope(scope)
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    masked = _mask_for(scope, mask_ids)
    folder = Path(out_dir) if out_dir else settings.data_dir / "reminders" / day.isoformat()
    with engine.connect() as conn:
        counties = [county for county, _count in conn.execute(build_overdue_counts(scope, day))]
    if folder.is_dir():
        _remove_stale(folder, scope, day, set(counties))
    if not counties:
        return []
    if rules is None:
        from pipelines.rules import load_rules

        rules = load_rules()
    rule_names = {r.code: r.name for r in rules}
    regions = build_region_names(store.load_region_reference(engine))
    folder.mkdir(parents=True, exist_ok=True)
    return [_write_county(engine, scope, day, county, folder, regions, rule_names, masked) for county in counties]


def run_weekly_reminders(settings: Settings, day: dt.date | str) -> dict[str, Any]:
    """The weekly DAG task: every county's overdue list on `day`, as the system (ID numbers masked)."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    reminders = remind_overdue(store.connect(settings), settings, Scope.system(), day)
    return {
        "date": day.isoformat(),
        "counties": len(reminders),
        "clues": sum(r.clues for r in reminders),
        "files": [r.to_dict() for r in reminders],
    }
