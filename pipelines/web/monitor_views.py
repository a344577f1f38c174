"""What the monitor pages show, built from night_counts (pipelines.web.monitor_data): the trend of a
region and of each of its child regions, closure rates ranked, and the drill-down from prefecture to
village. Each `build_*` returns one plain dict: the page's template renders it, and the page's JSON
twin (`?format=json`) is that dict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from sqlalchemy import Engine

from pipelines.clues import ALL_RULES
from pipelines.web.monitor_data import (
    Counts,
    child_digits,
    load_level_counts,
    load_nights,
    load_region_totals,
    load_rule_counts,
    rule_titles,
)
from pipelines.web.pages import region_label

__all__ = [
    "BOTTOM_MARKED",
    "COUNT_SERIES",
    "LEVEL_WORDS",
    "build_closure_view",
    "build_region_view",
    "build_trend_view",
    "child_codes",
    "count_fields",
    "line_spec",
    "rank_by_closure",
]

# The counts a trend draws, in the order of its legend.
COUNT_SERIES = (("found", "发现"), ("open", "未销号（待处理）"), ("closed", "已销号"), ("overdue", "逾期"))
LEVEL_WORDS = {4: "市（州）", 6: "县（市）", 9: "乡镇", 12: "村"}
BOTTOM_MARKED = 3
PREFECTURE_WORD = "全市（州）"  # the prefecture: the region feed names counties, townships and villages only


def region_name(names: dict[str, str], code: str) -> str:
    """A region's name alone ('瓮安县'), or its label when the reference does not know it; the
    prefecture, which the reference never names, is PREFECTURE_WORD (its code shown beside it as
    every region's is)."""
    if len(code) == 4 and code.ljust(12, "0") not in names:
        return PREFECTURE_WORD
    return names.get(code.ljust(12, "0")) or region_label(names, code)


def child_codes(names: dict[str, str], region: str, digits: int) -> list[str]:
    """The `digits`-long children of `region` in the region reference (whose codes are 12 digits,
    zero-padded: 522725000000 is the county 522725)."""
    padding = "0" * (12 - digits)
    own = "0" * (digits - len(region))
    return sorted(
        {
            code[:digits]
            for code in names
            if code.startswith(region) and code[digits:] == padding and code[len(region) : digits] != own
        }
    )


def count_fields(counts: Counts) -> dict:
    """The counts as a row's fields, with the closure rate."""
    return {**asdict(counts), "closure_rate": counts.closure_rate}


def line_spec(title: str, nights: list[dt.date], totals: dict[dt.date, Counts]) -> dict:
    """A line chart (static/bidui.js) of the counts night by night; a night without a row is 0."""
    return {
        "kind": "line",
        "title": title,
        "dates": [night.isoformat() for night in nights],
        "series": [
            {"name": label, "data": [getattr(totals.get(night, Counts()), key) for night in nights]}
            for key, label in COUNT_SERIES
        ],
    }


def _bar_spec(title: str, rows: list[dict], label_key: str) -> dict:
    rated = [r for r in rows if r["closure_rate"] is not None]
    return {
        "kind": "bar",
        "title": title,
        "labels": [r[label_key] for r in rated],
        "percent": True,
        "series": [{"name": "销号率", "data": [round(100 * r["closure_rate"], 1) for r in rated]}],
    }


def rank_by_closure(rows: list[dict], marked: int = BOTTOM_MARKED) -> list[dict]:
    """Rows with a closure rate best first, ranked (equal rates share a rank), the bottom `marked`
    flagged `bottom`: those with fewer than `marked` ranked below them, when more than `marked` are
    ranked and some rank above them (all equal: none is at the bottom). Rows without a rate
    (nothing found) come last, unranked."""
    rated = sorted((r for r in rows if r["closure_rate"] is not None), key=lambda r: (-r["closure_rate"], r["code"]))
    rates = [r["closure_rate"] for r in rated]
    ranked = []
    for row in rated:
        above = sum(1 for rate in rates if rate > row["closure_rate"])
        below = sum(1 for rate in rates if rate < row["closure_rate"])
        ranked.append({**row, "rank": above + 1, "bottom": len(rated) > marked and above > 0 and below < marked})
    return ranked + [{**r, "rank": None, "bottom": False} for r in rows if r["closure_rate"] is None]


def _children(
    engine: Engine, names: dict[str, str], region: str, rule: str = ALL_RULES, day: dt.date | None = None
) -> tuple[list[str], dict[tuple[dt.date, str], Counts]]:
    """(child codes: the reference's and any holding counts, their counts)."""
    digits = child_digits(region)
    if digits is None:
        return [], {}
    counts = load_level_counts(engine, region, digits, rule, day)
    return sorted(set(child_codes(names, region, digits)) | {code for _night, code in counts}), counts


def _region_rows(names: dict[str, str], codes: list[str], counts: dict[tuple[dt.date, str], Counts], day: dt.date) -> list[dict]:
    return [
        {
            "code": code,
            "name": region_name(names, code),
            "href": f"/monitor/regions/{code}",
            "clues_href": f"/clues?village={code}" if len(code) == 12 else None,
            **count_fields(counts.get((day, code), Counts())),
        }
        for code in codes
    ]


def build_trend_view(engine: Engine, names: dict[str, str], region: str, rule: str = ALL_RULES) -> dict | None:
    """The trend page of `region`: one chart for the region as a whole and one per child region
    with a clue, the newest night's table of child regions. None before the first night."""
    nights = load_nights(engine)
    if not nights:
        return None
    newest = nights[-1]
    codes, counts = _children(engine, names, region, rule)
    if len(region) == 4:  # a prefecture has no row of its own: its counties summed
        totals: dict[dt.date, Counts] = {}
        for (night, _code), c in counts.items():
            totals[night] = totals.get(night, Counts()) + c
    else:
        totals = load_region_totals(engine, region, rule)
    what = f"{rule} {rule_titles().get(rule, '')}".strip() if rule != ALL_RULES else "全部规则"
    charts = [{"id": "trend-all", "spec": line_spec(f"{region_name(names, region)}（{what}）", nights, totals)}]
    quiet = []
    for code in codes:
        own = {night: c for (night, c_code), c in counts.items() if c_code == code}
        if any(c.found for c in own.values()):
            charts.append({"id": f"trend-{code}", "spec": line_spec(region_name(names, code), nights, own)})
        else:
            quiet.append(region_name(names, code))
    digits = child_digits(region)
    return {
        "region": region,
        "region_name": region_name(names, region),
        "child_level": LEVEL_WORDS.get(digits or 0, ""),
        "rule": rule,
        "rule_title": what,
        "data_date": newest.isoformat(),
        "nights": [night.isoformat() for night in nights],
        "totals": count_fields(totals.get(newest, Counts())),
        "charts": charts,
        "children": _region_rows(names, codes, counts, newest),
        "quiet": quiet,
    }


def build_closure_view(engine: Engine, names: dict[str, str], region: str) -> dict | None:
    """Closure rates on the newest night: per child region and per rule, ranked, the bottom three
    marked, with a bar chart each. None before the first night."""
    nights = load_nights(engine)
    if not nights:
        return None
    newest = nights[-1]
    codes, counts = _children(engine, names, region, day=newest)
    regions = rank_by_closure(_region_rows(names, codes, counts, newest))
    titles = rule_titles()
    by_rule = load_rule_counts(engine, region, newest)
    rules = rank_by_closure(
        [
            {"code": code, "name": titles.get(code, ""), **count_fields(by_rule.get(code, Counts()))}
            for code in sorted(set(titles) | set(by_rule))
        ]
    )
    level = LEVEL_WORDS.get(child_digits(region) or 0, "")
    return {
        "region": region,
        "region_name": region_name(names, region),
        "child_level": level,
        "data_date": newest.isoformat(),
        "totals": count_fields(sum(by_rule.values(), Counts())),
        "regions": regions,
        "rules": rules,
        "charts": [
            {"id": "closure-regions", "spec": _bar_spec(f"各{level}销号率（%）", regions, "name")},
            {"id": "closure-rules", "spec": _bar_spec("各规则销号率（%）", rules, "code")},
        ]
        if level
        else [{"id": "closure-rules", "spec": _bar_spec("各规则销号率（%）", rules, "code")}],
    }


def _breadcrumbs(names: dict[str, str], top: str, region: str) -> list[dict]:
    """From the viewer's own region down to `region`."""
    return [
        {"code": region[:digits], "name": region_name(names, region[:digits]), "href": f"/monitor/regions/{region[:digits]}"}
        for digits in (4, 6, 9, 12)
        if len(top) <= digits <= len(region)
    ]


def build_region_view(engine: Engine, names: dict[str, str], top: str, region: str) -> dict | None:
    """One level of the drill-down: the region's own counts and trend, its child regions on the
    newest night (a village: its rules, and the way to its clues). None when neither the region
    reference nor any count knows the region."""
    nights = load_nights(engine)
    newest = nights[-1] if nights else None
    totals = load_region_totals(engine, region)
    codes, counts = _children(engine, names, region, day=newest) if newest else ([], {})
    if not (region.ljust(12, "0") in names or totals or codes):
        return None
    own = totals.get(newest, Counts()) if newest else Counts()
    rules = []
    if len(region) == 12 and newest:
        titles = rule_titles()
        by_rule = load_rule_counts(engine, region, newest)
        rules = [{"code": code, "name": titles.get(code, ""), **count_fields(c)} for code, c in sorted(by_rule.items())]
    return {
        "region": region,
        "region_name": region_name(names, region),
        "level": LEVEL_WORDS[len(region)],
        "child_level": LEVEL_WORDS.get(child_digits(region) or 0, ""),
        "data_date": newest.isoformat() if newest else None,
        "breadcrumbs": _breadcrumbs(names, top, region),
        "totals": count_fields(own),
        "chart": {"id": "trend-region", "spec": line_spec(region_name(names, region), nights, totals)} if nights else None,
        "children": _region_rows(names, codes, counts, newest) if newest else [],
        "rules": rules,
        "clues_href": f"/clues?village={region}" if len(region) == 12 else None,
    }
