"""Ground truth of a demo delivery: true links of every source row, and every clue R01–R18 that
must fire (rules.md), computed from the true world — R17/R18 from the values as delivered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.standardise.ids import standardise_ids
from pipelines.standardise.names import normalise_name

from .model import World, poverty_line

__all__ = ["CLUE_COLUMNS", "build_clues", "build_links", "person_ids", "truth_readme"]

CLUE_COLUMNS = ["rule", "subject_feed", "subject_key"]
_GONE = ("迁出", "出国（境）定居", "其他注销")


def person_ids(pid: np.ndarray) -> np.ndarray:
    """The true person id written in links.csv, e.g. P00000001."""
    return "P" + pd.Series(np.asarray(pid) + 1).astype(str).str.zfill(8).to_numpy(dtype=object)


def build_links(feed: str, key: np.ndarray, pid: np.ndarray) -> pd.DataFrame:
    """links.csv rows of one feed; blank rows (pid -1) have no link."""
    real = pid >= 0
    return pd.DataFrame({"feed": feed, "record_key": key[real], "true_person_id": person_ids(pid[real])})


def _rows(rule: str, feed: str, keys) -> pd.DataFrame:
    keys = np.unique(np.asarray(list(keys), dtype=object)) if len(keys) else np.zeros(0, dtype=object)
    return pd.DataFrame({"rule": rule, "subject_feed": feed, "subject_key": keys})


def build_clues(world: World, frames: dict[str, pd.DataFrame], members: pd.DataFrame, hukou: pd.DataFrame) -> pd.DataFrame:
    """Every expected clue. `frames` are the clean minimum_living and dangerous_housing frames;
    `members` / `hukou` the delivered poverty_members and hukou frames (with hidden columns)."""
    people, reg, mem = world.people, world.registry_households, world.members
    n = len(people)
    state = people["state"].to_numpy()
    age = people["age"].to_numpy()
    registered = world.registered()
    alive = state != "死亡"
    # A person's anchor is their lowest member number (the only one, unless listed twice).
    lowest = mem.sort_values("member_no", kind="stable").drop_duplicates("pid")
    anchor = np.full(n, "", dtype=object)
    anchor[lowest["pid"].to_numpy()] = lowest["member_no"].to_numpy()

    def persons(rule: str, mask: np.ndarray) -> pd.DataFrame:
        return _rows(rule, "poverty_members", anchor[np.flatnonzero(mask & registered)])

    def households(rule: str, mask: np.ndarray) -> pd.DataFrame:
        return _rows(rule, "poverty_households", reg["household_no"].to_numpy()[mask])

    def has(fact: str, mask: np.ndarray | None = None) -> np.ndarray:
        frame = world.facts[fact]
        pid = frame["pid"].to_numpy() if mask is None else frame["pid"].to_numpy()[mask]
        out = np.zeros(n, dtype=bool)
        out[pid] = True
        return out

    school, insurance = world.facts["school"], world.facts["insurance"]
    illness, enterprises = world.facts["illness"], world.facts["enterprises"]
    housing = frames["dangerous_housing"]
    unsafe_row = housing["grade"].isin(["C", "D"]).to_numpy() & housing["renovation"].isin(["未改造", "在建"]).to_numpy()
    unsafe_person = np.zeros(n, dtype=bool)
    unsafe_person[housing["_pid"].to_numpy()[unsafe_row]] = True

    in_school = has("school", school["state"].isin(["在读", "休学"]).to_numpy())
    insured = has("insurance", ((insurance["year"] == world.as_of.year) & (insurance["state"] == "正常参保")).to_numpy())
    health = mem.groupby("pid")["health"].first()
    says_healthy = np.zeros(n, dtype=bool)
    says_healthy[health.index.to_numpy()[health.to_numpy() == "健康"]] = True

    head = reg["head"].to_numpy()
    unregistered_normal = np.bincount(people["hh"].to_numpy()[(state == "正常") & ~registered], minlength=len(world.households))
    r08 = unsafe_person[head]
    exited = reg["status"].to_numpy() == "已脱贫"
    exit_year = reg["exit_year"].to_numpy()
    size = reg["size"].to_numpy()
    left = reg["income_per_capita"].to_numpy() - reg["dibao_income"].to_numpy() / size
    relocation_gap = (reg["relocated"].to_numpy() == "是") & (reg["moved_in"].to_numpy() != "是")

    counts = mem.groupby("pid").size()
    twice = np.zeros(n, dtype=bool)
    twice[counts.index.to_numpy()[counts.to_numpy() >= 2]] = True

    ml = frames["minimum_living"]
    ml_registered = pd.Series(registered[ml["_pid"].to_numpy()]).groupby(ml["case_no"].to_numpy()).any()
    ml_state = pd.Series(ml["state"].to_numpy()).groupby(ml["case_no"].to_numpy()).first()
    registered_hh = world.registered_hukou_households()
    owner = housing["_pid"].to_numpy()

    parts = [
        persons("R01", state == "死亡"),
        persons("R02", np.isin(state, _GONE)),
        persons("R03", twice),
        households("R04", unregistered_normal[people["hh"].to_numpy()[head]] > 0),
        persons("R05", alive & (age >= 6) & (age <= 15) & ~in_school),
        persons("R06", alive & ~insured),
        persons("R07", has("illness", (illness["kind"] == "大病").to_numpy()) & says_healthy),
        households("R08", r08),
        households("R09", exited & (r08 | relocation_gap)),
        households("R10", (exit_year > 0) & (reg["identified_year"].to_numpy() == exit_year)),
        households("R11", exited & (left < poverty_line(exit_year))),
        _rows("R12", "minimum_living", ml_state.index[(ml_state == "在保").to_numpy() & ~ml_registered.to_numpy()]),
        _rows(
            "R13",
            "dangerous_housing",
            housing["appraisal_no"].to_numpy()[unsafe_row & ~registered[owner] & ~registered_hh[people["hh"].to_numpy()[owner]]],
        ),
        persons("R14", has("payroll")),
        persons("R15", has("enterprises", enterprises["state"].isin(["存续", "在业"]).to_numpy())),
        persons("R16", has("vehicles", world.facts["vehicles"]["kind"].isin(["小型轿车", "小型普通客车"]).to_numpy())),
        *_identity_clues(members, hukou),
    ]
    return pd.concat(parts, ignore_index=True)[CLUE_COLUMNS]


def _identity_clues(members: pd.DataFrame, hukou: pd.DataFrame) -> list[pd.DataFrame]:
    """R17 (invalid ID) and R18 (a valid ID whose hukou holder has another name or birth date),
    judged on the delivered cells exactly as the pipeline's standardisation reads them."""
    members = members[members["_pid"] >= 0].reset_index(drop=True)
    hukou = hukou[hukou["_pid"] >= 0].reset_index(drop=True)
    m_ids = standardise_ids(members["_text_id_number"])
    h_ids = standardise_ids(hukou["_text_id_number"])
    valid = (m_ids["id_status"] == "valid").to_numpy()
    invalid_rows = members[~valid]
    r17 = invalid_rows.sort_values("member_no").drop_duplicates("_pid")["member_no"]

    holders = pd.DataFrame(
        {
            "id": h_ids["id_clean"].to_numpy(),
            "h_name": hukou["name"].to_numpy(),
            "h_birth": pd.to_datetime(hukou["_said_birth_date"]).to_numpy(),
        }
    )[(h_ids["id_status"] == "valid").to_numpy()]
    rows = pd.DataFrame(
        {
            "member_no": members["member_no"].to_numpy(),
            "_pid": members["_pid"].to_numpy(),
            "id": m_ids["id_clean"].to_numpy(),
            "name": members["name"].to_numpy(),
            "birth": pd.to_datetime(members["_said_birth_date"]).to_numpy(),
        }
    )[valid].merge(holders, on="id", how="inner")
    differs = rows["name"].to_numpy() != rows["h_name"].to_numpy()
    # Normalising is slow; only names that differ as written can differ after normalising.
    if differs.any():
        pairs = zip(rows["name"].to_numpy()[differs], rows["h_name"].to_numpy()[differs], strict=True)
        normal = np.array([normalise_name(a) != normalise_name(b) for a, b in pairs])
        differs[np.flatnonzero(differs)] = normal
    mismatch = rows[differs | (rows["birth"].to_numpy() != rows["h_birth"].to_numpy())]
    r18 = mismatch.sort_values("member_no").drop_duplicates("_pid")["member_no"]
    return [_rows("R17", "poverty_members", r17.to_numpy()), _rows("R18", "poverty_members", r18.to_numpy())]


