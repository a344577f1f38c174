"""The pre-audit data-quality report (数据质量报告): per county, the data-quality findings of the
night on or before a date and their change since the previous report, each feed's Great
Expectations result, linkage coverage and an accuracy rate whose definition the report prints.

Everything is counted in SQL per feed (pipelines.store.quality); this module adds the counts up,
compares with the stored previous report and lays the tables out once for the HTML/PDF and the xlsx.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import store
from pipelines.catalog.feeds import load_feeds
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = [
    "ACCURACY_DEFINITION",
    "INDICATORS",
    "PREFECTURE",
    "QualityReport",
    "Section",
    "build_quality_report",
    "build_quality_sections",
    "make_quality_report",
    "quality_report_paths",
    "stored_quality_report",
]

PREFECTURE = "*"  # the region code the prefecture-wide values are stored under
UNATTRIBUTED = store.UNATTRIBUTED
# R18 (人证信息不一致) is the identity mismatch between departments; R17 (身份证号码无效) is
# counted already by the ID findings. The other rules of category 数据质量 are contradictions.
IDENTITY_RULES = ("R18",)
ID_RULES = ("R17",)
QUALITY_CATEGORY = "数据质量"
MISSING_CHECKS = ("required", "required_if")
ID_KINDS = {"mangled": "id_mangled", "checksum": "id_checksum", "length": "id_length"}
REGIONS_FEED = "regions"
LINK_METHODS = ("id_exact", "probabilistic", "review_decision", "singleton")

INDICATORS: dict[str, str] = {
    "rows": "报送行数",
    "error_rows": "有错误的行数",
    "rejected_rows": "被拒收数据项的行数",
    "accuracy": "数据准确率",
    "id_invalid": "身份证号无效",
    "id_mangled": "其中：被Excel转为科学计数法",
    "id_checksum": "其中：校验位错误",
    "id_length": "其中：位数错误",
    "id_other": "其中：含非法字符或出生日期不存在",
    "id_birth_date": "身份证号与出生日期不符",
    "missing_required": "必填项缺失",
    "identity_mismatch": "部门间身份信息不一致",
    "contradictions": "部门间数据矛盾",
    "link_rows": "参与关联的人员记录",
    "link_id_exact": "按身份证号确定",
    "link_probabilistic": "概率匹配确定",
    "link_review_decision": "人工审核判定",
    "link_singleton": "未与其他记录关联",
    "review_open": "待人工审核的配对",
}
CHANGE_INDICATORS = (
    "accuracy",
    "error_rows",
    "rejected_rows",
    "id_invalid",
    "id_birth_date",
    "missing_required",
    "identity_mismatch",
    "contradictions",
    "review_open",
)

ACCURACY_DEFINITION = (
    "数据准确率 = 1 −（有错误的行数 + 被拒收数据项的行数）÷ 报送行数。"
    "报送行数为各数据项（区划名录除外）在本期所用那次交付中的全部行；"
    "有错误的行是至少有一条“错误”级检查结果（含身份证号无效、与出生日期不符）的行，警告不计；"
    "因阻断性问题行超过比例而整份被拒收的数据项，其全部行计入被拒收数据项的行数，不再重复计入有错误的行数；"
    "文件本身无法读取（格式、表头、编码）而被拒收的，行数无从得知，不计入上述各行数（拒收原因见当晚校验报告）。"
)


@dataclass(frozen=True)
class Section:
    """One table of the report, laid out once for the HTML/PDF and the xlsx sheet `sheet`.
    `kinds` per column: text | int | percent | change | change_percent."""

    title: str
    sheet: str
    headers: list[str]
    kinds: list[str]
    rows: list[list[Any]]
    note: str = ""
    total_rows: int = 0  # trailing rows that are totals (shown bold)


@dataclass
class QualityReport:
    """The report's facts: values per region × indicator, the previous report's, the feeds."""

    night: dt.date
    as_of: dt.date
    compared_with: dt.date | None
    counties: list[tuple[str, str]]  # (6-digit code, name), code order
    values: pd.DataFrame  # region_code, indicator, value
    previous: pd.DataFrame  # the same, of the report compared with (empty without one)
    feeds: list[dict[str, Any]]
    contradiction_rules: list[tuple[str, str]] = field(default_factory=list)
    identity_rules: list[tuple[str, str]] = field(default_factory=list)
    has_validation_report: bool = False

    def value(self, region: str, indicator: str, previous: bool = False) -> float | None:
        frame = self.previous if previous else self.values
        hit = frame[(frame["region_code"] == region) & (frame["indicator"] == indicator)]["value"]
        return None if hit.empty or pd.isna(hit.iloc[0]) else float(hit.iloc[0])


# --- counting ---------------------------------------------------------------------------------


def build_quality_report(engine, settings: Settings, as_of: dt.date, since: dt.date | None = None) -> QualityReport:
    """Count everything the report says for the night on or before `as_of`, and fetch the stored
    report to compare with (the newest on or before `since`, else the newest before this night)."""
    from pipelines.validate import STATUS_TEXT

    night = store.load_report_night(engine, as_of)
    if night is None:
        raise BiduiError(f"{as_of.isoformat()} 及以前没有任何交付的数据，无法生成数据质量报告")
    specs = load_feeds(settings.feeds_config)
    counts: dict[tuple[str, str], float] = defaultdict(float)

    def add(county: str, indicator: str, value: float) -> None:
        counts[(county, indicator)] += value
        counts[(PREFECTURE, indicator)] += value

    feeds = []
    for load in store.load_checked_deliveries(engine, night).to_dict("records"):
        spec = specs.get(load["feed"])
        if spec is None or spec.name == REGIONS_FEED:  # the region names, not data about people
            continue
        args = (engine, night, spec.name, spec.key, load["delivery_date"], "village_code" in spec.columns)
        rejected = load["status"] == "rejected"
        for county, rows, error_rows in store.load_feed_row_counts(*args).itertuples(index=False, name=None):
            add(county, "rows", rows)
            add(county, "rejected_rows" if rejected else "error_rows", rows if rejected else error_rows)
        found = store.load_finding_counts(*args)
        for county, check, severity, id_kind, n in found.itertuples(index=False, name=None):
            for indicator in _finding_indicators(check, severity, id_kind):
                add(county, indicator, n)
        errors = int(found.loc[found["severity"] == "error", "findings"].sum())
        feeds.append(
            {
                "feed": spec.name,
                "title": spec.title,
                "night_status": STATUS_TEXT.get(load["night_status"], "本期未交付") if load["night_status"] else "本期未交付",
                "delivery_date": load["delivery_date"],
                "status": STATUS_TEXT.get(load["status"], load["status"]),
                "rows": load["rows"],
                "bad_rows": load["bad_rows"],
                "errors": errors,
                "warnings": int(found.loc[found["severity"] == "warning", "findings"].sum()),
                "checks_failed": int(found["check"].nunique()),
                "passed": not rejected and errors == 0,
                "message": load["message"],
            }
        )

    rules = _quality_rules()
    identity = [r for r in rules if r[0] in IDENTITY_RULES]
    contradictions = [r for r in rules if r[0] not in IDENTITY_RULES]
    opened = store.load_rule_open_counts(engine, night, [code for code, _ in identity + contradictions])
    for county, rule, open_, _found in opened.itertuples(index=False, name=None):
        add(county, "identity_mismatch" if rule in IDENTITY_RULES else "contradictions", open_)

    for county, method, rows in store.load_link_counts(engine, night).itertuples(index=False, name=None):
        add(county, "link_rows", rows)
        add(county, f"link_{method}", rows)
    for county, pairs in store.load_open_review_pairs(engine, night).itertuples(index=False, name=None):
        add(county, "review_open", pairs)

    counties = _counties(engine)
    regions = [code for code, _ in counties] + [UNATTRIBUTED, PREFECTURE]
    values = pd.DataFrame(
        [
            {"region_code": region, "indicator": indicator, "value": _value(counts, region, indicator)}
            for region in regions
            for indicator in INDICATORS
        ]
    )
    compared_with = store.previous_quality_report(engine, night, since)
    previous = (
        store.load_quality_values(engine, compared_with)
        if compared_with is not None
        else pd.DataFrame(columns=["region_code", "indicator", "value"])
    )
    report_html = settings.reports_dir / night.isoformat() / "validation.html"
    return QualityReport(
        night=night,
        as_of=as_of,
        compared_with=compared_with,
        counties=counties,
        values=values,
        previous=previous,
        feeds=feeds,
        contradiction_rules=contradictions,
        identity_rules=identity,
        has_validation_report=report_html.is_file(),
    )


def _finding_indicators(check: str, severity: str, id_kind: str | None) -> list[str]:
    if check == "id_format":
        return ["id_invalid", ID_KINDS.get(id_kind or "", "id_other")]
    if check == "id_birth_date":
        return ["id_birth_date"]
    if check in MISSING_CHECKS or (check == "missing_column" and severity == "error"):
        return ["missing_required"]
    return []


def _value(counts: dict[tuple[str, str], float], region: str, indicator: str) -> float | None:
    if indicator == "accuracy":
        rows = counts.get((region, "rows"), 0)
        if not rows:
            return None
        wrong = counts.get((region, "error_rows"), 0) + counts.get((region, "rejected_rows"), 0)
        return round(1 - wrong / rows, 6)
    return counts.get((region, indicator), 0)


def _counties(engine) -> list[tuple[str, str]]:
    regions = store.load_region_reference(engine)
    counties = regions[regions["level"] == "county"]
    return sorted((str(code)[:6], str(name)) for code, name in zip(counties["code"], counties["name"]))


def stored_quality_report(engine, night: dt.date) -> tuple[dict, QualityReport] | None:
    """A stored report as made (its row) and its values laid out again for a page, without counting
    anything anew; the feeds' validation results are only in its files."""
    row = store.load_quality_report(engine, night)
    if row is None:
        return None
    compared_with = row["compared_with"]
    rules = _quality_rules()
    report = QualityReport(
        night=row["report_night"],
        as_of=row["as_of"],
        compared_with=compared_with,
        counties=_counties(engine),
        values=store.load_quality_values(engine, night),
        previous=store.load_quality_values(engine, compared_with)
        if compared_with
        else pd.DataFrame(columns=["region_code", "indicator", "value"]),
        feeds=[],
        identity_rules=[r for r in rules if r[0] in IDENTITY_RULES],
        contradiction_rules=[r for r in rules if r[0] not in IDENTITY_RULES],
    )
    return row, report


