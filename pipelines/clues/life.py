"""Clues across nights: the rules' findings become clues with a stable identity and a life.

`apply_rule_run` takes one night's rule output (pipelines.rules.run.run_rules) and, per rule that ran:
- a (rule, subject) found for the first time becomes a clue in state `new` (clue ID `R05-000123`);
- one found again keeps its clue: last_seen moves, evidence is refreshed;
- a `new` or `issued` clue no longer found before anyone verified it becomes `cleared_by_data`;
- a closed clue that was rectified and fires again, or one dismissed as 不属实 whose evidence
  changed, is re-opened (`issued` again, counted in reopen_count);
- a rule firing far beyond its previous count is held back (circuit breaker, Settings
  clue_breaker_ratio / clue_breaker_min): its clues are left as they were and the data officer is
  told, until the night is run again with that rule released.
Every change of state is an event in clue_events (append-only); re-running a night changes nothing.

User moves (verify, rectify, sign, send back, approve, file, re-open) are pipelines.clues.moves'.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, func, insert, select, update

from pipelines.clues.counts import replace_night_counts
from pipelines.clues.states import OPEN_STATES
from pipelines.errors import BiduiError
from pipelines.rules.run import FIRED_COLUMNS
from pipelines.settings import Settings
from pipelines.store.audit import STATE_COLUMNS, append_events
from pipelines.store.bulk import bulk_insert, raw_frame
from pipelines.store.tables import clue_events, clues, rule_runs
from pipelines.store.transactions import lock_rows, write_transaction

__all__ = [
    "CLUE_COLUMNS",
    "CLUE_EXPORT_COLUMNS",
    "DEFAULT_DEADLINE_DAYS",
    "FIRED_COLUMNS",
    "SYSTEM",
    "VERIFICATION_FIELDS",
    "Actor",
    "ActorLike",
    "apply_rule_run",
    "evidence_hash",
    "is_overdue",
    "load_clue",
    "load_clue_events",
    "load_clues",
    "make_event",
    "plain_value",
    "write_events",
]

CLUE_COLUMNS = [c.name for c in clues.columns]
CLUE_EXPORT_COLUMNS = [
    "rule",
    "subject_feed",
    "subject_key",
    "person_id",
    "household_no",
    "village_code",
    "status",
    "first_seen",
    "last_seen",
    "reopen_count",
    "deadline",
]
# What verification, rectification and sign-off set on a clue (the audited state besides its status).
VERIFICATION_FIELDS = tuple(c for c in STATE_COLUMNS if c != "status")
_REFRESHED = (
    "person_id",
    "household_code",
    "household_no",
    "village_code",
    "county_code",
    "department",
    "evidence",
    "evidence_hash",
)
DEFAULT_DEADLINE_DAYS = 30
_CHANGE_COUNTS = ("new", "cleared", "reopened")  # what a night did to the clues, per rule


class Actor:
    """Who makes a move: a user name and role (the nightly run is SYSTEM)."""

    def __init__(self, user_name: str, role: str) -> None:
        self.user_name, self.role = user_name, role


SYSTEM = Actor("system", "system")


class ActorLike(Protocol):
    """What an event records of whoever makes a move: an Actor, or a signed-in user's Scope."""

    @property
    def user_name(self) -> str: ...

    @property
    def role(self) -> str: ...


def evidence_hash(evidence: str) -> str:
    """A clue's evidence fingerprint: a dismissed clue re-opens only when this changes."""
    return hashlib.sha256(evidence.encode("utf-8")).hexdigest()


def _county(village: object) -> str | None:
    return village[:6] if isinstance(village, str) and len(village) >= 6 else None


