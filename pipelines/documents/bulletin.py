"""The monthly bulletin (月通报): counties ranked by a score whose definition the bulletin prints,
the bottom three marked, consecutive bottom placements counted into talks (约谈), and the month
compared with the one before.

Every figure comes from the store as it stood at the month's end: the county counts of the month's
last night (night_counts, all rules), the 建档立卡 registry in effect on that night's day, and the
ledgers issued and returned by the month's last day. Only a month that is over gets a bulletin. An earlier month is read from its stored bulletin, or computed the same
way when none was made, so a bulletin made twice gives the same figures.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pipelines import store
from pipelines.errors import BiduiError, read_problem
from pipelines.settings import Settings

__all__ = [
    "DEFAULT_CONFIG",
    "INDICATORS",
    "Indicator",
    "Month",
    "MonthRanking",
    "build_indicators",
    "build_ranking",
    "load_month_ranking",
    "load_weights",
    "parse_month",
    "stored_or_computed_ranking",
    "talk_for",
]

DEFAULT_CONFIG = Path(__file__).with_name("bulletin.toml")
BOTTOM_PLACES = 3
# How far back consecutive bottom placements are followed, at most.
MAX_MONTHS_BACK = 36
COUNT_COLUMNS = ("found", "open", "closed", "overdue", "reopened")
TALK_DEPUTY = "约谈：市（州）分管负责同志"
TALK_PRINCIPAL = "约谈：市（州）主要负责同志"


@dataclass(frozen=True)
class Indicator:
    """One ranked indicator: how it is shown, which way is better, and how it is counted."""

    key: str
    label: str
    unit: str  # 'percent' | 'per_k'
    higher_is_better: bool
    definition: str


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator(
            "closure_rate", "销号率", "percent", True, "月末最后一晚已销号（含备案）的线索数 ÷ 累计发现的线索数；越高越好。"
        ),
        Indicator(
            "overdue_per_k",
            "超期线索（每千人）",
            "per_k",
            False,
            "月末最后一晚仍未办结且已过整改期限的线索数 ÷ 建档立卡人数 × 1000（按人口折算，不按原始条数，避免大县吃亏）；越低越好。",
        ),
        Indicator(
            "return_rate",
            "台账回收率",
            "percent",
            True,
            "截至月末已随问题台账下发的线索中，县里交回的台账已登记核实结果（导入台账产生记录）的线索所占比例；越高越好。",
        ),
        Indicator(
            "reopen_rate", "重新打开率", "percent", False, "累计发现的线索中，曾被重新打开（销号后问题复现）的比例；越低越好。"
        ),
        Indicator("found_per_k", "问题线索（每千人）", "per_k", False, "累计发现的线索数 ÷ 建档立卡人数 × 1000；越低越好。"),
    )
}


@dataclass(frozen=True)
class Month:
    """A calendar month: 'YYYY-MM', its first and last day."""

    label: str
    first: dt.date
    last: dt.date

    @property
    def chinese(self) -> str:
        return f"{self.first.year}年{self.first.month}月"

    def previous(self) -> Month:
        return month_of(self.first - dt.timedelta(days=1))


def month_of(day: dt.date) -> Month:
    """The month holding `day`."""
    first = day.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return Month(f"{first.year:04d}-{first.month:02d}", first, last)


def parse_month(text: str) -> Month:
    """A month typed as YYYY-MM; BiduiError in Chinese otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BiduiError(f"月份“{text}”格式不对，应为 YYYY-MM，例如 2026-11")
    return month_of(dt.date(int(match.group(1)), int(match.group(2)), 1))


def load_weights(settings: Settings) -> dict[str, float]:
    """The indicator weights of the bulletin configuration (BIDUI_BULLETIN_CONFIG or the packaged
    bulletin.toml), in the order of INDICATORS; BiduiError for an unknown key or a bad weight."""
    path = settings.bulletin_config or DEFAULT_CONFIG
    try:
        config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BiduiError(f"读不了月通报配置 {path}：{read_problem(exc)}") from exc
    given = config.get("weights", {})
    unknown = sorted(set(given) - set(INDICATORS))
    if unknown:
        raise BiduiError(f"月通报配置 {path} 中有不认识的指标：{'、'.join(unknown)}（可用：{'、'.join(INDICATORS)}）")
    weights: dict[str, float] = {}
    for key in INDICATORS:
        value = given.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise BiduiError(f"月通报配置 {path} 中指标 {key} 的权重应为不小于 0 的数")
        weights[key] = float(value)
    if not any(weights.values()):
        raise BiduiError(f"月通报配置 {path} 中所有指标的权重都是 0，无法排名")
    return weights


def _ratio(numerator: int, denominator: int, scale: float = 1.0) -> float | None:
    return None if not denominator else scale * numerator / denominator


def build_indicators(figures: Mapping[str, Any]) -> dict[str, float | None]:
    """A county's indicators from its counts; None where the denominator is 0."""
    registered, found = figures["registered"], figures["found"]
    return {
        "closure_rate": _ratio(figures["closed"], found),
        "overdue_per_k": _ratio(figures["overdue"], registered, 1000.0),
        "return_rate": _ratio(figures["returned"], figures["issued"]),
        "reopen_rate": _ratio(figures["reopened"], found),
        "found_per_k": _ratio(found, registered, 1000.0),
    }


