"""Ledger workbooks (问题台账): a county's clues go down as one .xlsx per county and issue date.

`issue_ledgers` moves every `new` clue of a county new → issued (deadline from its rule), records
the ledger in ledger_issues and writes the workbook: one sheet per township, one row per clue,
the locked columns of the ledgers contract and then the columns the county fills in.

What a ledger of (county, issue date) holds, so re-issuing rewrites the same file with the same
clues: the county's clues still `new`, the clues sent back or re-opened that no ledger has carried
since (they are verified afresh), and every clue an earlier run of the same (county, date) put in a ledger (a clue_event
'issue' with source 'ledger' on that date). Sent-back and re-opened clues are already `issued`; carrying them is
recorded as an 'issue' event issued → issued, so they count as sent.

Nothing half-written: the moves and the ledger_issues row are one transaction; the workbook is
written to a temporary name inside it and renamed only after the commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, and_, exists, func, or_, select

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.clues.life import CLUE_COLUMNS, DEFAULT_DEADLINE_DAYS, make_event
from pipelines.clues.moves import plan_move, write_moves
from pipelines.errors import BiduiError
from pipelines.ledgers.issued import write_issued_rows
from pipelines.ledgers.reading import IssueMark
from pipelines.ledgers.values import build_region_names, ledger_values, load_people, region_name
from pipelines.ledgers.workbook import (
    DATE_COLUMNS,
    FILL_IN_COLUMNS,
    FILL_IN_FIELDS,
    LEDGER_COLUMNS,
    LOCKED_COLUMNS,
    write_ledger_workbook,
)
from pipelines.settings import Settings
from pipelines.store.tables import clue_events, clues, ledger_issues
from pipelines.store.upsert import upsert

__all__ = [
    "DATE_COLUMNS",
    "FILL_IN_COLUMNS",
    "FILL_IN_FIELDS",
    "LEDGER_COLUMNS",
    "LOCKED_COLUMNS",
    "issue_ledgers",
]

_LEDGER_ISSUE = and_(clue_events.c.action == "issue", clue_events.c.source == "ledger")


def ledger_file_name(county_name: str, county_code: str, issue_date: dt.date) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]', "", county_name) or county_code
    return f"问题台账_{safe}_{county_code}_{issue_date.isoformat()}.xlsx"


# --- issuing ----------------------------------------------------------------------------------


def _in_ledger_condition(issue_date: dt.date):
    """Clues that belong in the ledger of `issue_date` (see the module docstring)."""
    day = dt.datetime.combine(issue_date, dt.time())
    sent_that_day = select(clue_events.c.clue_id).where(
        _LEDGER_ISSUE & (clue_events.c.at >= day) & (clue_events.c.at < day + dt.timedelta(days=1))
    )
    reopen, later = clue_events.alias("reopen"), clue_events.alias("later")
    sent_since = exists().where(
        (later.c.clue_id == reopen.c.clue_id)
        & (later.c.action == "issue")
        & (later.c.source == "ledger")
        & (later.c.event_id > reopen.c.event_id)
    )
    reopened_unsent = select(reopen.c.clue_id).where(reopen.c.action.in_(("reopen", "send_back")) & ~sent_since)
    return or_(
        clues.c.status == "new",
        (clues.c.status == "issued") & clues.c.clue_id.in_(reopened_unsent),
        clues.c.clue_id.in_(sent_that_day),
    )


def _mask_for(scope: Scope, mask_ids: bool | None) -> bool:
    if mask_ids is False and not scope.full_ids:
        raise BiduiError(f"用户 {scope.user_name} 无权查看完整身份证号，不能下发含完整身份证号的台账")
    if mask_ids is None:
        # Masked by default: a county passes its township sheets on down, below county level.
        return True
    return mask_ids


def _check_counties(scope: Scope, counties: list[str]) -> None:
    for county in counties:
        if not (isinstance(county, str) and len(county) == 6 and county.isdigit()):
            raise BiduiError(f"县代码“{county}”应为 6 位数字")
        if scope.region_code is not None and not county.startswith(scope.region_code[:6]):
            raise BiduiError(f"县 {county} 不在用户 {scope.user_name} 的管辖范围内")
        if scope.region_code is not None and len(scope.region_code) > 6:
            raise BiduiError(f"用户 {scope.user_name} 管辖范围小于县，不能下发县级台账")


def issue_ledgers(
    engine: Engine,
    settings: Settings,
    scope: Scope,
    issue_date: dt.date | str,
    counties: Iterable[str] | None = None,
    out_dir: Path | None = None,
    mask_ids: bool | None = None,
    rules: list | None = None,
) -> list[dict]:
    """Issue the ledger of every county in `scope` (or of `counties`) that has clues to send on
    `issue_date`: one workbook per county. Returns per county {county_code, county_name,
    issue_date, file, clues, issued_now, carried_reopened, sheets, masked}.

    `mask_ids`: None or True masks ID numbers (the default: the township sheets go on below county
    level); False asks for full numbers (refused to an issuer who may not see them). `rules`: the rule catalogue (default pipelines.rules.run.load_rules()).
    """
    scope.require("issue")
    issue_date = dt.date.fromisoformat(issue_date) if isinstance(issue_date, str) else issue_date
    store.check_issue_date(engine, issue_date)  # deadlines are counted from it: not in the future, not before the newest night
    masked = _mask_for(scope, mask_ids)
    if rules is None:
        from pipelines.rules.run import load_rules

        rules = load_rules()
    rules_by_code = {r.code: r for r in rules}
    wanted = None if counties is None else sorted(set(counties))
    if wanted is not None:
        _check_counties(scope, wanted)
    folder = Path(out_dir) if out_dir else settings.data_dir / "ledgers" / issue_date.isoformat()
    condition = _in_ledger_condition(issue_date) & scope.build_clue_filter(clues) & clues.c.county_code.is_not(None)
    if wanted is not None:
        condition &= clues.c.county_code.in_(wanted)
    with engine.connect() as conn:
        found = sorted(conn.execute(select(clues.c.county_code).where(condition).distinct()).scalars())
    regions = build_region_names(store.load_region_reference(engine)) if found else {}
    return [
        _issue_county(engine, scope, issue_date, county, condition, folder, rules_by_code, regions, masked) for county in found
    ]


def _issue_county(
    engine: Engine,
    scope: Scope,
    issue_date: dt.date,
    county: str,
    condition,
    folder: Path,
    rules_by_code: dict,
    regions: dict[str, str],
    masked: bool,
) -> dict:
    at = dt.datetime.combine(issue_date, dt.datetime.now().time().replace(microsecond=0))
    folder.mkdir(parents=True, exist_ok=True)
    with store.staged_files() as stage:
        with store.write_transaction(engine) as conn:
            statement = store.lock_rows(
                conn,
                select(*(clues.c[c] for c in CLUE_COLUMNS))
                .where(condition & (clues.c.county_code == county))
                .order_by(clues.c.clue_id),
                clues,
            )
            ledger = [dict(row) for row in conn.execute(statement).mappings()]
            sent = _sent_that_day(conn, county, issue_date)
            moved, events, carried = [], [], 0
            for i, clue in enumerate(ledger):
                rule = rules_by_code.get(clue["rule"])
                if clue["status"] == "new":
                    after, event = plan_move(
                        clue,
                        "issue",
                        {},
                        scope,
                        at,
                        deadline_days=rule.deadline_days if rule else DEFAULT_DEADLINE_DAYS,
                        source="ledger",
                    )
                    ledger[i] = after
                    moved.append((clue["status"], after))
                    events.append(event)
                elif clue["clue_id"] not in sent:
                    carried += 1
                    events.append(
                        make_event(
                            clue["clue_id"],
                            "issue",
                            "issued",
                            "issued",
                            scope,
                            at,
                            note="退回或重新打开的线索随台账再次下发",
                            source="ledger",
                        )
                    )
            write_moves(conn, moved, events)
            mark = IssueMark(county, issue_date, int(conn.execute(select(func.max(clue_events.c.event_id))).scalar() or 0))
            people = load_people(conn, (c["person_id"] for c in ledger))
            county_name = regions.get(county.ljust(12, "0"), county)
            final = folder / ledger_file_name(county_name, county, issue_date)
            rows = []
            for clue in ledger:
                values = ledger_values(clue, rules_by_code.get(clue["rule"]), regions, people, masked)
                values.update(
                    _township=(clue["village_code"] or "")[:9],
                    _village=clue["village_code"] or "",
                    _rule=clue["rule"],
                    _status=clue["status"],
                )
                rows.append(values)
            write_issued_rows(conn, county, issue_date, rows)
            issued = {
                "county_code": county,
                "issue_date": issue_date,
                "file": str(final),
                "clues": len(ledger),
                "issued_by": scope.user_name,
                "issued_at": dt.datetime.now().replace(microsecond=0),
            }
            upsert(conn, ledger_issues, issued)
            temp = stage(final)  # the workbook appears once the moves and the issue record committed
            townships = {v["_township"]: region_name(regions, v["_township"], 9) for v in rows}
            sheets = write_ledger_workbook(temp, county_name, issue_date, rows, townships, rules_by_code, masked, mark.text())
    return {
        "county_code": county,
        "county_name": county_name,
        "issue_date": issue_date.isoformat(),
        "file": final,
        "clues": len(ledger),
        "issued_now": len(moved),
        "carried_reopened": carried,
        "sheets": sheets,
        "masked": masked,
    }


def _sent_that_day(conn, county: str, issue_date: dt.date) -> set[str]:
    """The county's clues a ledger already carried on `issue_date`."""
    day = dt.datetime.combine(issue_date, dt.time())
    return set(
        conn.execute(
            select(clue_events.c.clue_id).where(
                _LEDGER_ISSUE
                & (clue_events.c.at >= day)
                & (clue_events.c.at < day + dt.timedelta(days=1))
                & clue_events.c.clue_id.in_(select(clues.c.clue_id).where(clues.c.county_code == county))
            )
        ).scalars()
    )
