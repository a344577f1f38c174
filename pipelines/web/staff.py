"""The staff clue pages: "my clues" (a paginated list in the user's scope), one clue with its
evidence, person and history, and the forms for the moves the user's role may make on it.

Every move goes through pipelines.clues.act, as `bidui clue …` does (source "web"): the same role
and scope checks, the same state machine, the same audit chain (the forms' fields: staff_moves;
the reads: staff_queries). A move the clue's state no longer
allows (another user was quicker, a double submit) comes back as the clue page with the Chinese
reason and status 409; input the move cannot take (a missing reason, a bad date) as 400, with what
was typed kept.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from pipelines.access import ACTION_TEXT, ROLE_LABELS, Scope
from pipelines.catalog import load_feeds
from pipelines.clues import ACTION_LABELS, STATE_LABELS, act, is_overdue, load_clue_events
from pipelines.errors import BiduiError
from pipelines.ledgers import evidence_text
from pipelines.rules import Rule, load_rules
from pipelines.store import load_person
from pipelines.store.tables import PERSON_ATTRIBUTES
from pipelines.web.auth import PageForbidden, Viewer, check_csrf, roles
from pipelines.web.pages import PAGE_SIZE, STAFF_ROLES, Page, region_label, region_names, render
from pipelines.web.staff_moves import FORM_ACTIONS, FORM_FIELDS, move_fields, offered
from pipelines.web.staff_queries import (
    COUNT_CAP,
    NAME_PREFIX_MIN,
    ClueFilters,
    evidence_person,
    load_clue_in_scope,
    load_clue_list,
    load_household,
    load_rule_codes,
)

__all__ = ["router", "today"]

router = APIRouter()
Staff = Annotated[Viewer, Depends(roles(*STAFF_ROLES))]

SOURCE_LABELS = {"night": "夜间比对", "cli": "命令行", "ledger": "问题台账", "web": "网页", "undo": "撤销比对"}
PERSON_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "sex": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "village_code": "所在村",
    "hukou_state": "户口状态",
    "insured_state": "参保状态",
    "enrolment_state": "学籍状态",
    "illness_kind": "大病慢病",
    "assistance_kind": "低保特困",
}
# The nightly run's name in clue_events (pipelines.access.users.RESERVED_NAMES): a person reads "系统".
SYSTEM_USER = "system"
_CLUE_ID = re.compile(r"[A-Za-z][0-9]{2}-[0-9]{6}")
_RULE = re.compile(r"[A-Za-z][0-9]{2}")
_REGION = re.compile(r"[0-9]{6}([0-9]{3}){0,2}")
_LONGEST_NAME = 40
_RULES_CACHE_SECONDS = 60.0


def today() -> dt.date:
    """The day deadlines are measured against (a function, so that tests can fix it)."""
    return dt.date.today()


def _rules(request: Request) -> dict[str, Rule]:
    """The rule catalogue by code (names, dismiss reasons), re-read at most once a minute: parsing
    the rule files costs more than a page's queries."""
    state = request.app.state
    cached = getattr(state, "rule_cache", None)
    if cached is None or time.monotonic() - cached[0] > _RULES_CACHE_SECONDS:
        cached = (time.monotonic(), {rule.code: rule for rule in load_rules()})
        state.rule_cache = cached
    return cached[1]


# --- the list ------------------------------------------------------------------------------------


def _filters(rule: str, status: str, village: str, overdue: str, q: str) -> tuple[ClueFilters, list[str]]:
    """The list's query string as filters, and what was wrong with it (Chinese)."""
    problems: list[str] = []
    rule, village, q = rule.strip().upper(), village.strip(), q.strip()
    if rule and not _RULE.fullmatch(rule):
        problems.append(f"规则“{rule}”应为规则编号，例如 R05")
    if status and status not in STATE_LABELS:
        problems.append(f"没有“{status}”这个状态")
    if village and not _REGION.fullmatch(village):
        problems.append(f"区划代码“{village}”应为 6 位（县）、9 位（乡镇）或 12 位（村）数字")
    clue_id = q.upper() if _CLUE_ID.fullmatch(q) else None
    name = q[:_LONGEST_NAME] if q and clue_id is None else None
    filters = ClueFilters(
        rule=rule or None,
        status=status or None,
        region=village or None,
        overdue=overdue not in ("", "0"),
        clue_id=clue_id,
        name=name,
    )
    return (ClueFilters() if problems else filters), problems


def _village_name(names: dict[str, str], code: str | None) -> str:
    """Township and village name ('新井镇太沟村'), the code where the reference has no name."""
    if not code:
        return ""
    township = names.get(code[:9].ljust(12, "0"), "") if len(code) >= 9 else ""
    return (township + names.get(code.ljust(12, "0"), "")) or code


def _list_row(row: dict, scope: Scope, names: dict[str, str], rule_names: dict[str, str], day: dt.date) -> dict:
    name, id_number = row["name"], row["id_number"]
    if not name and not id_number:
        name, id_number = evidence_person(row["evidence"])
    return {
        "clue_id": row["clue_id"],
        "rule": row["rule"],
        "rule_name": rule_names.get(row["rule"], ""),
        "name": scope.mask_text(name),
        "id_number": scope.mask_id(id_number),
        "village": _village_name(names, row["village_code"]),
        "village_code": row["village_code"] or "",
        "department": row["department"],
        "status": STATE_LABELS.get(row["status"], row["status"]),
        "first_seen": row["first_seen"],
        "deadline": row["deadline"],
        "overdue": is_overdue(row["status"], row["deadline"], day),
        "reopen_count": row["reopen_count"],
    }


@router.get("/clues")
def clue_list(
    request: Request,
    who: Staff,
    rule: str = "",
    status: str = "",
    village: str = "",
    overdue: str = "",
    q: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    """我的线索: the clues in the viewer's scope, PAGE_SIZE at a time, by clue number."""
    engine = request.app.state.engine
    filters, problems = _filters(rule, status, village, overdue, q)
    names, day = region_names(request), today()
    rule_names = {code: rule.name for code, rule in _rules(request).items()}
    asked = {"rule": rule.strip().upper(), "status": status, "village": village.strip(), "overdue": overdue, "q": q.strip()}
    if problems:
        listing, number = None, 1
    else:
        listing, number = load_clue_list(engine, who.scope, filters, page, PAGE_SIZE, day), page
    rows = [_list_row(r, who.scope, names, rule_names, day) for r in listing.rows] if listing else []
    kept = {k: v for k, v in asked.items() if v}
    return render(
        request,
        "clues_list.html",
        who,
        status_code=400 if problems else 200,
        title="问题线索",
        page=Page(rows, number, PAGE_SIZE, listing.total if listing else 0),
        problems=problems,
        asked=asked,
        rules=[(code, rule_names.get(code, "")) for code in load_rule_codes(engine)],
        states=[(code, label) for code, label in STATE_LABELS.items() if code != "withdrawn"],
        count_cap=listing.cap if listing else COUNT_CAP,
        previous_url="/clues?" + urlencode({**kept, "page": number - 1}),
        next_url="/clues?" + urlencode({**kept, "page": number + 1}),
        first_url="/clues" + (f"?{urlencode(kept)}" if kept else ""),
        name_prefix_min=NAME_PREFIX_MIN,
        scope_label=region_label(names, who.region_code),
    )


# --- one clue ------------------------------------------------------------------------------------


def _clue_id(text: str) -> str:
    return text.strip().upper()


def _clue_or_refuse(request: Request, who: Viewer, clue_id: str) -> dict:
    """The clue when the viewer may see it; 404 when there is no such clue, 403 when it lies
    outside the scope (the 403 page is the same for everything, and says nothing of the clue)."""
    exists, clue = load_clue_in_scope(request.app.state.engine, who.scope, clue_id) if len(clue_id) <= 16 else (False, None)
    if not exists:
        raise HTTPException(404, f"线索 {clue_id[:20]} 不存在")
    if clue is None:
        raise PageForbidden()
    return clue


def _source_text(source: str | None, scope: Scope, feeds: dict) -> str:
    """'feed:record_key' as '公安·户籍人口（记录 HK0001）', the record key masked like any ID."""
    if not source:
        return ""
    feed, _, key = source.partition(":")
    title = feeds[feed].title if feed in feeds else feed
    return f"{title}（记录 {scope.mask_text(key)}）" if key else title


def _person_rows(person: dict | None, scope: Scope, names: dict[str, str], feeds: dict) -> list[dict]:
    if not person:
        return []
    rows = []
    for attribute, source in PERSON_ATTRIBUTES.items():
        value = person.get(attribute)
        if attribute == "id_number":
            shown = scope.mask_id(value)
        elif attribute == "village_code":
            shown = region_label(names, value) if value else ""
        else:
            shown = scope.mask_text(str(value)) if value not in (None, "") else ""
        if not shown and not person.get(source):
            continue  # nothing known of it: no empty row
        rows.append(
            {
                "label": PERSON_LABELS.get(attribute, attribute),
                "value": shown,
                "source": _source_text(person.get(source), scope, feeds),
            }
        )
    return rows


def _event_rows(events, scope: Scope) -> list[dict]:
    return [
        {
            "at": e["at"],
            "action": ACTION_LABELS.get(e["action"], e["action"]),
            "from": STATE_LABELS.get(e["from_status"], e["from_status"]) if e["from_status"] else "",
            "to": STATE_LABELS.get(e["to_status"], e["to_status"]),
            "user_name": ROLE_LABELS[SYSTEM_USER] if e["user_name"] == SYSTEM_USER else e["user_name"],
            "role": ROLE_LABELS.get(e["role"], e["role"]),
            "note": scope.mask_text(e["note"]),
            "source": SOURCE_LABELS.get(e["source"], e["source"]),
        }
        for e in events.to_dict("records")
    ]


def _clue_page(request: Request, who: Viewer, clue: dict, status_code: int = 200, **extra):
    engine, scope = request.app.state.engine, who.scope
    names, day = region_names(request), today()
    feeds = load_feeds(request.app.state.settings.feeds_config)
    rule = _rules(request).get(clue["rule"])
    village = clue["village_code"] or ""
    person = load_person(engine, clue["person_id"]) if clue["person_id"] else None
    household = load_household(engine, clue["household_code"] or (person or {}).get("household_code"))
    if household is not None:
        household = {
            **household,
            "hukou_no": scope.mask_text(household["hukou_no"]),
            "village": region_label(names, household["village_code"]),
            "head_name": scope.mask_text(household["head_name"]),
        }
    actions = [a for a in FORM_ACTIONS if offered(scope, a, clue["status"])]
    return render(
        request,
        "clue_page.html",
        who,
        status_code=status_code,
        title=f"线索 {clue['clue_id']}",
        clue={
            **clue,
            "subject": _source_text(f"{clue['subject_feed']}:{clue['subject_key']}", scope, feeds),
            "household_no": scope.mask_text(clue["household_no"]),
            "rectification": scope.mask_text(clue["rectification"]),
            "verified_by": scope.mask_text(clue["verified_by"]),
            "signed_by": scope.mask_text(clue["signed_by"]),
            "dismiss_reason": scope.mask_text(clue["dismiss_reason"]),
        },
        status_label=STATE_LABELS.get(clue["status"], clue["status"]),
        overdue=is_overdue(clue["status"], clue["deadline"], day),
        rule=rule,
        places={
            "village": region_label(names, village) if len(village) == 12 else village,
            "township": region_label(names, village[:9]) if len(village) >= 9 else "",
            "county": region_label(names, clue["county_code"]),
        },
        evidence=[line for line in evidence_text(clue["evidence"], masked=not scope.full_ids).split("\n") if line],
        person_rows=_person_rows(person, scope, names, feeds),
        household=household,
        events=_event_rows(load_clue_events(engine, clue["clue_id"]), scope),
        actions=actions,
        action_labels={a: ACTION_TEXT.get(a, ACTION_LABELS[a]) for a in actions},
        dismiss_reasons=list(rule.dismiss_reasons) if rule else [],
        signer=who.user.display_name or who.user.user_name,
        today=day.isoformat(),
        printed_at=dt.datetime.now(),
        typed=extra.pop("typed", {}),
        failed=extra.pop("failed", None),
        done=extra.pop("done", None),
        **extra,
    )


@router.get("/clues/{clue_id}")
def clue_page(request: Request, who: Staff, clue_id: str, done: str = ""):
    """One clue: evidence, person, household, verification, history, and the viewer's moves."""
    clue = _clue_or_refuse(request, who, _clue_id(clue_id))
    flash = f"{ACTION_LABELS[done]}完成" if done in FORM_ACTIONS else None
    return _clue_page(request, who, clue, done=flash)


# --- moves ---------------------------------------------------------------------------------------


async def _typed(request: Request) -> dict[str, str]:
    """What was typed into a move's form (its CSRF token is checked apart, by check_csrf)."""
    form = await request.form()
    return {name: value for name in FORM_FIELDS if isinstance(value := form.get(name, ""), str)}


@router.post("/clues/{clue_id}/{action}", dependencies=[Depends(check_csrf)])
def clue_move(request: Request, who: Staff, clue_id: str, action: str, typed: Annotated[dict[str, str], Depends(_typed)]):
    """A move on one clue, made with pipelines.clues.act as the CLI makes it (source 'web')."""
    if action not in FORM_ACTIONS:
        raise HTTPException(404, "没有这个操作")
    clue = _clue_or_refuse(request, who, _clue_id(clue_id))
    if not who.scope.can(action):
        raise PageForbidden(f"{who.role_label}用户无权{ACTION_TEXT[action]}")
    engine = request.app.state.engine
    try:
        fields = move_fields(action, typed, who.user.display_name or who.user.user_name, today())
        act(engine, who.scope, clue["clue_id"], action, fields, source="web")
    except BiduiError as exc:
        _, now = load_clue_in_scope(engine, who.scope, clue["clue_id"])
        if now is None:  # gone meanwhile (a night undone)
            raise HTTPException(409, str(exc)) from exc
        # Still offered from the clue's state now: the input was wrong. Otherwise the state moved on.
        code = 400 if offered(who.scope, action, now["status"]) else 409
        return _clue_page(request, who, now, status_code=code, error=str(exc), failed=action, typed=typed)
    return RedirectResponse(f"/clues/{clue['clue_id']}?done={action}", status_code=303)
