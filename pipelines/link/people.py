"""How department rows become persons: bidui's configuration of the generic engine, as data.

The police household register (hukou) is the spine. Rows whose valid ID number is a hukou row's
and whose name or birth date agrees with it are settled without scoring (pipelines.link.linker). Every
other row is scored against the spine: blocking (BLOCKING_RULES) finds its candidates, the
comparisons below give each pair its levels, and a Fellegi–Sunter model weighs them (m and u
from the night's own data, never from true links; see "the model"). A row is at most one spine
person, so its candidates compete: a candidate's posterior is 2^w / (2^none + Σ 2^w over the
row's candidates). The best candidate links when its posterior reaches UPPER; from LOWER up the
row goes to the review queue (two same-name neighbours, 重名, each get about one half).

Columns both sides carry (pipelines.link.probabilistic derives them from the person rows):
name_norm, name_pinyin, surname (first pinyin syllable), id_key (the 18-digit ID when valid,
else the cleaned text of a broken one; None when empty or Excel-mangled), id_lead (the spine's
valid ID; the digits an Excel-mangled ID kept, e.g. "522725" from 5.22725E+17), birth_date, sex,
village_code, county (its first 6 digits), and the household: the spine's hukou_no against
household_hukou_no, the 户号 most of the row's own household (household_ref) were settled to.
`pinyin_no_region` is the row's pinyin only when it has no village: such rows are blocked on the
name across the whole prefecture.

How the fixed values were chosen — once, on the 2,000-person seed delivery and a 200,000-person
demo delivery (seed 11; `bidui evaluate`) — is noted next to each.
"""

from __future__ import annotations

from matchers.blocking import Block, Prefix, SortedNeighbourhood, Suffix
from matchers.comparisons import DATE_CHECKS, Cascade, ComparisonSpec
from pipelines.catalog.feeds import LISTED_FEEDS

__all__ = [
    "BLOCKING_RULES",
    "COMPARISONS",
    "DEFAULT_M",
    "DEFAULT_U",
    "EM_M",
    "FEED_COMPARISONS",
    "LISTED_LABELS",
    "LOWER",
    "MAX_ITERATIONS",
    "M_PSEUDO",
    "RANDOM_PAIRS",
    "SEED",
    "SETTLED_M",
    "SETTLED_SAMPLE",
    "TERM_FREQUENCIES",
    "UNBLOCKED_SHARE",
    "UPPER",
    "U_PSEUDO",
    "comparison_levels",
    "comparisons_for",
    "listed_comparison",
]

BLOCKING_RULES = (
    # Same county, same reading of the name: homophones, traditional characters and spacing agree.
    Block(on=["county", "name_pinyin"]),
    # Within the county, readings a few places apart in sorted order: a slip in a later syllable.
    SortedNeighbourhood(on="name_pinyin", window=5, block_on=["county"]),
    # A one-digit typo or a transposition in an ID leaves two of its three parts (region 0:6,
    # birth date 6:14, sequence and check 14:18) intact.
    Prefix("id_key", 14),
    Suffix("id_key", 12),
    Block(on=[Prefix("id_key", 6), Suffix("id_key", 4)]),
    # Birth date and surname: catches a misspelt given name outside the county blocks.
    Block(on=["birth_date", "surname"]),
    # Rows with no village at all: the reading of the name, prefecture-wide.
    Block(on="pinyin_no_region", right_on="name_pinyin"),
)

_CHARS = ComparisonSpec("字形", "name_norm", method="jaro_winkler", levels=(1.0, 0.8))
_SOUND = ComparisonSpec("读音", "name_pinyin", method="jaro_winkler", levels=(1.0, 0.9))

COMPARISONS = (
    # One name comparison, strongest first. Jaro–Winkler on 2–3 characters: one different
    # character of three scores 0.78–0.82 (0.8 keeps the later two), so twins named 王小明 and
    # 王小红 are "similar characters", never "same pinyin" (which a homophone slip like 王晓明 is).
    Cascade(
        "name",
        ((_CHARS, 2), (_SOUND, 2), (_CHARS, 1), (_SOUND, 1)),
        labels=("不同", "读音相近", "字形相近", "读音相同", "完全一致"),
    ),
    ComparisonSpec("id_number", "id_key", method="damerau_levenshtein", levels=(0, 1, 2)),
    # What Excel left of an ID it turned into a number (5.22725E+17: the county; 5.22725199001011E+17:
    # county and birth date) against the spine's ID. Other rows leave it missing: id_number has them.
    ComparisonSpec(
        "id_region",
        "id_lead",
        method="prefix",
        levels=(14, 6),
        labels=("不同", "前6位相同（同县）", "前14位相同（同县同生日）"),
    ),
    ComparisonSpec("birth_date", "birth_date", method="date", levels=DATE_CHECKS),
    ComparisonSpec("sex", "sex", labels=("不同", "相同")),
    ComparisonSpec(
        "region",
        "village_code",
        method="prefix",
        levels=(12, 9, 6),
        labels=("不同县", "同县不同乡镇", "同乡镇不同村", "同村"),
    ),
    ComparisonSpec("household", "household_hukou_no", right="hukou_no", labels=("不同户", "同户")),
)

