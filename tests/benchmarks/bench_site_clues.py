"""The clues of the site benchmark's store (bench_site_fill.py): each clue's life, and from it the
clue rows, their events, and every night's night_counts and rule_runs. Nothing here is real data.

A clue lives on a day scale where night k (0 … nights-1) is day k: found on a night, issued by its
county 1–3 days later, verified, rectified, signed and closed after random delays (exponential, a few
days each, four times as long for one clue in eight), filed some days after closing for some; a few
are cleared by the data before verification, a few closed ones re-open when the rule fires again. A
clue's status on a night is the last step it had reached by then — so the clue rows (as of the
newest night), their events and the counts of every night come from the same lives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator

import numpy as np
import pandas as pd

from pipelines.clues.counts import COUNT_COLUMNS, build_night_counts

__all__ = ["build_clues", "build_event_order", "build_events", "build_history", "build_lives", "day_dates"]

RECTIFICATIONS = np.array(
    ["已按政策整改到位", "已更正系统数据", "已落实参保缴费", "已劝返复学", "已完成危房改造", "已清退并标注"]
)
# Closed by the county after its township signed; filed by the prefecture. Delays in days (means).
VERIFY_DAYS, RECTIFY_DAYS, SIGN_DAYS, APPROVE_DAYS, FILE_DAYS = 5.0, 4.0, 2.0, 3.0, 8.0
INF = np.inf
# Status codes in the order of a clue's life.
STATUSES = np.array(["new", "issued", "confirmed", "rectified", "signed", "closed", "filed", "cleared_by_data"])
NEW, ISSUED, CONFIRMED, RECTIFIED, SIGNED, CLOSED, FILED, CLEARED = range(8)
OPEN_CODES = (ISSUED, CONFIRMED, RECTIFIED, SIGNED)
HELD_RULE = "R16"


def day_dates(nights0: dt.date, offsets: np.ndarray) -> np.ndarray:
    """Day offsets (float, inf = never) as dates (None for never)."""
    base = np.datetime64(nights0, "D")
    days = np.where(np.isfinite(offsets), offsets, 0).astype("int64")
    dates = (base + days.astype("timedelta64[D]")).astype(object)
    return np.where(np.isfinite(offsets), dates, None)


# --- clue lives -----------------------------------------------------------------------------------


def build_lives(
    rng: np.random.Generator, rules: list, persons: pd.DataFrame, households: pd.DataFrame, count: int, nights: int
) -> pd.DataFrame:
    """One row per clue: rule, subject, and the day of each step of its life (inf = not reached)."""
    share = rng.dirichlet(np.full(len(rules), 2.0))
    rule_of = np.sort(rng.choice(len(rules), count, p=share))
    parts = []
    for index, rule in enumerate(rules):
        k = int((rule_of == index).sum())
        if rule.subject == "person":
            chosen = rng.choice(len(persons), min(k, len(persons)), replace=False)
            part = pd.DataFrame(
                {
                    "person": chosen,
                    "subject_feed": "poverty_members",
                    "subject_key": pd.Series(chosen + 1).map("PM{:010d}".format).to_numpy(),
                }
            )
        else:
            chosen = rng.choice(len(households), min(k, len(households)), replace=False)
            heads = households["head_person_id"].to_numpy()[chosen]
            part = pd.DataFrame(
                {
                    "person": pd.Series(heads).str[1:].astype(int).to_numpy() - 1,
                    "subject_feed": "poverty_households",
                    "subject_key": households["household_code"].str[1:].to_numpy()[chosen],
                }
            )
        part.insert(0, "rule", index)
        parts.append(part)
    lives = pd.concat(parts, ignore_index=True)
    n = len(lives)
    # A backlog on the first night, then a steady trickle with some noise.
    per_night = np.r_[0.35, rng.uniform(0.7, 1.3, nights - 1)]
    per_night[1:] *= 0.65 / per_night[1:].sum()
    found = rng.choice(nights, n, p=per_night / per_night.sum()).astype(float)
    issue = found + rng.integers(1, 4, n)
    clear_new = np.where(rng.random(n) < 0.03, found + rng.integers(1, 3, n), INF)
    issue = np.where(clear_new < issue, INF, issue)
    clear_new = np.where(clear_new < issue, clear_new, INF)
    # Some villages and departments are slow: their clues take several times as long at every step.
    slow = np.where(rng.random(n) < 0.12, 4.0, 1.0)
    verify = issue + np.ceil(rng.exponential(VERIFY_DAYS, n) * slow)
    clear_issued = np.where(rng.random(n) < 0.05, issue + rng.integers(1, 15, n), INF)
    clear_issued = np.where(clear_issued < verify, clear_issued, INF)
    verify = np.where(np.isfinite(clear_issued), INF, verify)
    true = rng.random(n) < 0.75
    rectify = np.where(true, verify + np.ceil(rng.exponential(RECTIFY_DAYS, n) * slow), INF)
    sign = np.where(true, rectify, verify) + np.ceil(rng.exponential(SIGN_DAYS, n) * slow)
    approve = sign + np.ceil(rng.exponential(APPROVE_DAYS, n) * slow)
    file = np.where(rng.random(n) < 0.35, approve + np.ceil(rng.exponential(FILE_DAYS, n)), INF)
    reopen = np.where(true & (rng.random(n) < 0.04), approve + rng.integers(3, 20, n), INF)
    file = np.where(file < reopen, file, INF)
    lives = lives.assign(
        found=found,
        clear_new=clear_new,
        issue=issue,
        clear_issued=clear_issued,
        verify=verify,
        true=true,
        rectify=rectify,
        sign=sign,
        approve=approve,
        file=file,
        reopen=reopen,
    )
    last = nights - 1
    for step in ("clear_new", "issue", "clear_issued", "verify", "rectify", "sign", "approve", "file", "reopen"):
        lives.loc[lives[step] > last, step] = INF
    return lives


def status_on(lives: pd.DataFrame, day: int) -> np.ndarray:
    """Each clue's status code on night `day` (-1: not found yet)."""
    steps = [
        ("reopen", ISSUED),
        ("file", FILED),
        ("approve", CLOSED),
        ("sign", SIGNED),
        ("rectify", RECTIFIED),
        ("verify", -2),  # confirmed when 属实, rectified (awaiting signature) when 不属实
        ("clear_issued", CLEARED),
        ("issue", ISSUED),
        ("clear_new", CLEARED),
        ("found", NEW),
    ]
    status = np.select([lives[s].to_numpy() <= day for s, _ in steps], [code for _, code in steps], default=-1)
    return np.where(status == -2, np.where(lives["true"].to_numpy(), CONFIRMED, RECTIFIED), status)


def deadline_on(lives: pd.DataFrame, deadline_days: np.ndarray, day: int) -> np.ndarray:
    days = deadline_days[lives["rule"].to_numpy()]
    reopened = lives["reopen"].to_numpy() <= day
    return np.where(reopened, lives["reopen"].to_numpy() + days, lives["issue"].to_numpy() + days)


# --- clues and their events -------------------------------------------------------------------------

# Evidence values by field name (sql/rules headers); the person's own name, ID and birth date
# come from the persons table.
PERSON_FIELDS = {
    "name": "name",
    "hukou_name": "name",
    "head_name": "name",
    "owner_name": "name",
    "payroll_name": "name",
    "left_out_name": "name",
    "id_number": "id_number",
    "head_id": "id_number",
    "owner_id": "id_number",
    "left_out_id_number": "id_number",
    "birth_date": "birth_date",
    "hukou_birth_date": "birth_date",
}
FIELD_VALUES = {
    "hukou_state": ("死亡", "迁出"),
    "changed_on": ("2026-03-01", "2026-07-15", "2025-12-20"),
    "moved_to": ("浙江省宁波市", "广东省东莞市", "贵州省贵阳市"),
    "member_rows": ("2",),
    "households": ("2",),
    "left_out_persons": ("1", "2"),
    "schooling": ("在校生",),
    "school_state": ("休学", "无学籍"),
    "school": ("瓮安县第二中学", "都匀市第三小学", "平塘县民族中学"),
    "insured": ("是",),
    "no_cover_year": ("2026",),
    "insurance_rows": ("0", "1"),
    "last_year": ("2024", "2025"),
    "health": ("健康",),
    "illness_kind": ("大病", "慢性病"),
    "disease": ("尿毒症", "白血病", "重性精神病"),
    "diagnosed_on": ("2025-05-10", "2026-01-22"),
    "grade": ("C级", "D级"),
    "renovation": ("未改造",),
    "appraised_on": ("2025-09-01", "2026-04-18"),
    "status": ("已脱贫",),
    "exit_year": ("2019", "2020"),
    "relocated": ("否",),
    "moved_in": ("",),
    "identified_year": ("2019", "2020"),
    "income_per_capita": ("6520", "7310"),
    "dibao_income": ("3200", "4100"),
    "size": ("3", "4", "5"),
    "poverty_line": ("4000",),
    "kind": ("低保", "特困"),
    "state": ("在保",),
    "persons": ("2", "3"),
    "monthly_amount": ("380", "520"),
    "employer": ("某县农业农村局", "某镇人民政府"),
    "hired_on": ("2021-09-01",),
    "enterprise_name": ("某某种养殖专业合作社", "某某商贸有限公司"),
    "enterprise_state": ("存续",),
    "registered_capital": ("50", "100"),
    "founded_on": ("2022-03-15",),
    "plate_no": ("贵J·3K512", "贵J·8D207"),
    "vehicle_type": ("小型轿车", "轻型货车"),
    "registered_on": ("2025-06-30",),
    "id_status": ("校验码错误",),
    "appraisal_no": ("WF2025000123",),
}
FEED_PREFIX = {
    "hukou": "HK",
    "poverty_members": "PM",
    "poverty_households": "",
    "school_enrolment": "XJ",
    "medical_insurance": "MI",
    "illness_registry": "DB",
    "dangerous_housing": "WF",
    "minimum_living": "DB",
    "public_payroll": "CZ",
    "enterprise_registry": "QY",
    "vehicles": "CL",
}


def _evidence(
    rule, people: pd.DataFrame, people_numbers: np.ndarray, household_nos: np.ndarray, numbers: np.ndarray
) -> list[str]:
    """One rule's clues' evidence, as the rule stage writes it (sorted-key JSON, values as text)."""
    feed = rule.feeds[-1]
    if feed == "poverty_households":
        keys = household_nos
    else:
        # The person's own row in the person-level feeds the fill links (members, hukou); a row number elsewhere.
        own = feed in ("hukou", "poverty_members")
        keys = [f"{FEED_PREFIX.get(feed, 'R')}{n + 1:010d}" for n in (people_numbers if own else numbers)]
    columns = {}
    for name in rule.evidence:
        if name in PERSON_FIELDS:
            columns[name] = people[PERSON_FIELDS[name]].to_numpy()
        elif name in ("household_nos", "hukou_no"):
            columns[name] = household_nos
        else:
            choices = FIELD_VALUES.get(name, ("是",))
            columns[name] = np.array(choices, dtype=object)[numbers % len(choices)]
    names = list(columns)
    return [
        json.dumps(
            {"feed": feed, "record_key": key, "fields": dict(zip(names, values, strict=True))}, ensure_ascii=False, sort_keys=True
        )
        for key, *values in zip(keys, *columns.values(), strict=True)
    ]


def build_clues(rng, rules: list, lives: pd.DataFrame, persons: pd.DataFrame, nights: int, first: dt.date) -> pd.DataFrame:
    """The clue rows as the newest night leaves them; `lives` gains clue_id (numbered per rule in
    the order found)."""
    last = nights - 1
    lives.sort_values(["rule", "found", "subject_key"], inplace=True, ignore_index=True)
    lives["clue_id"] = [
        f"{rules[r].code}-{n:06d}" for r, n in zip(lives["rule"], lives.groupby("rule").cumcount() + 1, strict=True)
    ]
    n = len(lives)
    people = persons.iloc[lives["person"].to_numpy()].reset_index(drop=True)
    household_nos = people["household_code"].str[1:].to_numpy()
    evidence = np.empty(n, dtype=object)
    for index, rule in enumerate(rules):
        where = np.flatnonzero(lives["rule"].to_numpy() == index)
        evidence[where] = _evidence(rule, people.iloc[where], lives["person"].to_numpy()[where], household_nos[where], where)
    status = status_on(lives, last)
    deadline_days = np.array([r.deadline_days for r in rules])
    reopened = np.isfinite(lives["reopen"].to_numpy())
    issued_day = np.where(reopened, lives["reopen"], lives["issue"])
    verified = np.isfinite(lives["verify"].to_numpy()) & ~reopened
    true = lives["true"].to_numpy()
    reasons = np.array(
        [rules[r].dismiss_reasons[i % len(rules[r].dismiss_reasons)] for i, r in enumerate(lives["rule"])], dtype=object
    )
    signers = persons["name"].to_numpy()[rng.integers(0, len(persons), n)]
    cleared = np.fmin(lives["clear_new"], lives["clear_issued"]).to_numpy()
    # Not found again after clearing, nor after a rectification that held.
    last_seen = np.where(np.isfinite(cleared), cleared - 1, np.where(verified & true, np.fmin(lives["rectify"], last), last))
    codes = np.array([r.code for r in rules])[lives["rule"].to_numpy()]
    frame = pd.DataFrame(
        {
            "clue_id": lives["clue_id"],
            "rule": codes,
            "subject_feed": lives["subject_feed"],
            "subject_key": lives["subject_key"],
            "person_id": people["person_id"],
            "household_code": people["household_code"],
            "household_no": household_nos,
            "village_code": people["village_code"],
            "county_code": people["village_code"].str[:6],
            "department": np.array([r.department for r in rules])[lives["rule"].to_numpy()],
            "evidence": evidence,
            "evidence_hash": [hashlib.sha256(e.encode("utf-8")).hexdigest() for e in evidence],
            "status": STATUSES[status],
            "verdict": np.where(verified, np.where(true, "属实", "不属实"), None),
            "dismiss_reason": np.where(verified & ~true, reasons, None),
            "rectification": np.where(
                verified & true & np.isfinite(lives["rectify"]), RECTIFICATIONS[np.arange(n) % len(RECTIFICATIONS)], None
            ),
            "rectified_on": day_dates(first, np.where(verified & true, lives["rectify"], INF)),
            "verified_by": np.where(verified, people["name"].to_numpy()[::-1], None),
            "verified_on": day_dates(first, np.where(verified, lives["verify"], INF)),
            "signed_by": np.where(verified & np.isfinite(lives["sign"]), signers, None),
            "signed_on": day_dates(first, np.where(verified, lives["sign"], INF)),
            "first_seen": day_dates(first, lives["found"].to_numpy()),
            "last_seen": day_dates(first, last_seen),
            "cleared_on": day_dates(first, cleared),
            "issued_on": day_dates(first, issued_day),
            "deadline": day_dates(first, issued_day + deadline_days[lives["rule"].to_numpy()]),
            "reopen_count": reopened.astype(int),
        }
    )
    return frame


