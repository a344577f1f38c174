"""The checks every feed shares, built from the kinds in its FeedSpec.

An expectation carries what a failing row becomes in its `meta`: the field, a short English check
code, the severity, and a Chinese message template. Templates may name `{value}` (the field's value
as delivered), `{header}` (the field's Chinese header), `{count}` (rows sharing the value, for
duplicates) and any field of the feed (`{identified_year}`). `messages` maps a parsed value (an ID
status) found in the `keyed_on` column to its own template. `blocking: False` keeps an error out of
the rejection share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pipelines.catalog.feeds import FeedSpec, FieldSpec

from .derive import derived

__all__ = [
    "ID_MESSAGES",
    "MIN_DATE",
    "MIN_EVENT_YEAR",
    "SuiteContext",
    "build_suite",
    "finding_meta",
    "not_before",
    "required_when",
    "standard_expectations",
]

MIN_DATE = dt.date(1900, 1, 1)
# The earliest plausible value of a year field — the year a household was identified or exited, a
# person insured, a village left the poor list; an earlier year that still reads as one is a finding.
MIN_EVENT_YEAR = 1990

ID_MESSAGES = {
    "mangled": "身份证号被Excel转为科学计数法，已标记无效（不作猜测）",
    "bad_length": "身份证号位数错误（应为 18 位）：{value}",
    "bad_chars": "身份证号含有非法字符：{value}",
    "bad_checksum": "身份证号校验位错误",
    "bad_birthdate": "身份证号中的出生日期不存在",
}
ACCEPTED_ID_STATUSES = ["valid", "legacy15"]


@dataclass(frozen=True)
class SuiteContext:
    """What a suite is built for: the feed, the columns the delivery has, the region names, the date."""

    spec: FeedSpec
    columns: frozenset[str]
    as_of: dt.date
    known_regions: frozenset[str] = frozenset()

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def present(self, kind: str) -> list[FieldSpec]:
        return [f for f in self.spec.fields if f.kind == kind and f.name in self.columns]


def finding_meta(
    field_name: str | None,
    check: str,
    severity: str,
    message: str,
    messages: dict[str, str] | None = None,
    keyed_on: str | None = None,
    blocking: bool = True,
) -> dict[str, Any]:
    """The `meta` an expectation carries so its failures become findings."""
    if severity not in ("error", "warning"):
        raise ValueError(f"severity must be error or warning, not {severity!r}")
    meta: dict[str, Any] = {"field": field_name, "check": check, "severity": severity, "message": message}
    if messages:
        meta["messages"], meta["keyed_on"] = dict(messages), keyed_on
    if not blocking:
        meta["blocking"] = False
    return meta


def _ymd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _not_null_where_raw(gxe, column: str, raw: str, meta: dict) -> Any:
    """`column` (parsed) is filled wherever `raw` is: the raw value parsed."""
    from great_expectations.expectations.row_conditions import Column

    return gxe.ExpectColumnValuesToNotBeNull(column=column, row_condition=Column(raw).is_not_null(), meta=meta)


def _columns_present(gxe, ctx: SuiteContext) -> list:
    out = []
    for f in ctx.spec.fields:
        if f.name == ctx.spec.key:
            meta = finding_meta(f.name, "missing_column", "error", f"缺少关键列“{f.header}”，无法识别每条记录")
        elif f.required:
            meta = finding_meta(f.name, "missing_column", "error", f"缺少必填列“{f.header}”")
        else:
            meta = finding_meta(f.name, "missing_column", "warning", f"缺少列“{f.header}”，依赖该列的比对将跳过")
        out.append(gxe.ExpectColumnToExist(column=f.name, meta=meta))
    return out


def _rows(gxe) -> list:
    return [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1,
            meta=finding_meta(None, "row_count", "error", "文件只有表头，没有数据行"),
        )
    ]


def _key(gxe, ctx: SuiteContext) -> list:
    key = ctx.spec.key_field
    if key.name not in ctx.columns:
        return []
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=key.name, meta=finding_meta(key.name, "required", "error", f"{key.header}为空")),
        gxe.ExpectColumnValuesToBeUnique(
            column=key.name,
            meta=finding_meta(key.name, "unique_key", "error", f"{key.header}重复（共 {{count}} 行）"),
        ),
    ]


def _required(gxe, ctx: SuiteContext) -> list:
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column=f.name, meta=finding_meta(f.name, "required", "error", f"必填字段“{f.header}”为空")
        )
        for f in ctx.spec.fields
        if f.required and f.name != ctx.spec.key and f.name in ctx.columns
    ]


def _enums(gxe, ctx: SuiteContext) -> list:
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column=f.name,
            value_set=list(f.values),
            meta=finding_meta(f.name, "enum", "error", f"{f.header}的值不在规定范围内（{'、'.join(f.values)}）：{{value}}"),
        )
        for f in ctx.present("enum")
    ]


def _dates(gxe, ctx: SuiteContext) -> list:
    out = []
    for f in ctx.present("date"):
        column = derived(f.name, "date")
        out.append(
            _not_null_where_raw(
                gxe, column, f.name, finding_meta(f.name, "date_format", "error", f"{f.header}不是有效日期：{{value}}")
            )
        )
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=_ymd(MIN_DATE),
                max_value=_ymd(ctx.as_of),
                meta=finding_meta(
                    f.name,
                    "date_range",
                    "error",
                    f"{f.header}超出合理范围（{MIN_DATE.isoformat()} 至 {ctx.as_of.isoformat()}）：{{value}}",
                ),
            )
        )
    return out


def _years(gxe, ctx: SuiteContext) -> list:
    out = []
    for f in ctx.present("year"):
        column = derived(f.name, "year")
        out.append(
            _not_null_where_raw(
                gxe, column, f.name, finding_meta(f.name, "year_format", "error", f"{f.header}应为 4 位年份：{{value}}")
            )
        )
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=MIN_EVENT_YEAR,
                max_value=ctx.as_of.year,
                meta=finding_meta(
                    f.name, "year_range", "error", f"{f.header}超出合理范围（{MIN_EVENT_YEAR} 至 {ctx.as_of.year}）：{{value}}"
                ),
            )
        )
    return out


def _numbers(gxe, ctx: SuiteContext, minimums: dict[str, float]) -> list:
    out = []
    for f in ctx.present("integer") + ctx.present("number"):
        column = derived(f.name, f.kind)
        what = "整数" if f.kind == "integer" else "数字"
        out.append(
            _not_null_where_raw(
                gxe, column, f.name, finding_meta(f.name, "number_format", "error", f"{f.header}不是有效{what}：{{value}}")
            )
        )
        least = minimums.get(f.name, 0)
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=least,
                meta=finding_meta(f.name, "number_range", "error", f"{f.header}应不小于 {least:g}：{{value}}"),
            )
        )
    return out


def _regions(gxe, ctx: SuiteContext) -> list:
    out = []
    for f in ctx.present("region"):
        column = derived(f.name, "region")
        out.append(
            _not_null_where_raw(
                gxe, column, f.name, finding_meta(f.name, "region_format", "error", f"{f.header}应为 12 位数字：{{value}}")
            )
        )
        # Without a region reference every code would fail; the format check still runs.
        if ctx.known_regions:
            out.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column,
                    value_set=sorted(ctx.known_regions),
                    meta=finding_meta(f.name, "region_known", "error", "区划代码不在区划名录中：{value}"),
                )
            )
    return out


def _ids(gxe, ctx: SuiteContext) -> list:
    out = []
    for f in ctx.present("id"):
        column = derived(f.name, "id")
        # An unusable ID is an error on the field, but the row still links on name, birth date and
        # address, so ID errors do not count towards rejecting the feed.
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=column,
                value_set=[*ACCEPTED_ID_STATUSES, "empty"],
                meta=finding_meta(
                    f.name, "id_format", "error", "身份证号无效：{value}", ID_MESSAGES, keyed_on=column, blocking=False
                ),
            )
        )
        out.append(
            gxe.ExpectColumnValuesToNotBeInSet(
                column=column,
                value_set=["empty"],
                meta=finding_meta(f.name, "id_empty", "warning", "身份证号为空"),
            )
        )
    return out


def standard_expectations(ctx: SuiteContext, minimums: dict[str, float] | None = None) -> list:
    """The shared checks for a feed: columns, key, required fields, and one set per field kind.

    `minimums` raises the lower bound of a number field above the default 0 (家庭人口数 ≥ 1).
    """
    import great_expectations.expectations as gxe

    return [
        *_rows(gxe),
        *_columns_present(gxe, ctx),
        *_key(gxe, ctx),
        *_required(gxe, ctx),
        *_enums(gxe, ctx),
        *_dates(gxe, ctx),
        *_years(gxe, ctx),
        *_numbers(gxe, ctx, minimums or {}),
        *_regions(gxe, ctx),
        *_ids(gxe, ctx),
    ]


def required_when(
    ctx: SuiteContext, field_name: str, when: str, values: list[str], message: str, severity: str = "warning"
) -> list:
    """`field_name` is filled on rows whose `when` field holds one of `values`."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    if not ctx.has(field_name, when):
        return []
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column=field_name,
            row_condition=Column(when).is_in(values),
            meta=finding_meta(field_name, "required_if", severity, message),
        )
    ]


def not_before(ctx: SuiteContext, later: str, earlier: str, message: str, severity: str = "warning") -> list:
    """Where both are usable, the date or year in `later` is not before the one in `earlier`."""
    import great_expectations.expectations as gxe

    if not ctx.has(later, earlier):
        return []
    kind = ctx.spec.field(later).kind
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=derived(later, kind),
            column_B=derived(earlier, ctx.spec.field(earlier).kind),
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=finding_meta(later, "order", severity, message),
        )
    ]


def build_suite(name: str, expectations: list):
    """An ExpectationSuite named after the feed, holding the given expectations."""
    import great_expectations as gx

    from .runner import gx_context

    gx_context()  # a suite cannot be built before the process has a context
    suite = gx.ExpectationSuite(name=name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite
