"""Ledger workbooks (问题台账): a county's clues go down as one .xlsx per county and issue date.

`issue_ledgers` moves every `new` clue of a county new → issued (deadline from its rule), records
the ledger in ledger_issues and writes the workbook: one sheet per township, one row per clue,
the locked columns of the ledgers contract and then the columns the county fills in.

What a ledger of (county, issue date) holds, so re-issuing rewrites the same file with the same
clues: the county's clues still `new`, the clues sent back or re-opened that no ledger has carried
since (they are verified afresh), and every clue an earlier run of the same (county, date) put in a ledger (a clue_event
'issue' with source 'ledger' on that date). Sent-back and re-opened clues are already `issued`; carrying them is
recorded as an 'issue' event issued → issued, so they count as sent.

Nothing half-written: the moves and the ledger_issues row are one transaction; the workbook is
written to a temporary name inside it and renamed only after the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, and_, exists, func, or_, select

from pipelines import store
from pipelines.access.scope import Scope, mask_id, mask_ids_in_text
from pipelines.catalog.feeds import load_feeds
from pipelines.clues.life import CLUE_COLUMNS, DEFAULT_DEADLINE_DAYS, make_event
from pipelines.clues.moves import plan_move, write_moves
from pipelines.errors import BiduiError
from pipelines.ledgers.issued import write_issued_rows
from pipelines.ledgers.reading import IssueMark
from pipelines.ledgers.workbook import (
    DATE_COLUMNS,
    FILL_IN_COLUMNS,
    FILL_IN_FIELDS,
    LEDGER_COLUMNS,
    LOCKED_COLUMNS,
    write_ledger_workbook,
)
from pipelines.settings import Settings
from pipelines.store.tables import clue_events, clues, ledger_issues, persons
from pipelines.store.upsert import upsert

__all__ = [
    "DATE_COLUMNS",
    "FILL_IN_COLUMNS",
    "FILL_IN_FIELDS",
    "LEDGER_COLUMNS",
    "LOCKED_COLUMNS",
    "build_region_names",
    "evidence_text",
    "issue_ledgers",
    "ledger_values",
    "load_people",
]

_LEDGER_ISSUE = and_(clue_events.c.action == "issue", clue_events.c.source == "ledger")

# Evidence field names of the rule headers (sql/rules) in Chinese; a name not listed here is looked
# up among the evidence feed's own fields (pipelines/catalog/feeds.toml), else shown as it is.
EVIDENCE_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "hukou_name": "户籍姓名",
    "hukou_state": "户籍人口状态",
    "hukou_birth_date": "户籍出生日期",
    "changed_on": "变动日期",
    "moved_to": "迁往地",
    "member_rows": "成员记录数",
    "households": "所在户数",
    "household_nos": "所在户编号",
    "head_name": "户主姓名",
    "head_id": "户主身份证号",
    "hukou_no": "户籍户号",
    "left_out_persons": "未识别人数",
    "left_out_name": "未识别人员姓名",
    "left_out_id_number": "未识别人员身份证号",
    "schooling": "在校情况",
    "school_state": "学籍状态",
    "school": "学校",
    "insured": "建档立卡登记参保",
    "no_cover_year": "未见正常参保记录的年度",
    "insurance_rows": "医保参保记录数",
    "last_year": "最近参保年度",
    "last_state": "最近参保状态",
    "health": "健康状况",
    "illness_kind": "疾病类别",
    "disease": "疾病名称",
    "diagnosed_on": "确诊日期",
    "grade": "危房等级",
    "renovation": "改造状态",
    "appraised_on": "鉴定日期",
    "appraisal_no": "鉴定编号",
    "status": "脱贫状态",
    "exit_year": "脱贫年度",
    "identified_year": "识别年度",
    "relocated": "易地扶贫搬迁",
    "moved_in": "搬迁入住",
    "income_per_capita": "人均纯收入",
    "dibao_income": "低保金",
    "size": "家庭人口数",
    "poverty_line": "当年贫困线",
    "kind": "保障类别",
    "state": "保障状态",
    "persons": "保障人数",
    "monthly_amount": "月保障金额",
    "owner_name": "房主姓名",
    "owner_id": "房主身份证号",
    "payroll_name": "供养人员姓名",
    "employer": "工作单位",
    "hired_on": "入职日期",
    "enterprise_name": "企业名称",
    "enterprise_state": "企业状态",
    "registered_capital": "注册资本",
    "founded_on": "成立日期",
    "plate_no": "号牌号码",
    "vehicle_type": "车辆类型",
    "registered_on": "登记日期",
    "id_status": "身份证号问题",
}
# Coded evidence values in Chinese, per field: the standardised ID's problem (id_status, every one
# of pipelines.standardise.ids.STATUSES); feed values are Chinese already.
EVIDENCE_VALUES = {
    "id_status": {
        "valid": "无",
        "empty": "未填写",
        "mangled": "被表格软件改成了科学计数法，后几位数字已丢失",
        "legacy15": "旧的 15 位号码，未升级为 18 位",
        "bad_length": "位数不对（应为 18 位）",
        "bad_chars": "含有数字和末位校验字符以外的字符",
        "bad_checksum": "校验码不符（号码有录入错误）",
        "bad_birthdate": "号码中的出生日期不存在",
    },
}


# --- the values of a row ----------------------------------------------------------------------


def build_region_names(reference: pd.DataFrame) -> dict[str, str]:
    """Region code (12 digits) → name, from the whole reference (store.load_region_reference; a
    prefecture holds a few thousand)."""
    return dict(zip(reference["code"], reference["name"]))


def _region_name(regions: dict[str, str], code: str | None, digits: int) -> str:
    if not code or len(code) < digits:
        return ""
    prefix = code[:digits]
    return regions.get(prefix.ljust(12, "0")) or prefix


def load_people(conn, person_ids: Iterable[str | None]) -> dict[str, tuple[str | None, str | None]]:
    """person_id → (name, id_number) from the base map."""
    wanted = sorted({p for p in person_ids if p})
    people: dict[str, tuple[str | None, str | None]] = {}
    for start in range(0, len(wanted), 2000):  # SQLite caps the number of bound parameters
        chunk = wanted[start : start + 2000]
        rows = conn.execute(
            select(persons.c.person_id, persons.c.name, persons.c.id_number).where(persons.c.person_id.in_(chunk))
        )
        people.update({pid: (name, id_number) for pid, name, id_number in rows})
    return people


def _evidence_items(evidence: str | None) -> list[dict]:
    try:
        parsed = json.loads(evidence or "[]")
    except json.JSONDecodeError:
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    return [item for item in items if isinstance(item, dict)]


def evidence_text(evidence: str | None, masked: bool = True) -> str:
    """A clue's evidence JSON as Chinese text: '公安·户籍人口（记录 HK0001）：姓名 张三；人口状态 死亡'.
    ID numbers anywhere in it (any field, the record key, in any form) are masked like the 身份证号
    column when `masked`."""
    feeds = load_feeds()
    parts = []
    for item in _evidence_items(evidence):
        feed = feeds.get(item.get("feed") or "")
        headers = {f.name: f.header for f in feed.fields} if feed else {}
        source = feed.title if feed else (item.get("feed") or "数据源")
        if item.get("record_key"):
            source += f"（记录 {item['record_key']}）"
        values = []
        for name, value in sorted((item.get("fields") or {}).items(), key=lambda kv: _field_order(kv[0])):
            if value in (None, ""):
                continue
            text = str(value).lstrip("'")  # Excel's text marker, kept as delivered in the snapshot
            text = EVIDENCE_VALUES.get(name, {}).get(text, text)
            values.append(f"{EVIDENCE_LABELS.get(name) or headers.get(name) or name} {text}")
        parts.append(f"{source}：{'；'.join(values)}" if values else source)
    return mask_ids_in_text("\n".join(parts), full_ids=not masked)


def _field_order(name: str) -> tuple[int, str]:
    # Who first (name, ID), then the facts, in a fixed order whatever the JSON's key order.
    order = list(EVIDENCE_LABELS)
    return (order.index(name) if name in order else len(order), name)


def _person(clue: dict, people: dict) -> tuple[str, str]:
    """(姓名, 身份证号) of a clue: the base map's person, else the evidence's own words."""
    name, id_number = people.get(clue.get("person_id") or "", (None, None))
    if not name or not id_number:
        fields: dict[str, object] = {}
        for item in _evidence_items(clue.get("evidence")):
            fields.update(item.get("fields") or {})
        name = name or next((fields[k] for k in ("name", "head_name", "owner_name") if fields.get(k)), None)
        id_number = id_number or next((fields[k] for k in ("id_number", "head_id", "owner_id") if fields.get(k)), None)
    return str(name or ""), str(id_number or "")


def _as_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def ledger_values(clue: dict, rule, regions: dict[str, str], people: dict, masked: bool) -> dict:
    """One ledger row of a clue, by column name: the locked columns from the clue and its rule,
    the fill-in columns with what is already recorded (blank for a clue not yet verified)."""
    name, id_number = _person(clue, people)
    values = {
        "线索编号": clue["clue_id"],
        "规则": f"{clue['rule']} {rule.name}" if rule else clue["rule"],
        "问题描述": rule.description if rule else "",
        "乡镇": _region_name(regions, clue.get("village_code"), 9),
        "村": _region_name(regions, clue.get("village_code"), 12),
        "户编号": clue.get("household_no") or "",
        "姓名": name,
        "身份证号": mask_id(id_number, full_ids=not masked),
        "证据": evidence_text(clue.get("evidence"), masked),
        "核实部门": clue.get("department") or "",
        "下发日期": _as_date(clue.get("issued_on")),
        "整改期限": _as_date(clue.get("deadline")),
    }
    for column, field in FILL_IN_FIELDS.items():
        value = clue.get(field)
        values[column] = _as_date(value) if column in DATE_COLUMNS else (value or "")
    return values


def ledger_file_name(county_name: str, county_code: str, issue_date: dt.date) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]', "", county_name) or county_code
    return f"问题台账_{safe}_{county_code}_{issue_date.isoformat()}.xlsx"


# --- issuing ----------------------------------------------------------------------------------


def _in_ledger_condition(issue_date: dt.date):
    """Clues that belong in the ledger of `issue_date` (see the module docstring)."""
    day = dt.datetime.combine(issue_date, dt.time())
    sent_that_day = select(clue_events.c.clue_id).where(
        _LEDGER_ISSUE & (clue_events.c.at >= day) & (clue_events.c.at < day + dt.timedelta(days=1))
    )
    reopen, later = clue_events.alias("reopen"), clue_events.alias("later")
    sent_since = exists().where(
        (later.c.clue_id == reopen.c.clue_id)
        & (later.c.action == "issue")
        & (later.c.source == "ledger")
        & (later.c.event_id > reopen.c.event_id)
    )
    reopened_unsent = select(reopen.c.clue_id).where(reopen.c.action.in_(("reopen", "send_back")) & ~sent_since)
    return or_(
        clues.c.status == "new",
        (clues.c.status == "issued") & clues.c.clue_id.in_(reopened_unsent),
        clues.c.clue_id.in_(sent_that_day),
    )


def _mask_for(scope: Scope, mask_ids: bool | None) -> bool:
    if mask_ids is False and not scope.full_ids:
        raise BiduiError(f"用户 {scope.user_name} 无权查看完整身份证号，不能下发含完整身份证号的台账")
    if mask_ids is None:
        # Masked by default: a county passes its township sheets on down, below county level.
        return True
    return mask_ids


def _check_counties(scope: Scope, counties: list[str]) -> None:
    for county in counties:
        if not (isinstance(county, str) and len(county) == 6 and county.isdigit()):
            raise BiduiError(f"县代码“{county}”应为 6 位数字")
        if scope.region_code is not None and not county.startswith(scope.region_code[:6]):
            raise BiduiError(f"县 {county} 不在用户 {scope.user_name} 的管辖范围内")
        if scope.region_code is not None and len(scope.region_code) > 6:
            raise BiduiError(f"用户 {scope.user_name} 管辖范围小于县，不能下发县级台账")


def issue_ledgers(
    engine: Engine,
    settings: Settings,
    scope: Scope,
    issue_date: dt.date | str,
    counties: Iterable[str] | None = None,
    out_dir: Path | None = None,
    mask_ids: bool | None = None,
    rules: list | None = None,
) -> list[dict]:
    """Issue the ledger of every county in `scope` (or of `counties`) that has clues to send on
    `issue_date`: one workbook per county. Returns per county {county_code, county_name,
    issue_date, file, clues, issued_now, carried_reopened, sheets, masked}.

    `mask_ids`: None or True masks ID numbers (the default: the township sheets go on below county
    level); False asks for full numbers (refused to an issuer who may not see them). `rules`: the rule catalogue (default pipelines.rules.run.load_rules()).
    """
    scope.require("issue")
    issue_date = dt.date.fromisoformat(issue_date) if isinstance(issue_date, str) else issue_date
    store.check_issue_date(engine, issue_date)  # deadlines are counted from it: not in the future, not before the newest night
    masked = _mask_for(scope, mask_ids)
    if rules is None:
        from pipelines.rules.run import load_rules

        rules = load_rules()
    rules_by_code = {r.code: r for r in rules}
    wanted = None if counties is None else sorted(set(counties))
    if wanted is not None:
        _check_counties(scope, wanted)
    folder = Path(out_dir) if out_dir else settings.data_dir / "ledgers" / issue_date.isoformat()
    condition = _in_ledger_condition(issue_date) & scope.build_clue_filter(clues) & clues.c.county_code.is_not(None)
    if wanted is not None:
        condition &= clues.c.county_code.in_(wanted)
    with engine.connect() as conn:
        found = sorted(conn.execute(select(clues.c.county_code).where(condition).distinct()).scalars())
    regions = build_region_names(store.load_region_reference(engine)) if found else {}
    return [
        _issue_county(engine, scope, issue_date, county, condition, folder, rules_by_code, regions, masked) for county in found
    ]


def _issue_county(
    engine: Engine,
    scope: Scope,
    issue_date: dt.date,
    county: str,
    condition,
    folder: Path,
    rules_by_code: dict,
    regions: dict[str, str],
    masked: bool,
) -> dict:
    at = dt.datetime.combine(issue_date, dt.datetime.now().time().replace(microsecond=0))
    folder.mkdir(parents=True, exist_ok=True)
    with store.staged_files() as stage:
        with store.write_transaction(engine) as conn:
            statement = store.lock_rows(
                conn,
                select(*(clues.c[c] for c in CLUE_COLUMNS))
                .where(condition & (clues.c.county_code == county))
                .order_by(clues.c.clue_id),
                clues,
            )
            ledger = [dict(row) for row in conn.execute(statement).mappings()]
            sent = _sent_that_day(conn, county, issue_date)
            moved, events, carried = [], [], 0
            for i, clue in enumerate(ledger):
                rule = rules_by_code.get(clue["rule"])
                if clue["status"] == "new":
                    after, event = plan_move(
                        clue,
                        "issue",
                        {},
                        scope,
                        at,
                        deadline_days=rule.deadline_days if rule else DEFAULT_DEADLINE_DAYS,
                        source="ledger",
                    )
                    ledger[i] = after
                    moved.append((clue["status"], after))
                    events.append(event)
                elif clue["clue_id"] not in sent:
                    carried += 1
                    events.append(
                        make_event(
                            clue["clue_id"],
                            "issue",
                            "issued",
                            "issued",
                            scope,
                            at,
                            note="退回或重新打开的线索随台账再次下发",
                            source="ledger",
                        )
                    )
            write_moves(conn, moved, events)
            mark = IssueMark(county, issue_date, int(conn.execute(select(func.max(clue_events.c.event_id))).scalar() or 0))
            people = load_people(conn, (c["person_id"] for c in ledger))
            county_name = regions.get(county.ljust(12, "0"), county)
            final = folder / ledger_file_name(county_name, county, issue_date)
            rows = []
            for clue in ledger:
                values = ledger_values(clue, rules_by_code.get(clue["rule"]), regions, people, masked)
                values.update(_township=(clue["village_code"] or "")[:9], _village=clue["village_code"] or "", _rule=clue["rule"])
                rows.append(values)
            write_issued_rows(conn, county, issue_date, [{**v, "_status": c["status"]} for v, c in zip(rows, ledger)])
            issued = {
                "county_code": county,
                "issue_date": issue_date,
                "file": str(final),
                "clues": len(ledger),
                "issued_by": scope.user_name,
                "issued_at": dt.datetime.now().replace(microsecond=0),
            }
            upsert(conn, ledger_issues, issued)
            temp = stage(final)  # the workbook appears once the moves and the issue record committed
            townships = {v["_township"]: _region_name(regions, v["_township"], 9) for v in rows}
            sheets = write_ledger_workbook(temp, county_name, issue_date, rows, townships, rules_by_code, masked, mark.text())
    return {
        "county_code": county,
        "county_name": county_name,
        "issue_date": issue_date.isoformat(),
        "file": final,
        "clues": len(ledger),
        "issued_now": len(moved),
        "carried_reopened": carried,
        "sheets": sheets,
        "masked": masked,
    }


def _sent_that_day(conn, county: str, issue_date: dt.date) -> set[str]:
    """The county's clues a ledger already carried on `issue_date`."""
    day = dt.datetime.combine(issue_date, dt.time())
    return set(
        conn.execute(
            select(clue_events.c.clue_id).where(
                _LEDGER_ISSUE
                & (clue_events.c.at >= day)
                & (clue_events.c.at < day + dt.timedelta(days=1))
                & clue_events.c.clue_id.in_(select(clues.c.clue_id).where(clues.c.county_code == county))
            )
        ).scalars()
    )