# (step, action, from status, to status, who: system | county | village | township | prefecture)
EVENT_STEPS = (
    ("found", "found", None, "new", "system"),
    ("clear_new", "clear", "new", "cleared_by_data", "system"),
    ("issue", "issue", "new", "issued", "county"),
    ("clear_issued", "clear", "issued", "cleared_by_data", "system"),
    ("verify", "verify", "issued", None, "village"),
    ("rectify", "rectify", "confirmed", "rectified", "village"),
    ("sign", "sign", "rectified", "signed", "township"),
    ("approve", "approve", "signed", "closed", "county"),
    ("file", "file", "closed", "filed", "prefecture"),
    ("reopen", "reopen", "closed", "issued", "system"),
)
SOURCES = {"system": "night", "county": "ledger", "village": "ledger", "township": "ledger", "prefecture": "cli"}


def build_event_order(rng: np.random.Generator, lives: pd.DataFrame, first: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every step every clue reached, in time order: (clue index, step index, time). Night steps at
    midnight of the night, people's moves during office hours."""
    clue_index, step_index, times = [], [], []
    base = np.datetime64(first, "s")
    for s, (step, _action, _f, _t, who) in enumerate(EVENT_STEPS):
        days = lives[step].to_numpy()
        where = np.flatnonzero(np.isfinite(days))
        seconds = days[where].astype("int64") * 86_400 + (0 if who == "system" else rng.integers(9 * 3600, 18 * 3600, len(where)))
        clue_index.append(where)
        step_index.append(np.full(len(where), s))
        times.append(base + seconds.astype("timedelta64[s]"))
    clue_index, step_index, times = np.concatenate(clue_index), np.concatenate(step_index), np.concatenate(times)
    order = np.lexsort((step_index, clue_index, times))
    return clue_index[order], step_index[order], times[order]


def build_events(
    order: tuple[np.ndarray, np.ndarray, np.ndarray], lives: pd.DataFrame, clue_rows: pd.DataFrame, chunk: int = 500_000
) -> Iterator[pd.DataFrame]:
    """The clue_events rows of `order`, `chunk` at a time (the hash chain left NULL: not measured)."""
    clue_index, step_index, times = order
    steps = np.array(EVENT_STEPS, dtype=object)
    ids = lives["clue_id"].to_numpy()
    villages = clue_rows["village_code"].to_numpy()
    true = lives["true"].to_numpy()
    reasons = clue_rows["dismiss_reason"].to_numpy()
    filed = np.isfinite(lives["file"].to_numpy())
    for start in range(0, len(times), chunk):
        c, s, at = clue_index[start : start + chunk], step_index[start : start + chunk], times[start : start + chunk]
        who = steps[s, 4]
        village = pd.Series(villages[c])
        to_status = np.where(steps[s, 3] == None, np.where(true[c], "confirmed", "rectified"), steps[s, 3])  # noqa: E711
        user = np.select(
            [who == "system", who == "county", who == "township", who == "village"],
            [
                "system",
                ("county-" + village.str[:6]).to_numpy(),
                ("township-" + village.str[:9]).to_numpy(),
                ("village-" + village).to_numpy(),
            ],
            default="bench-prefecture",
        )
        action = steps[s, 1]
        note = np.where(
            (action == "verify") & ~true[c],
            "不属实原因：" + pd.Series(reasons[c]).fillna("").to_numpy(),
            np.where(action == "reopen", "已整改销号的线索再次出现", None),
        )
        yield pd.DataFrame(
            {
                "clue_id": ids[c],
                "action": action,
                # A clue re-opens from closed, or from filed when it had been filed by then.
                "from_status": np.where((action == "reopen") & filed[c], "filed", steps[s, 2]),
                "to_status": to_status,
                "at": at.astype("datetime64[us]"),
                "user_name": user,
                "role": who,
                "note": note,
                "delivery_date": np.where(who == "system", at.astype("datetime64[D]").astype(object), None),
                "source": pd.Series(who).map(SOURCES).to_numpy(),
            }
        )


# --- nights -------------------------------------------------------------------------------------------


def build_history(
    rules: list, lives: pd.DataFrame, villages: pd.Series, nights: int, first: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(night_counts, rule_runs) of every night, from the clues' lives: counted per village and
    rule with bincount, then summed up by pipelines.clues.counts.build_night_counts as the night does."""
    rule = lives["rule"].to_numpy()
    categorical = pd.Categorical(villages)
    cell = categorical.codes.astype(np.int64) * len(rules) + rule
    codes = categorical.categories
    cells = len(codes) * len(rules)
    deadline_days = np.array([r.deadline_days for r in rules])
    true = lives["true"].to_numpy()
    counts, runs, previous = [], [], None
    for day in range(nights):
        status = status_on(lives, day)
        found = status >= 0
        is_open = np.isin(status, (NEW, *OPEN_CODES))
        overdue = np.isin(status, OPEN_CODES) & (deadline_on(lives, deadline_days, day) < day)
        flags = {
            "found": found,
            "open": is_open,
            "closed": np.isin(status, (CLOSED, FILED)),
            "cleared": status == CLEARED,
            "overdue": overdue,
            "reopened": lives["reopen"].to_numpy() <= day,
        }
        table = pd.DataFrame({name: np.bincount(cell[flag], minlength=cells) for name, flag in flags.items()})
        table["village_code"] = np.repeat(np.asarray(codes), len(rules))
        table["rule"] = np.tile([r.code for r in rules], len(codes))
        table = table[table["found"] > 0]
        date = first + dt.timedelta(days=day)
        counts.append(build_night_counts(table[["village_code", "rule", *COUNT_COLUMNS]], date))
        # What each rule fired: subjects still found (not cleared, not rectified for good).
        fired = (
            found & (status != CLEARED) & ~(true & (lives["rectify"].to_numpy() <= day) & ~(lives["reopen"].to_numpy() <= day))
        )
        per_rule = {
            "fired": np.bincount(rule[fired], minlength=len(rules)),
            "new": np.bincount(rule[lives["found"].to_numpy() == day], minlength=len(rules)),
            "cleared": np.bincount(
                rule[(lives["clear_new"].to_numpy() == day) | (lives["clear_issued"].to_numpy() == day)], minlength=len(rules)
            ),
            "reopened": np.bincount(rule[lives["reopen"].to_numpy() == day], minlength=len(rules)),
        }
        for index, r in enumerate(rules):
            row = {
                "delivery_date": date,
                "rule": r.code,
                "status": "ran",
                **{name: int(values[index]) for name, values in per_rule.items()},
                "previous": None if previous is None else int(previous[index]),
                "seconds": round(0.5 + (index * 7 + day * 3) % 40 / 2, 1),
                "message": None,
            }
            if day == nights - 1 and r.code == HELD_RULE:
                row.update(status="held", fired=4 * (row["previous"] or 0) + 60, new=0, cleared=0, reopened=0)
                row["message"] = (
                    f"规则 {r.code} 今晚命中 {row['fired']} 条，上次为 {row['previous']} 条，超过 3 倍，已暂停下发，"
                    f"请数据管理员核查后放行（bidui run … --release {r.code}）"
                )
            runs.append(row)
        previous = per_rule["fired"]
    return pd.concat(counts, ignore_index=True), pd.DataFrame(runs)
