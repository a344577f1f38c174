"""The cross-check sample as a workbook: a sheet 说明 (county, year, seed, data date, scheme, rules,
fall-backs), one sheet per sampled village, and 返贫户 when there are any. ID numbers are shown as
the reader's scope allows: the same stored sample makes a masked or a full workbook."""

from __future__ import annotations

from typing import Any

from pipelines.access import Scope
from pipelines.store import ExcelSheet

__all__ = [
    "HOUSEHOLD_HEADERS",
    "RELAPSED_LABEL",
    "RELAPSED_SHEET",
    "data_date_text",
    "household_rows",
    "sample_facts",
    "sample_heading",
    "sample_sheets",
    "village_sheet_name",
    "village_text",
]

HOUSEHOLD_HEADERS = [
    "序号",
    "抽样类别",
    "户的类别",
    "户编号",
    "户主姓名",
    "户主身份证号",
    "识别年度",
    "脱贫年度",
    "脱贫状态",
    "家庭人口数",
]
RELAPSED_SHEET = "返贫户"
RELAPSED_LABEL = "返贫户（全覆盖）"


def village_sheet_name(village: dict[str, Any]) -> str:
    return f"{village['number']}-{village['name']}"[:31]


def household_rows(households: list[dict[str, Any]], scope: Scope) -> list[list[Any]]:
    """The rows of HOUSEHOLD_HEADERS, numbered, with the head's ID number as `scope` may see it."""
    return [
        [
            number,
            h["drawn_for"],
            h["stratum"],
            h["code"],
            h.get("head_name"),
            scope.mask_id(h.get("head_id")) if h.get("head_id") else None,
            h.get("identified_year"),
            h.get("exit_year"),
            h.get("status") or ("一般农户" if h["stratum"] == "一般农户" else None),
            h.get("size"),
        ]
        for number, h in enumerate(households, start=1)
    ]


def sample_heading(sample: dict[str, Any]) -> str:
    """The sample's title: county, year, 交叉检查抽样."""
    drawn = sample["drawn"]
    return f"{drawn['county_name']}（{sample['county_code']}）{sample['year']}年交叉检查抽样"


def data_date_text(sample: dict[str, Any]) -> str:
    day = sample["data_date"]
    return day.isoformat() if hasattr(day, "isoformat") else str(day)


def sample_facts(sample: dict[str, Any]) -> list[list[str]]:
    """How the sample was drawn, as (项目, 内容) rows: county, year, seed, data dates, scheme, drawer."""
    drawn = sample["drawn"]
    return [
        ["县", f"{drawn['county_name']}（{sample['county_code']}）"],
        ["考核年度", str(sample["year"])],
        ["随机种子", str(sample["seed"])],
        ["数据日期", data_date_text(sample)],
        [
            "建档立卡户数据",
            f"{drawn['households_date']} 的快照"
            + (f"，家庭成员 {drawn['members_date']} 的快照" if drawn.get("members_date") else ""),
        ],
        ["底图（一般农户）", drawn.get("link_date") or "无"],
        ["抽样方案", drawn["scheme"]],
        ["抽样人", sample["user_name"]],
    ]


def village_text(village: dict[str, Any]) -> str:
    """A sampled village in one line: place, kind, registered persons, distance, what it stands in for."""
    v = village
    text = f"{v['township']}{v['name']}（{v['village_code']}），{v['kind']}，建档立卡 {v['registered']} 人，距县城 {v['distance']:g} 公里"
    return text + (f"（补抽，顶替{v['drawn_for']}）" if v["drawn_for"] != v["kind"] else "")


def sample_sheets(sample: dict[str, Any], scope: Scope) -> list[ExcelSheet]:
    """The workbook's sheets for a sample as stored (`store.load_sample`, or the row before it is)."""
    drawn = sample["drawn"]
    heading = sample_heading(sample)
    data_date = data_date_text(sample)
    about: list[list[Any]] = list(sample_facts(sample))
    about += [["规则", rule] for rule in drawn["rules"]]
    about += [[f"第 {v['number']} 村", village_text(v)] for v in drawn["villages"]]
    about += [["补抽说明", note] for note in drawn["fallbacks"]] or [["补抽说明", "各类均抽足，未补抽"]]
    sheets = [ExcelSheet("说明", ["项目", "内容"], about, title=[heading, f"数据日期 {data_date}　随机种子 {sample['seed']}"])]
    for v in drawn["villages"]:
        rows = [h for h in drawn["households"] if h["village_code"] == v["village_code"] and h["stratum"] != RELAPSED_LABEL]
        sheets.append(
            ExcelSheet(
                village_sheet_name(v),
                HOUSEHOLD_HEADERS,
                household_rows(rows, scope),
                title=[heading, f"第 {v['number']} 村：{v['township']}{v['name']}（{v['village_code']}），{v['kind']}"],
            )
        )
    relapsed = [h for h in drawn["households"] if h["stratum"] == RELAPSED_LABEL]
    if relapsed:
        names = {v["village_code"]: v["name"] for v in drawn["villages"]}
        rows = [
            [names.get(h["village_code"], h["village_code"]), *row]
            for h, row in zip(relapsed, household_rows(relapsed, scope), strict=True)
        ]
        sheets.append(
            ExcelSheet(RELAPSED_SHEET, ["村", *HOUSEHOLD_HEADERS], rows, title=[heading, "抽中村的返贫户（全覆盖调查）"])
        )
    return sheets