def _quality_rules() -> list[tuple[str, str]]:
    """(code, name) of the rules whose clues the report counts: category 数据质量 but ID_RULES."""
    from pipelines.rules import load_rules

    return [(r.code, r.name) for r in load_rules() if r.category == QUALITY_CATEGORY and r.code not in ID_RULES]


# --- the tables -------------------------------------------------------------------------------


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def build_quality_sections(report: QualityReport) -> list[Section]:
    """The report's tables, in order, shared by the HTML/PDF and the xlsx."""
    places = [*report.counties, (UNATTRIBUTED, "未能归属到县"), (PREFECTURE, "全市（州）合计")]
    totals = 2

    def v(region: str, indicator: str) -> float | None:
        return report.value(region, indicator)

    def n(region: str, indicator: str) -> int | None:
        value = v(region, indicator)
        return None if value is None else int(value)

    problems = [
        "rows",
        "error_rows",
        "rejected_rows",
        "accuracy",
        "id_invalid",
        "id_mangled",
        "id_checksum",
        "id_length",
        "id_other",
        "id_birth_date",
        "missing_required",
        "identity_mismatch",
        "contradictions",
    ]
    findings = Section(
        title="一、各县数据质量问题",
        sheet="各县问题",
        headers=["县（市、区）", *(INDICATORS[i] for i in problems)],
        kinds=["text", *("percent" if i == "accuracy" else "int" for i in problems)],
        rows=[[name, *(v(code, i) if i == "accuracy" else n(code, i) for i in problems)] for code, name in places],
        note=(
            "身份证号、必填项等为各数据项校验发现的条数；部门间身份信息不一致为规则 "
            + "、".join(f"{c}（{t}）" for c, t in report.identity_rules)
            + "、部门间数据矛盾为规则 "
            + "、".join(f"{c}（{t}）" for c, t in report.contradiction_rules)
            + " 在本期尚未办结的问题线索数。"
        ),
        total_rows=totals,
    )

    if report.compared_with is None:
        change_note = "没有更早的数据质量报告，本期不作比较。"
    else:
        change_note = f"与 {report.compared_with.isoformat()} 的数据质量报告相比：正数为增加，负数为减少。"
    changes = Section(
        title="二、与上期报告相比的变化",
        sheet="与上期比较",
        headers=["县（市、区）", *(f"{INDICATORS[i]}变化" for i in CHANGE_INDICATORS)],
        kinds=["text", *("change_percent" if i == "accuracy" else "change" for i in CHANGE_INDICATORS)],
        rows=[
            [name, *(_change(v(code, i), report.value(code, i, previous=True)) for i in CHANGE_INDICATORS)]
            for code, name in places
        ]
        if report.compared_with is not None
        else [],
        note=change_note,
        total_rows=totals if report.compared_with is not None else 0,
    )

    validation = Section(
        title="三、各数据项校验结果（Great Expectations）",
        sheet="校验结果",
        headers=[
            "数据项",
            "本期状态",
            "所用交付日期",
            "校验结论",
            "行数",
            "有错误的行",
            "错误条数",
            "警告条数",
            "未通过的检查（种）",
            "说明",
        ],
        kinds=["text", "text", "text", "text", "int", "int", "int", "int", "int", "text"],
        rows=[
            [
                f["title"],
                f["night_status"],
                f["delivery_date"].isoformat(),
                f["status"] if f["status"] == "已拒收" else ("通过" if f["passed"] else "有错误"),
                f["rows"],
                f["bad_rows"],
                f["errors"],
                f["warnings"],
                f["checks_failed"],
                f["message"] or "",
            ]
            for f in report.feeds
        ],
        note="校验结论“通过”指没有错误级检查结果（警告不影响）；本期未交付或被拒收的数据项，列出其最近一次校验的交付。"
        + (
            f"逐条校验结果见监测网站“当晚比对”页（{report.night.isoformat()}）的“数据校验报告”。"
            if report.has_validation_report
            else ""
        ),
    )

    def share(region: str, method: str) -> float | None:
        rows = v(region, "link_rows")
        return None if not rows else (v(region, f"link_{method}") or 0) / rows

    linkage = Section(
        title="四、人员记录关联覆盖",
        sheet="关联覆盖",
        headers=[
            "县（市、区）",
            INDICATORS["link_rows"],
            *(f"{INDICATORS[f'link_{m}']}占比" for m in LINK_METHODS),
            INDICATORS["review_open"],
        ],
        kinds=["text", "int", *("percent" for _ in LINK_METHODS), "int"],
        rows=[
            [name, n(code, "link_rows"), *(share(code, m) for m in LINK_METHODS), n(code, "review_open")] for code, name in places
        ],
        note="按人员当前所在村归属到县；占比为该方式确定的记录数 ÷ 参与关联的人员记录数。",
        total_rows=totals,
    )
    return [findings, changes, validation, linkage]


