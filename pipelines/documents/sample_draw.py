"""The draw of a cross-check sample (交叉检查抽样) by Anhui's 2019 scheme (安徽省2019年脱贫攻坚市际
交叉考核方案, 七、样本抽取), as pure functions on small frames.

Villages: 4 villages of 4 different townships, 2 建档立卡贫困村 and 2 non-poor villages among those with
the most registered persons (建档立卡贫困人口较多的非贫困村: the upper half by registered persons),
remote villages weighted up (probability proportional to the distance to the county seat).
Households: 16 per village, by stratum; a short stratum is made up by the scheme's fall-backs, in
order; every household that fell back into poverty (返贫户) is added (全覆盖).

Reproducible: one numpy Generator seeded once draws everything in a fixed order, from candidates
sorted by code; the same seed on the same data gives the same sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "HOUSEHOLD_QUOTAS",
    "MIN_DISTANCE_KM",
    "SCHEME_FALLBACKS",
    "STRATUM_FALLBACKS",
    "VILLAGE_KINDS",
    "DrawnHousehold",
    "DrawnVillage",
    "draw_households",
    "draw_villages",
    "household_strata",
    "non_poor_pool",
    "stratum_label",
]

POOR, NON_POOR = "poor", "non_poor"
VILLAGE_KINDS = {POOR: "建档立卡贫困村", NON_POOR: "建档立卡贫困人口较多的非贫困村"}
VILLAGE_QUOTAS = ((POOR, 2), (NON_POOR, 2))
# Remote villages weighted up: probability ∝ distance, at least 1 km (a village at the seat still has a chance).
MIN_DISTANCE_KM = 1.0

EXITED_THIS_YEAR, EXITED_BEFORE, NEW, NOT_EXITED, GENERAL, RELAPSED = "A", "B", "C", "D", "E", "R"
HOUSEHOLD_QUOTAS = ((EXITED_THIS_YEAR, 4), (EXITED_BEFORE, 4), (NEW, 2), (NOT_EXITED, 2), (GENERAL, 4))
# Where a short stratum takes its missing households, in order. The scheme (七、2. 户抽样) says:
# "抽查村没有新识别贫困户的，抽查未脱贫户；既没有新识别贫困户也没有未脱贫户的，抽查2016—2018年脱贫户；
# 没有2019年脱贫户的，抽查2016—2018年脱贫户" — SCHEME_FALLBACKS below. It is silent on the rest, which
# is bidui's and stated as such in every sample: a stratum short of its quota (not only an empty
# one) is made up the same way; what the scheme's sources cannot give comes next from the
# not-exited, last from the general households; the not-exited take what is left of the newly
# identified first (the scheme's "neither … nor" case leaves none there, so it still reads as said).
STRATUM_FALLBACKS = {
    EXITED_THIS_YEAR: (EXITED_BEFORE, NOT_EXITED, GENERAL),
    EXITED_BEFORE: (EXITED_THIS_YEAR, NOT_EXITED, GENERAL),
    NEW: (NOT_EXITED, EXITED_BEFORE, GENERAL),
    NOT_EXITED: (NEW, EXITED_BEFORE, GENERAL),
    GENERAL: (),
}
# The sources the scheme itself names for a short stratum (a subsequence of its chain above).
SCHEME_FALLBACKS = {
    EXITED_THIS_YEAR: (EXITED_BEFORE,),
    NEW: (NOT_EXITED, EXITED_BEFORE),
    NOT_EXITED: (EXITED_BEFORE,),
}


def stratum_label(stratum: str, year: int) -> str:
    """The stratum as the scheme names it, for year Y."""
    return {
        EXITED_THIS_YEAR: f"{year}年脱贫户",
        EXITED_BEFORE: f"{year - 3}—{year - 1}年脱贫户",
        NEW: f"{year - 1}—{year}年新识别贫困户",
        NOT_EXITED: "未脱贫户",
        GENERAL: "一般农户",
        RELAPSED: "返贫户（全覆盖）",
    }[stratum]


def _year(value: object) -> int | None:
    text = str(value or "").strip()[:4]
    return int(text) if text.isdigit() else None


def household_strata(registered: pd.DataFrame, year: int) -> pd.Series:
    """Each registered household's stratum (None: in none), from status, exit year and
    identification year as the registry holds them on the data date. A household exited in Y that
    was also identified in Y-1..Y counts as exited in Y (the strata do not overlap)."""
    strata: list[str | None] = []
    for raw_status, exit_year, identified in zip(
        registered["status"], registered["exit_year"].map(_year), registered["identified_year"].map(_year), strict=True
    ):
        status = str(raw_status or "").strip()
        if status == "返贫":
            strata.append(RELAPSED)
        elif status == "已脱贫" and exit_year == year:
            strata.append(EXITED_THIS_YEAR)
        elif status == "已脱贫" and exit_year is not None and year - 3 <= exit_year <= year - 1:
            strata.append(EXITED_BEFORE)
        elif status == "未脱贫" and identified is not None and year - 1 <= identified <= year:
            strata.append(NEW)
        elif status == "未脱贫":
            strata.append(NOT_EXITED)
        else:
            strata.append(None)
    return pd.Series(strata, index=registered.index, dtype=object)


# --- villages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawnVillage:
    village_code: str
    kind: str  # POOR or NON_POOR: what the village is
    drawn_for: str  # the slot it fills (differs from kind after a fall-back)
    registered: int
    distance: float


def non_poor_pool(villages: pd.DataFrame) -> pd.DataFrame:
    """The non-poor villages 'with the most registered persons': those with any, ranked by count,
    down to the count of the middle one (the upper half, ties at the cut included)."""
    candidates = villages[~villages["poor"] & (villages["registered"] > 0)]
    if candidates.empty:
        return candidates
    counts = candidates["registered"].sort_values(ascending=False).to_numpy()
    cut = counts[math.ceil(len(counts) / 2) - 1]
    return candidates[candidates["registered"] >= cut]


def _pick(rng: np.random.Generator, candidates: pd.DataFrame) -> pd.Series:
    ordered = candidates.sort_values("village_code")
    weights = ordered["distance"].clip(lower=MIN_DISTANCE_KM).to_numpy(dtype=float)
    return ordered.iloc[int(rng.choice(len(ordered), p=weights / weights.sum()))]


def draw_villages(
    villages: pd.DataFrame, rng: np.random.Generator, names: dict[str, str] | None = None
) -> tuple[list[DrawnVillage], list[str]]:
    """Four villages from `villages` (village_code, poor: bool, registered, distance in km, no
    missing; only villages with registered persons are drawn), and the fall-backs taken, in Chinese. Draws 2 poor villages, then 2 from the non-poor
    pool, each from a township not drawn yet; a slot left empty is then filled from the other
    kinds (non-poor pool, other non-poor villages, poor villages), and only when the county has
    too few townships from a township already drawn."""
    names = names or {}
    # A village without any registered person has no household of the scheme's strata to visit.
    villages = villages[villages["registered"] > 0]
    villages = villages.assign(township=villages["village_code"].str[:9])
    pool = non_poor_pool(villages)
    tiers = {
        POOR: villages[villages["poor"]],
        NON_POOR: pool,
        "rest": villages[~villages["poor"] & ~villages["village_code"].isin(pool["village_code"])],
    }
    fallback_tiers = {POOR: (NON_POOR, "rest"), NON_POOR: ("rest", POOR)}
    tier_text = {POOR: "贫困村", NON_POOR: "建档立卡贫困人口较多的非贫困村", "rest": "其他非贫困村"}
    drawn: list[DrawnVillage] = []
    notes: list[str] = []

    def eligible(tier: str, distinct: bool) -> pd.DataFrame:
        frame = tiers[tier]
        frame = frame[~frame["village_code"].isin([v.village_code for v in drawn])]
        if distinct:
            frame = frame[~frame["township"].isin([v.village_code[:9] for v in drawn])]
        return frame

    def take(tier: str, slot: str, distinct: bool) -> bool:
        candidates = eligible(tier, distinct)
        if candidates.empty:
            return False
        row = _pick(rng, candidates)
        kind = POOR if bool(row["poor"]) else NON_POOR
        drawn.append(DrawnVillage(row["village_code"], kind, slot, int(row["registered"]), float(row["distance"])))
        if tier != slot or not distinct:
            name = names.get(row["village_code"], row["village_code"])
            why = f"从{tier_text[tier]}中补抽{name}" if tier != slot else f"抽取{name}"
            place = "（各乡镇已无可抽的村，与已抽村同一乡镇）" if not distinct else ""
            notes.append(f"可抽的{VILLAGE_KINDS[slot]}（各在不同乡镇）不足 2 个，{why}{place}")
        return True

    missing = dict(VILLAGE_QUOTAS)
    for slot, _quota in VILLAGE_QUOTAS:
        while missing[slot] and take(slot, slot, distinct=True):
            missing[slot] -= 1
    for distinct in (True, False):
        for slot, _quota in VILLAGE_QUOTAS:
            for tier in (slot, *fallback_tiers[slot]) if not distinct else fallback_tiers[slot]:
                while missing[slot] and take(tier, slot, distinct):
                    missing[slot] -= 1
    for slot, short in missing.items():
        if short:
            notes.append(f"可抽的{VILLAGE_KINDS[slot]}不足 2 个，全县已无可抽的村，少抽 {short} 个")
    return drawn, notes


# --- households -------------------------------------------------------------------------------


@dataclass
class DrawnHousehold:
    code: str  # 户编号 (registered) or the base map's household code (general)
    stratum: str  # what the household is
    drawn_for: str  # the stratum slot it fills
    facts: dict = field(default_factory=dict)


def draw_households(
    candidates: pd.DataFrame, rng: np.random.Generator, year: int, village_name: str
) -> tuple[list[DrawnHousehold], list[str]]:
    """One village's 16 households from `candidates` (code, stratum, and any facts to carry), plus
    every 返贫 household; and the fall-backs taken, in Chinese. Each stratum first draws from its
    own households; then each short stratum, in the scheme's order, draws from its fall-backs."""
    pools = {s: candidates[candidates["stratum"] == s].sort_values("code") for s, _q in HOUSEHOLD_QUOTAS}
    taken: set[str] = set()
    drawn: list[DrawnHousehold] = []

    def take(source: str, slot: str, count: int) -> int:
        pool = pools[source][~pools[source]["code"].isin(taken)]
        n = min(count, len(pool))
        if n:
            for i in sorted(rng.choice(len(pool), size=n, replace=False)):
                row = pool.iloc[int(i)]
                taken.add(row["code"])
                facts = {k: v for k, v in row.items() if k not in ("code", "stratum")}
                drawn.append(DrawnHousehold(row["code"], source, slot, facts))
        return n

    short = {s: q - take(s, s, q) for s, q in HOUSEHOLD_QUOTAS}
    notes = []
    for slot, quota in HOUSEHOLD_QUOTAS:
        if not short[slot]:
            continue
        found = quota - short[slot]
        parts = []
        for source in STRATUM_FALLBACKS[slot]:
            got = take(source, slot, short[slot])
            short[slot] -= got
            if got:
                parts.append(f"从{stratum_label(source, year)}补抽 {got} 户")
        missing = f"，仍少 {short[slot]} 户" if short[slot] else ""
        notes.append(
            f"{village_name}：{stratum_label(slot, year)}仅 {found} 户（应抽 {quota} 户）"
            + (f"，{'，'.join(parts)}" if parts else "")
            + missing
        )
    relapsed = candidates[candidates["stratum"] == RELAPSED].sort_values("code")
    for _, row in relapsed.iterrows():
        facts = {k: v for k, v in row.items() if k not in ("code", "stratum")}
        drawn.append(DrawnHousehold(row["code"], RELAPSED, RELAPSED, facts))
    order = [s for s, _q in HOUSEHOLD_QUOTAS] + [RELAPSED]
    drawn.sort(key=lambda h: (order.index(h.drawn_for), h.code))
    return drawn, notes