def _scaled(values: dict[str, float | None], higher_is_better: bool) -> dict[str, float]:
    """Each county's value on 0–100 across the counties (100 the best); a county without a value
    (nothing to count) and all counties when every value is the same get 100."""
    known = [v for v in values.values() if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    scaled = {}
    for county, value in values.items():
        if value is None or high == low:
            scaled[county] = 100.0
        else:
            share = (value - low) / (high - low)
            scaled[county] = round(100.0 * (share if higher_is_better else 1.0 - share), 4)
    return scaled


def build_ranking(figures: Mapping[str, Mapping[str, Any]], weights: Mapping[str, float]) -> list[dict[str, Any]]:
    """Rank counties by their figures (county code → registered, found, open, closed, overdue,
    reopened, issued, returned): indicators, scaled scores, the weighted score (0–100, 2 decimals),
    the rank (1 best, ties share a rank) and whether the county is among the bottom three (ties at
    the border all are; nobody is with three counties or fewer). Best first."""
    indicators = {county: build_indicators(f) for county, f in figures.items()}
    scaled = {
        key: _scaled({c: values[key] for c, values in indicators.items()}, INDICATORS[key].higher_is_better) for key in INDICATORS
    }
    total = sum(weights.values())
    rows = []
    for county, f in figures.items():
        score = sum(weights[key] * scaled[key][county] for key in INDICATORS) / total
        rows.append(
            {
                "county_code": county,
                **f,
                **indicators[county],
                **{f"{k}_scaled": scaled[k][county] for k in INDICATORS},
                "score": round(score, 2),
            }
        )
    scores = [r["score"] for r in rows]
    for row in rows:
        row["rank"] = 1 + sum(s > row["score"] for s in scores)
        row["bottom"] = len(rows) > BOTTOM_PLACES and sum(s < row["score"] for s in scores) < BOTTOM_PLACES
    return sorted(rows, key=lambda r: (r["rank"], r["county_code"]))


@dataclass(frozen=True)
class MonthRanking:
    """A month's ranking: the night it was read from, best county first, and whether it is the
    stored bulletin's or computed now."""

    month: Month
    last_night: dt.date
    rows: list[dict[str, Any]]
    stored: bool

    def by_county(self) -> dict[str, dict[str, Any]]:
        return {r["county_code"]: r for r in self.rows}


def load_month_figures(engine: Engine, month: Month) -> tuple[dt.date | None, dict[str, dict[str, int]]]:
    """The month's last night and each county's counts as they stood then: the counties with clues
    that night or persons in the registry."""
    night, counts = store.load_county_counts(engine, month.first, month.last)
    if night is None:
        return None, {}
    # The registry the night's clues were found against, as the bulletin prints (not a later one of
    # the month that no night read).
    registered = store.load_registered_persons(engine, night)
    returns = store.load_ledger_returns(engine, month.last)
    figures = {}
    for county in sorted(set(counts) | {c for c, n in registered.items() if n}):
        issued, returned = returns.get(county, (0, 0))
        figures[county] = {
            "registered": registered.get(county, 0),
            **dict.fromkeys(COUNT_COLUMNS, 0),
            **counts.get(county, {}),
            "issued": issued,
            "returned": returned,
        }
    return night, figures


def load_month_ranking(engine: Engine, month: Month, weights: Mapping[str, float]) -> MonthRanking | None:
    """The month's ranking computed from the store now; None when the month had no night."""
    night, figures = load_month_figures(engine, month)
    if night is None:
        return None
    return MonthRanking(month, night, build_ranking(figures, weights), stored=False)


def stored_or_computed_ranking(engine: Engine, month: Month, weights: Mapping[str, float]) -> MonthRanking | None:
    """The ranking of the month's stored bulletin, else computed the same way from the store."""
    stored = store.load_bulletin(engine, month.label)
    if stored is None:
        return load_month_ranking(engine, month, weights)
    ranks = store.load_bulletin_ranks(engine, month.label) or []
    rows = [{**r, **build_indicators(r)} for r in ranks]
    return MonthRanking(month, stored["last_night"], rows, stored=True)


def consecutive_bottom(
    engine: Engine, ranking: MonthRanking, weights: Mapping[str, float], earlier: Callable[[Month], MonthRanking | None]
) -> dict[str, int]:
    """Per county, the months in a row up to this one it was among the bottom three (0 if not now).
    An earlier stored bulletin gives its own count; else that month is ranked the same way."""
    current = {r["county_code"] for r in ranking.rows if r["bottom"]}
    streak = dict.fromkeys(current, 1)
    month, alive = ranking.month, set(current)
    for _ in range(MAX_MONTHS_BACK):
        if not alive:
            break
        month = month.previous()
        before = earlier(month)
        if before is None:
            break
        rows = before.by_county()
        if before.stored:  # its count already reaches back as far as it goes
            for county in alive:
                row = rows.get(county)
                if row and row["bottom"]:
                    streak[county] += int(row["consecutive"])
            break
        alive = {c for c in alive if rows.get(c, {}).get("bottom")}
        for county in alive:
            streak[county] += 1
    return {r["county_code"]: streak.get(r["county_code"], 0) for r in ranking.rows}


def talk_for(consecutive: int) -> str:
    """The talk a run of bottom placements calls for: twice in a row the prefecture's deputy in
    charge, three times or more its principal."""
    if consecutive >= 3:
        return TALK_PRINCIPAL
    if consecutive == 2:
        return TALK_DEPUTY
    return ""