def truth_readme(version: str, seed: int, persons: int, as_of: str, counts: dict[str, int], clue_counts: dict[str, int]) -> str:
    """The _truth/README.md text."""
    feeds = "\n".join(f"| {name} | {count:,} |" for name, count in counts.items())
    clues = "\n".join(f"| {rule} | {count:,} |" for rule, count in sorted(clue_counts.items()))
    return f"""# 模拟交付的真值 (ground truth of a synthetic delivery)

All data in this delivery is synthetic; no row describes a real person.

- generator: pipelines.demo {version}
- seed: {seed}
- persons: {persons:,}
- as-of (data date D): {as_of}
- command: `bidui demo-data --persons {persons} --seed {seed} --as-of {as_of} --out <DIR>`

The same seed, persons and as-of always give byte-identical files.

## links.csv — `feed, record_key, true_person_id`
One row per source row that describes a person: every row of poverty_members, hukou,
medical_insurance, illness_registry, school_enrolment, minimum_living, public_payroll; the head of
each poverty_households row, the owner of each dangerous_housing and vehicles row, the legal
representative of each enterprise_registry row. Blank rows have no link. Two rows with the same
true_person_id are the same person, whatever their ID number or name says.

## clues.csv — `rule, subject_feed, subject_key`
Every clue of R01–R18 (contract rules.md) that a correct pipeline must raise, computed from the
true data. A person's subject is their poverty_members 成员编号 — for a person listed more than
once, the lowest one (for R17/R18 the lowest of the rows that fire); compare persons through
links.csv if your anchoring differs. Households are poverty_households 户编号, R12 cases
minimum_living 保障户编号, R13 dangerous_housing 鉴定编号. R17 and R18 are judged on the
values as delivered, read with pipelines.standardise (IDs: status "valid"; names:
normalise_name; dates: the date the delivered cell says, slips included). R09 is counted for
households with 脱贫状态 = 已脱贫 only (every relocation gap in the data is on such a household).
Near-misses that must NOT fire are in the data on purpose: 16–17-year-olds out of school, a
registered child 休学, houses graded A/B or C/D already renovated, persons insured in both years,
traditional-character, spaced or dot-variant names under a valid ID, 停保 低保 cases outside the
registry, registered persons owning farm vehicles or a revoked company, an unsafe house owned by
a person left out of a registered household.

## messiness.csv — `feed, record_key, field, kind`
Every deliberate deviation written into a feed: ID kinds (spaces, fullwidth, apostrophe, lower_x,
legacy15, excel, empty, typo, transposed, swapped), name kinds (traditional, inner_space,
dot_variant, homophone), date slips (day_month_swap, digit_slip), stray_space around enumerated
values, off_list (性别 written 男性/女性, outside the listed values), blank_row (record_key
empty). Mixed date shapes, header aliases and encodings are not listed per row; see the files.

## Rows per feed
| feed | rows |
|---|---|
{feeds}

## Expected clues per rule
| rule | clues |
|---|---|
{clues}
"""
