"""Writing delivered feeds the way the departments do: their header spellings, encodings, an Excel
workbook with a title row; byte-identical for the same input."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.catalog.feeds import FeedSpec

__all__ = ["LAYOUTS", "write_csv", "write_feed"]

# A fixed creation time: the same seed must give the same bytes.
WORKBOOK_CREATED = dt.datetime(2026, 1, 1, 8, 0, 0)


@dataclass(frozen=True)
class Layout:
    """How one department writes its file: format, encoding, header spellings, extra columns."""

    fmt: str = "csv"
    encoding: str = "utf-8"
    headers: dict[str, str] = field(default_factory=dict)  # field -> header used instead of canonical
    extras: dict[str, str] = field(default_factory=dict)  # hidden column -> unknown header it is written under
    newline: str = "\n"
    title: str = ""


LAYOUTS: dict[str, Layout] = {
    "poverty_households": Layout(
        encoding="utf-8-sig",
        headers={"head_name": "户主", "main_cause": "致贫原因", "phone": " 联系电话 "},
        extras={"helper": "帮扶责任人"},
    ),
    "poverty_members": Layout(
        fmt="xlsx",
        headers={"id_number": "公民身份号码", "birth_date": "出生年月日", "relation": "关系"},
        title="建档立卡贫困人口家庭成员信息表",
    ),
    # County police exports come from Windows tools: GB18030 with CRLF, a full-width space in 姓　名.
    "hukou": Layout(
        encoding="gb18030",
        newline="\r\n",
        headers={"name": "姓　名", "state": "户口状态", "changed_on": "注销日期", "address": "住址"},
    ),
    "medical_insurance": Layout(
        headers={"insured_no": "参保人编号", "id_number": "证件号码", "critical_illness_cover": "是否参加大病保险"},
    ),
    "illness_registry": Layout(headers={"name": "患者姓名", "self_paid": "自付费用"}),
    "school_enrolment": Layout(
        encoding="gb18030",
        newline="\r\n",
        headers={"student_no": "全国学籍号", "village_code": "户籍地区划代码"},
    ),
    "dangerous_housing": Layout(headers={"owner_name": "房屋所有人", "grade": "危险等级"}, extras={"remark": "备注"}),
    "minimum_living": Layout(encoding="utf-8-sig", headers={"id_number": "证件号码", "state": "状态"}),
    "public_payroll": Layout(),
    # Half-width brackets where the contract has full-width ones.
    "enterprise_registry": Layout(headers={"registered_capital": "注册资本(万元)"}),
    "vehicles": Layout(headers={"vehicle_type": " 车辆类型 "}),
}


def _columns(spec: FeedSpec, layout: Layout, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    names = [f.name for f in spec.fields if f.name in frame] + [c for c in layout.extras if c in frame]
    headers = [layout.headers.get(f.name, f.header) for f in spec.fields if f.name in frame]
    headers += [layout.extras[c] for c in layout.extras if c in frame]
    return names, headers


def write_feed(spec: FeedSpec, frame: pd.DataFrame, directory: Path) -> Path:
    """Write one delivered frame (see messiness.Delivered) as the department's file."""
    layout = LAYOUTS[spec.name]
    names, headers = _columns(spec, layout, frame)
    table = frame[names]
    if layout.fmt == "xlsx":
        return write_xlsx(table, headers, directory / f"{spec.name}.xlsx", layout.title)
    return write_csv(table, headers, directory / f"{spec.name}.csv", layout.encoding, layout.newline)


def write_csv(table: pd.DataFrame, headers: list[str], path: Path, encoding: str, newline: str = "\n") -> Path:
    table.to_csv(path, index=False, header=headers, encoding=encoding, lineterminator=newline)
    return path


def write_xlsx(table: pd.DataFrame, headers: list[str], path: Path, title: str = "") -> Path:
    """Write with xlsxwriter in constant-memory mode: dates as real date cells, Excel-mangled
    IDs as numbers, everything else as text; blank rows stay blank."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    workbook.set_properties({"created": WORKBOOK_CREATED, "author": "扶贫开发信息系统"})
    sheet = workbook.add_worksheet("家庭成员")
    row = 0
    if title:
        sheet.write_string(row, 0, title)
        row += 1
    sheet.write_row(row, 0, headers)
    write_row = sheet.write_row
    for values in table.itertuples(index=False, name=None):
        row += 1
        if any(v != "" for v in values):
            write_row(row, 0, values)
    workbook.close()
    return path
