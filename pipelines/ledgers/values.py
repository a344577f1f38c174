"""What a ledger row shows: a clue's locked columns as the county reads them — names of regions and
people, the evidence in Chinese words, ID numbers masked unless the recipient may see them whole.
The issue writes these values into the workbook; the import compares a returned row with them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select

from pipelines.access.scope import mask_id, mask_ids_in_text
from pipelines.catalog.feeds import load_feeds
from pipelines.ledgers.workbook import DATE_COLUMNS, FILL_IN_FIELDS
from pipelines.store.tables import persons

__all__ = [
    "EVIDENCE_LABELS",
    "EVIDENCE_VALUES",
    "build_region_names",
    "evidence_text",
    "ledger_values",
    "load_people",
    "region_name",
]


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


def region_name(regions: dict[str, str], code: str | None, digits: int) -> str:
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
        "乡镇": region_name(regions, clue.get("village_code"), 9),
        "村": region_name(regions, clue.get("village_code"), 12),
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