# --- writing ----------------------------------------------------------------------------------


def quality_report_paths(settings: Settings, night: dt.date, out_dir: Path | None = None) -> dict[str, Path]:
    """Where a night's report files go: <reports_dir>/quality/<night>/数据质量报告-<night>.*"""
    # Absolute: the paths are stored, and the site (started elsewhere) serves the files by them.
    folder = Path(out_dir).absolute() if out_dir else settings.reports_dir / "quality" / night.isoformat()
    stem = f"数据质量报告-{night.isoformat()}"
    return {kind: folder / f"{stem}.{kind}" for kind in ("html", "pdf", "xlsx")}


def _excel_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in ("percent", "change_percent"):
        return round(float(value), 4)
    return value


def make_quality_report(
    settings: Settings,
    as_of: dt.date,
    made_by: str,
    since: dt.date | None = None,
    out_dir: Path | None = None,
    pdf: bool = True,
) -> dict[str, Any]:
    """Count, write the HTML/PDF and xlsx, and store the report with its values (re-making a night's
    report replaces it). Returns the night, the report compared with and the files."""
    from pipelines.documents.render import render_document, write_document

    engine = store.connect(settings)
    report = build_quality_report(engine, settings, as_of, since)
    sections = build_quality_sections(report)
    paths = quality_report_paths(settings, report.night, out_dir)
    subtitle = f"数据日期 {report.night.isoformat()}（截至 {as_of.isoformat()}）"
    html = render_document(
        "quality_report.html",
        title="扶贫数据质量报告",
        subtitle=subtitle,
        orientation="landscape",
        report=report,
        sections=sections,
        accuracy_definition=ACCURACY_DEFINITION,
        prefecture=report.value(PREFECTURE, "accuracy"),
    )
    sheets = [
        store.ExcelSheet(
            "说明",
            ["项目", "内容"],
            [
                ["数据日期", report.night.isoformat()],
                ["截至日期", as_of.isoformat()],
                ["比较的上期报告", report.compared_with.isoformat() if report.compared_with else "无"],
                ["数据准确率的定义", ACCURACY_DEFINITION],
                ["全市（州）数据准确率", _excel_value(report.value(PREFECTURE, "accuracy"), "percent")],
            ],
            title=["扶贫数据质量报告", subtitle],
        ),
        *(
            store.ExcelSheet(
                s.sheet,
                s.headers,
                [[_excel_value(value, kind) for value, kind in zip(row, s.kinds)] for row in s.rows],
                title=[s.title, s.note],
            )
            for s in sections
        ),
    ]
    # Every file is staged in this one block, around the stored values: all appear or none does.
    with store.staged_files() as stage:
        store.write_excel_tables(stage(paths["xlsx"]), sheets)
        written = write_document(html, paths["html"], pdf=pdf, stage=stage)
        store.write_quality_report(
            engine,
            {
                "report_night": report.night,
                "as_of": as_of,
                "compared_with": report.compared_with,
                "made_by": made_by,
                "made_at": dt.datetime.now().replace(microsecond=0),
                "html": str(written.html),
                "pdf": str(written.pdf) if written.pdf else None,
                "xlsx": str(paths["xlsx"]),
            },
            report.values,
        )
    if not pdf:  # an earlier making's PDF would pass for this one
        paths["pdf"].unlink(missing_ok=True)
    return {
        "night": report.night,
        "compared_with": report.compared_with,
        "accuracy": report.value(PREFECTURE, "accuracy"),
        "html": written.html,
        "pdf": written.pdf,
        "xlsx": paths["xlsx"],
    }