# Departments that list a person once (the catalogue's LISTED_FEEDS; medical insurance: once a
# year, the person rows' `period`). For a row of such a feed, "listed:<feed>" says whether the
# candidate already has an ID-settled row of that feed (and period): of two same-name neighbours,
# the one still missing from the insurance list is the likelier owner of an insurance row without
# an ID. Each feed has its own m and u (a list covering 95% of persons says more than one covering 5%).
LISTED_LABELS = ("已有该部门（同年度）的记录", "尚无该部门（同年度）的记录")


def listed_comparison(feed: str) -> str:
    """The name of the "already listed" comparison of `feed`."""
    return f"listed:{feed}"


_ALL = tuple(spec.name for spec in COMPARISONS)
_NAME_ID = ("name", "id_number", "id_region")

# Per feed (always against the hukou spine): the comparisons its rows take part in. A feed
# without a birth date, sex, village or household column skips that comparison.
FEED_COMPARISONS: dict[str, tuple[str, ...]] = {
    feed: (*names, *((listed_comparison(feed),) if feed in LISTED_FEEDS else ()))
    for feed, names in {
        "poverty_members": _ALL,
        "poverty_households": (*_NAME_ID, "region", "household"),
        "medical_insurance": (*_NAME_ID, "region"),
        "illness_registry": _NAME_ID,
        "school_enrolment": (*_NAME_ID, "birth_date", "sex", "region"),
        "minimum_living": (*_NAME_ID, "region", "household"),
        "dangerous_housing": (*_NAME_ID, "region"),
        "public_payroll": _NAME_ID,
        "enterprise_registry": _NAME_ID,
        "vehicles": _NAME_ID,
    }.items()
}

# --- the model --------------------------------------------------------------------------------
# λ is not fitted: a row is one of the spine's persons, each as likely a priori, so
# λ = (share of ID-carrying rows whose ID the spine knows) / (spine size).
#
# u comes from random row–spine pairs; m from ID-settled rows against their hukou row (true
# matches, found without scoring), each comparison on the pairs where the field that could have
# settled them instead says nothing about it (SETTLED_M: the name's m on pairs whose birth date
# agrees, the birth date's on pairs whose name agrees; None = all pairs). The ID's own m cannot
# come from ID-settled pairs: EM fits it on the night's candidate pairs, all else fixed.
# DEFAULT_M / DEFAULT_U are prior knowledge worth M_PSEUDO / U_PSEUDO pairs, so a tiny night still
# has a sensible model and a big one is ruled by its data. Levels 0..k as in COMPARISONS.
SETTLED_M: dict[str, str | None] = {
    "name": "birth_date",
    "birth_date": "name",
    "id_region": None,
    "sex": None,
    "region": None,
    "household": None,
    **{listed_comparison(feed): None for feed in LISTED_FEEDS},
}
EM_M = ("id_number",)
DEFAULT_M: dict[str, tuple[float, ...]] = {
    "name": (0.005, 0.003, 0.01, 0.03, 0.952),
    "id_number": (0.1, 0.05, 0.6, 0.25),
    "birth_date": (0.01, 0.002, 0.01, 0.003, 0.975),
    "id_region": (0.02, 0.49, 0.49),
    "sex": (0.02, 0.98),
    "region": (0.01, 0.01, 0.02, 0.96),
    "household": (0.05, 0.95),
    **{listed_comparison(feed): (0.02, 0.98) for feed in LISTED_FEEDS},
}
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "name": (0.98, 0.01, 0.009, 0.0005, 0.0005),
    "id_number": (0.99997, 1e-5, 1e-5, 1e-5),
    "birth_date": (0.9995, 5e-5, 3e-4, 5e-5, 1e-4),
    "id_region": (0.92, 0.08, 5e-6),
    "sex": (0.5, 0.5),
    "region": (0.9, 0.08, 0.015, 0.005),
    "household": (0.9999, 1e-4),
    **{listed_comparison(feed): (0.5, 0.5) for feed in LISTED_FEEDS},
}
M_PSEUDO = 100.0
U_PSEUDO = 1000.0
SETTLED_SAMPLE = 200_000
RANDOM_PAIRS = 200_000
SEED = 20261120
MAX_ITERATIONS = 100

# Term frequencies: at these levels a pair's u is the share of spine rows with the spine row's
# value of the column, not the average for the level — a name only one person in the register
# has is strong evidence, 王伟 is weak (Splink's term-frequency adjustment).
TERM_FREQUENCIES: dict[str, dict[int, str]] = {"name": {4: "name_norm", 3: "name_pinyin"}}

# Share of true matches assumed to fall outside the candidate pairs (1 - pair completeness); with
# the share of rows whose person the spine lacks it makes the weight of "none of the candidates".
# Measured pair completeness on the 200,000-person delivery: 0.99985; rounded down tenfold.
UNBLOCKED_SHARE = 0.001

# Thresholds on the posterior of a row's best candidate.
UPPER = 0.99
LOWER = 0.2


def comparison_levels() -> list[tuple[str, dict[int, str]]]:
    """(name, level labels) of every comparison the model weighs, "listed:<feed>" ones included."""
    listed = {-1: "缺失", **dict(enumerate(LISTED_LABELS))}
    return [
        *((spec.name, spec.level_labels()) for spec in COMPARISONS),
        *((listed_comparison(feed), listed) for feed in LISTED_FEEDS),
    ]


def comparisons_for(feed: str) -> tuple[str, ...]:
    """Names of the comparisons scored for a row of `feed` (the column comparisons for an unknown feed)."""
    return FEED_COMPARISONS.get(feed, _ALL)