def _iso(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


# --- the nightly run ---------------------------------------------------------------------------


def _previous_counts(conn, day: dt.date) -> dict[str, int]:
    """Per rule, how many subjects it fired on the last earlier night it ran."""
    last = (
        select(rule_runs.c.rule, func.max(rule_runs.c.delivery_date).label("night"))
        .where((rule_runs.c.delivery_date < day) & (rule_runs.c.status == "ran"))
        .group_by(rule_runs.c.rule)
        .subquery()
    )
    rows = conn.execute(
        select(rule_runs.c.rule, rule_runs.c.fired).join(
            last, (rule_runs.c.rule == last.c.rule) & (rule_runs.c.delivery_date == last.c.night)
        )
    )
    return {rule: int(fired or 0) for rule, fired in rows}


def _night_counts_so_far(conn, day: dt.date) -> dict[str, dict[str, int]]:
    """Per rule, the clues the night's earlier runs made, cleared and re-opened (none on a first run)."""
    rows = conn.execute(
        select(rule_runs.c.rule, *(rule_runs.c[what] for what in _CHANGE_COUNTS)).where(rule_runs.c.delivery_date == day)
    )
    return {row.rule: {what: int(getattr(row, what) or 0) for what in _CHANGE_COUNTS} for row in rows}


def _held(fired: int, previous: int | None, settings: Settings) -> bool:
    if previous is None or fired < settings.clue_breaker_min:
        return False
    return fired > settings.clue_breaker_ratio * max(previous, 1)


def _load_rule_clues(conn, rules: list[str]) -> pd.DataFrame:
    if not rules:
        return pd.DataFrame(columns=CLUE_COLUMNS)
    # Locked: the night rewrites whole rows, which must not undo a user's move made meanwhile.
    statement = lock_rows(conn, select(*(clues.c[c] for c in CLUE_COLUMNS)).where(clues.c.rule.in_(rules)), clues)
    frame = raw_frame(conn, statement, CLUE_COLUMNS)
    return frame.astype(object).where(frame.notna(), None)


def _next_numbers(conn) -> dict[str, int]:
    """The last number given out per rule. Undo deletes the clues a night created but never their
    events, so the events count too: a number reused would inherit the withdrawn clue's history."""
    numbers: dict[str, int] = {}
    for column in (clues.c.clue_id, clue_events.c.clue_id):
        # IDs are `<rule>-<6 digits>`: the rule is all but the last 7 characters.
        rule = func.substr(column, 1, func.length(column) - 7)
        for last in conn.execute(select(func.max(column)).group_by(rule)).scalars():
            prefix, number = last.rsplit("-", 1)
            numbers[prefix] = max(numbers.get(prefix, 0), int(number))
    return numbers


def make_event(clue_id, action, before, after, actor: ActorLike, at, note=None, day=None, source="night") -> dict:
    """One clue_events row (not yet written): `actor` is who made the move."""
    return {
        "clue_id": clue_id,
        "action": action,
        "from_status": before,
        "to_status": after,
        "at": at,
        "user_name": actor.user_name,
        "role": actor.role,
        "note": note,
        "delivery_date": day,
        "source": source,
    }


def _deadline(issued_on: dt.date, rule: str, deadlines: dict[str, int]) -> dt.date:
    return issued_on + dt.timedelta(days=deadlines.get(rule, DEFAULT_DEADLINE_DAYS))


def _reopened(row: dict, day: dt.date, deadlines: dict[str, int]) -> dict:
    row = {**row, **dict.fromkeys(VERIFICATION_FIELDS)}
    row.update(
        status="issued",
        reopen_count=int(row["reopen_count"] or 0) + 1,
        issued_on=day,
        deadline=_deadline(day, row["rule"], deadlines),
        cleared_on=None,
    )
    return row


def _night_changes(
    existing: pd.DataFrame, fired: pd.DataFrame, day: dt.date, deadlines: dict[str, int], numbers: dict[str, int]
) -> tuple[list[dict], list[dict], list[dict], dict[str, dict[str, int]]]:
    """(new clue rows, changed clue rows, events, counts per rule) for one night's applied rules."""
    at = dt.datetime.combine(day, dt.time())
    key = ["rule", "subject_feed", "subject_key"]
    fired = fired.drop_duplicates(key).copy()
    fired["county_code"] = [_county(v) for v in fired["village_code"]]
    fired["evidence_hash"] = [evidence_hash(e) for e in fired["evidence"]]
    merged = fired.merge(existing, on=key, how="outer", suffixes=("", "_old"), indicator=True)
    counts: dict[str, dict[str, int]] = {}
    inserts, updates, events = [], [], []

    def count(rule: str, what: str) -> None:
        counts.setdefault(rule, {"new": 0, "cleared": 0, "reopened": 0})[what] += 1

    fresh = merged[merged["_merge"] == "left_only"].sort_values(key)
    for row in fresh.to_dict("records"):
        numbers[row["rule"]] = numbers.get(row["rule"], 0) + 1
        clue_id = f"{row['rule']}-{numbers[row['rule']]:06d}"
        inserts.append(
            {
                **dict.fromkeys(CLUE_COLUMNS),
                **{c: row[c] for c in ("rule", "subject_feed", "subject_key", *_REFRESHED)},
                "clue_id": clue_id,
                "status": "new",
                "first_seen": day,
                "last_seen": day,
                "reopen_count": 0,
            }
        )
        events.append(make_event(clue_id, "found", None, "new", SYSTEM, at, day=day))
        count(row["rule"], "new")

    for row in merged[merged["_merge"] == "both"].to_dict("records"):
        old = {c: row[c] if c in key or c not in fired.columns else row[f"{c}_old"] for c in CLUE_COLUMNS}
        new = dict(old)
        seen = _iso(old["last_seen"])
        assert seen is not None  # clues.last_seen is NOT NULL
        last_seen = dt.date.fromisoformat(seen)
        new["last_seen"] = max(last_seen, day)
        status = old["status"]
        changed_evidence = row["evidence_hash"] != old["evidence_hash"]
        if status == "cleared_by_data":
            new.update({f: row[f] for f in _REFRESHED}, cleared_on=None, status="issued" if old["issued_on"] else "new")
            events.append(make_event(old["clue_id"], "refound", status, new["status"], SYSTEM, at, day=day))
        elif status in ("closed", "filed") and (old["verdict"] == "属实" or changed_evidence):
            new = _reopened({**new, **{f: row[f] for f in _REFRESHED}}, day, deadlines)
            why = "已整改销号的线索再次出现" if old["verdict"] == "属实" else "核实不属实的线索证据发生变化"
            events.append(make_event(old["clue_id"], "reopen", status, "issued", SYSTEM, at, note=why, day=day))
            count(row["rule"], "reopened")
        elif status not in ("closed", "filed") and changed_evidence:
            new.update({f: row[f] for f in _REFRESHED})
            events.append(make_event(old["clue_id"], "evidence", status, status, SYSTEM, at, day=day))
        if any(
            _iso(new[c]) != _iso(old[c]) if c.endswith(("_on", "_seen")) or c == "deadline" else new[c] != old[c]
            for c in CLUE_COLUMNS
        ):
            updates.append(new)

    for row in merged[merged["_merge"] == "right_only"].to_dict("records"):
        old = {c: row[c] if c in key or c not in fired.columns else row[f"{c}_old"] for c in CLUE_COLUMNS}
        if old["status"] in ("new", "issued") and not old["verdict"]:
            updates.append({**old, "status": "cleared_by_data", "cleared_on": day})
            events.append(make_event(old["clue_id"], "clear", old["status"], "cleared_by_data", SYSTEM, at, day=day))
            count(row["rule"], "cleared")
    return inserts, updates, events, counts


def write_events(conn, events: list[dict]) -> None:
    """Append events (make_event rows) to clue_events: every event is written here, and only here."""
    append_events(conn, events)  # chained: pipelines.store.audit


def _write_updates(conn, rows: list[dict]) -> None:
    if not rows:
        return
    columns = [c for c in CLUE_COLUMNS if c != "clue_id"]
    statement = update(clues).where(clues.c.clue_id == bindparam("b_clue_id")).values({c: bindparam(f"b_{c}") for c in columns})
    conn.execute(statement, [{f"b_{c}": plain_value(c, row[c]) for c in CLUE_COLUMNS} for row in rows])


def plain_value(column: str, value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if column.endswith(("_on", "_seen")) or column == "deadline":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if column == "reopen_count":
        return int(value)
    return value


def apply_rule_run(
    engine: Engine,
    settings: Settings,
    day: dt.date,
    fired: pd.DataFrame,
    runs: list[dict],
    deadlines: dict[str, int],
    release: Iterable[str] = (),
    night_counts: bool = False,
) -> dict:
    """Turn one night's rule output into clue changes, in one transaction; returns per-rule counts.
    With `night_counts`, the night's problem counts for the trends are rewritten in that transaction
    too, so a night cut off half-way never shows its new clues without them.

    `runs`: per rule {rule, status, fired, seconds, message} as pipelines.rules.run gives them;
    `deadlines`: days to rectify per rule; `release`: rules the data officer lets through the
    circuit breaker tonight.
    """
    release = set(release)
    with write_transaction(engine) as conn:
        latest = conn.execute(select(func.max(rule_runs.c.delivery_date))).scalar()
        if latest is not None and latest > day:
            raise BiduiError(f"已经按更晚的数据日期 {latest} 生成过线索，不能再用 {day} 的数据改动线索")
        previous = _previous_counts(conn, day)
        applied, records = [], []
        for run in runs:
            record = {
                "delivery_date": day,
                "rule": run["rule"],
                "status": run["status"],
                "fired": run.get("fired"),
                "previous": previous.get(run["rule"]),
                "new": 0,
                "cleared": 0,
                "reopened": 0,
                "seconds": run.get("seconds"),
                "message": run.get("message"),
            }
            if run["status"] == "ran":
                if run["rule"] not in release and _held(int(run.get("fired") or 0), previous.get(run["rule"]), settings):
                    record["status"] = "held"
                    record["message"] = (
                        f"规则 {run['rule']} 今晚命中 {run.get('fired')} 条，上次为 {previous[run['rule']]} 条，"
                        f"超过 {settings.clue_breaker_ratio:g} 倍，已暂停下发，请数据管理员核查后放行"
                    )  # how to release is not said here: the site has its button, the CLI's summary names --release
                else:
                    applied.append(run["rule"])
            records.append(record)
        tonight = fired[fired["rule"].isin(applied)] if len(fired) else pd.DataFrame(columns=FIRED_COLUMNS)
        existing = _load_rule_clues(conn, applied)
        inserts, updates, events, counts = _night_changes(existing, tonight, day, deadlines, _next_numbers(conn))
        if inserts:
            body = pd.DataFrame(inserts, columns=CLUE_COLUMNS)
            for column in CLUE_COLUMNS:
                body[column] = [plain_value(column, v) for v in body[column]]
            bulk_insert(conn, clues.name, CLUE_COLUMNS, body.astype(object).where(body.notna(), None))
        _write_updates(conn, updates)
        write_events(conn, events)
        earlier = _night_counts_so_far(conn, day)
        for record in records:
            tonight = counts.get(record["rule"], {})
            so_far = earlier.get(record["rule"], {})
            # The night's record keeps what its earlier runs did: a retry, or a release re-running
            # the stage, finds those clues already made and must not count them away.
            record.update({what: so_far.get(what, 0) + tonight.get(what, 0) for what in _CHANGE_COUNTS})
        conn.execute(rule_runs.delete().where(rule_runs.c.delivery_date == day))
        if records:
            conn.execute(insert(rule_runs), records)
        if night_counts:
            replace_night_counts(conn, day)
    return {
        "delivery_date": day.isoformat(),
        "rules": records,
        **{what: sum(c[what] for c in counts.values()) for what in _CHANGE_COUNTS},  # this run's own
        "changed": len(updates),
        "held": [r["rule"] for r in records if r["status"] == "held"],
        "skipped": [r["rule"] for r in records if r["status"] == "skipped"],
        "failed": [r["rule"] for r in records if r["status"] == "failed"],
    }


# --- reading ---------------------------------------------------------------------------------


def load_clue(conn, clue_id: str, scope=None, for_update: bool = False) -> dict | None:
    """One clue as a dict, or None when it does not exist or lies outside `scope`. `for_update`:
    the row is locked until the caller's transaction ends (a write_transaction), to move the clue."""
    statement = select(*(clues.c[c] for c in CLUE_COLUMNS)).where(clues.c.clue_id == clue_id)
    if scope is not None:
        statement = statement.where(scope.build_clue_filter(clues))
    if for_update:
        statement = lock_rows(conn, statement, clues)
    row = conn.execute(statement).mappings().first()
    return dict(row) if row else None


def load_clue_events(engine: Engine, clue_id: str) -> pd.DataFrame:
    columns = [c.name for c in clue_events.columns]
    with engine.connect() as conn:
        rows = conn.execute(select(clue_events).where(clue_events.c.clue_id == clue_id).order_by(clue_events.c.event_id))
        return pd.DataFrame(rows.fetchall(), columns=columns)


def load_clues(
    engine: Engine, scope=None, statuses: Iterable[str] | None = None, rule: str | None = None, county: str | None = None
) -> pd.DataFrame:
    """Clues in `scope` (all of them for None), optionally of some statuses, one rule or county."""
    statement = select(*(clues.c[c] for c in CLUE_COLUMNS)).order_by(clues.c.clue_id)
    if scope is not None:
        statement = statement.where(scope.build_clue_filter(clues))
    if statuses is not None:
        statement = statement.where(clues.c.status.in_(list(statuses)))
    if rule is not None:
        statement = statement.where(clues.c.rule == rule)
    if county is not None:
        statement = statement.where(clues.c.county_code == county)
    with engine.connect() as conn:
        frame = raw_frame(conn, statement, CLUE_COLUMNS)
    return frame.astype(object).where(frame.notna(), None)


def is_overdue(status: str, deadline, today: dt.date) -> bool:
    """Open and past its deadline."""
    if status not in OPEN_STATES or deadline in (None, ""):
        return False
    return today > (deadline if isinstance(deadline, dt.date) else dt.date.fromisoformat(str(deadline)[:10]))


def dumps_evidence(evidence: list | dict) -> str:
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True)
