"""User moves on clues: verify, rectify, sign, send back, approve, file, re-open (and issue).

`plan_move` decides one move without touching the store — the same checks and effects for a
`bidui clue` command and a ledger row — so a ledger row can be tried as a whole and dropped
when any of its moves fails; `write_moves` writes many moved clues with one batched UPDATE and
their events with one INSERT (a ledger brings back thousands at once); `apply_move` is the two for
one clue; `act` is a signed-in user's move, with role and region scope checked.

No move is lost to a concurrent one: the clue is read and written in one write_transaction
(pipelines.store.transactions) with its row locked, and the UPDATE only changes a clue still in
the state the move was planned from; a clue found moved on is an error, never an overwrite.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, bindparam, update

from pipelines.clues.life import (
    DEFAULT_DEADLINE_DAYS,
    VERIFICATION_FIELDS,
    ActorLike,
    load_clue,
    make_event,
    plain_value,
    write_events,
)
from pipelines.clues.states import ACTION_LABELS, MOVES, STATE_LABELS, VERDICTS, next_state
from pipelines.errors import BiduiError
from pipelines.store.tables import clues
from pipelines.store.transactions import write_transaction

__all__ = ["act", "apply_move", "plan_move", "write_moves"]

# Everything a user move can change on a clue.
MOVED_COLUMNS = ("status", *VERIFICATION_FIELDS, "issued_on", "deadline", "reopen_count")
_FIELD_LABELS = {
    "verdict": "核实结果",
    "verified_by": "核实人",
    "verified_on": "核实日期",
    "rectification": "整改措施",
    "rectified_on": "整改完成日期",
    "signed_by": "签字人",
    "signed_on": "签字日期",
    "note": "说明/理由",
}


def missing_for_move(action: str, fields: dict, dismiss_reasons: list[str] | None) -> str | None:
    """Why the fields do not allow the move, in Chinese; None when they do."""
    for name in MOVES[action].needs:
        if fields.get(name) in (None, ""):
            return f"缺少{_FIELD_LABELS[name]}"
    if action == "verify":
        if fields["verdict"] not in VERDICTS:
            return f"核实结果须为“属实”或“不属实”，而不是“{fields['verdict']}”"
        if fields["verdict"] == "不属实":
            reason = fields.get("dismiss_reason")
            if not reason:
                return "核实不属实须选择不属实原因"
            if dismiss_reasons and reason not in dismiss_reasons:
                return f"不属实原因“{reason}”不在本规则的可选原因中：{'、'.join(dismiss_reasons)}"
    return None


def plan_move(
    clue: dict,
    action: str,
    fields: dict,
    actor: ActorLike,
    at: dt.datetime,
    deadline_days: int = DEFAULT_DEADLINE_DAYS,
    dismiss_reasons: list[str] | None = None,
    source: str = "cli",
) -> tuple[dict, dict]:
    """(the clue after the move, its event), nothing written. BiduiError (Chinese) when the move is
    not allowed from the clue's state or its fields are missing. No role or scope check."""
    if action not in MOVES:
        raise BiduiError(f"未知的操作：{action}")
    target = next_state(action, clue["status"], fields.get("verdict"))
    if target is None:
        raise BiduiError(
            f"线索 {clue['clue_id']} 当前状态为“{STATE_LABELS.get(clue['status'], clue['status'])}”，"
            f"不能执行“{ACTION_LABELS[action]}”"
        )
    problem = missing_for_move(action, fields, dismiss_reasons)
    if problem:
        raise BiduiError(f"线索 {clue['clue_id']}：{problem}")
    after = dict(clue, status=target)
    today = at.date()
    if action == "issue":
        after.update(issued_on=today, deadline=today + dt.timedelta(days=deadline_days))
    elif action == "verify":
        after.update({f: fields.get(f) for f in ("verdict", "verified_by", "verified_on")})
        after["dismiss_reason"] = fields.get("dismiss_reason") if fields["verdict"] == "不属实" else None
    elif action == "rectify":
        after.update(rectification=fields["rectification"], rectified_on=fields["rectified_on"])
    elif action == "sign":
        after.update(signed_by=fields["signed_by"], signed_on=fields["signed_on"])
    elif action in ("send_back", "reopen"):
        # Sent back or re-opened, a clue is verified afresh.
        after.update(dict.fromkeys(VERIFICATION_FIELDS))
        if action == "reopen":
            after.update(
                reopen_count=int(clue["reopen_count"] or 0) + 1,
                issued_on=today,
                deadline=today + dt.timedelta(days=deadline_days),
            )
    note = fields.get("note")
    if action == "verify" and fields["verdict"] == "不属实":
        note = "；".join(filter(None, [f"不属实原因：{fields.get('dismiss_reason')}", note]))
    return after, make_event(clue["clue_id"], action, clue["status"], target, actor, at, note=note, source=source)


def write_moves(conn, moved: list[tuple[str, dict]], events: list[dict]) -> None:
    """Write the final state of each moved clue (MOVED_COLUMNS) and append the events, inside the
    caller's write_transaction. `moved`: (the status the moves were planned from, the clue after).
    BiduiError, and nothing written once the caller rolls back, when a clue is no longer in the
    status it was read in: another move won the race."""
    if moved:
        statement = (
            update(clues)
            .where((clues.c.clue_id == bindparam("b_clue_id")) & (clues.c.status == bindparam("b_was")))
            .values({c: bindparam(f"b_{c}") for c in MOVED_COLUMNS})
        )
        params = [
            {"b_clue_id": clue["clue_id"], "b_was": was, **{f"b_{c}": plain_value(c, clue[c]) for c in MOVED_COLUMNS}}
            for was, clue in moved
        ]
        changed = conn.execute(statement, params).rowcount
        # psycopg2 does not count an executemany's rows (one row is a plain execute, counted). Every
        # caller (act, the ledger issue and import) read its rows FOR UPDATE in this transaction, so
        # no other move can have won in between: the status condition stays as a guard.
        counted = conn.dialect.supports_sane_multi_rowcount or len(params) == 1
        if counted and changed != len(moved):
            raise BiduiError(
                f"{len(moved) - changed} 条线索在操作期间已被他人改动，本次操作未保存；请刷新后重试"
                if len(moved) > 1
                else f"线索 {moved[0][1]['clue_id']} 在操作期间已被他人改动，本次操作未保存；请刷新后重试"
            )
    write_events(conn, events)


def apply_move(
    conn,
    clue: dict,
    action: str,
    fields: dict,
    actor: ActorLike,
    at: dt.datetime,
    deadline_days: int = DEFAULT_DEADLINE_DAYS,
    dismiss_reasons: list[str] | None = None,
    source: str = "cli",
) -> dict:
    """Make one move on `clue` (a row of load_clue) inside the caller's transaction, without role
    or scope checks (the caller made them); returns the clue after it."""
    after, event = plan_move(clue, action, fields, actor, at, deadline_days, dismiss_reasons, source)
    write_moves(conn, [(clue["status"], after)], [event])
    return after


def act(
    engine: Engine,
    scope,
    clue_id: str,
    action: str,
    fields: dict | None = None,
    at: dt.datetime | None = None,
    source: str = "cli",
) -> dict:
    """A user's move on one clue: role and region scope checked, the move made and recorded."""
    from pipelines.rules.run import load_rules

    fields = dict(fields or {})
    scope.require(action)
    with write_transaction(engine) as conn:
        clue = load_clue(conn, clue_id, scope, for_update=True)
        if clue is None:
            raise BiduiError(f"线索 {clue_id} 不存在，或不在您的管辖范围内")
        # The township sends back a verification it will not sign; the county a signed clue it will not close.
        allowed_from = {"township": "rectified", "county": "signed"}.get(scope.role)
        if action == "send_back" and allowed_from and clue["status"] != allowed_from:
            raise BiduiError(
                f"线索 {clue_id} 当前状态为“{STATE_LABELS.get(clue['status'], clue['status'])}”，"
                f"{'乡镇只能退回待签字的核实' if scope.role == 'township' else '县级只能退回已签字待销号的线索'}"
            )
        rule = {r.code: r for r in load_rules()}.get(clue["rule"])
        return apply_move(
            conn,
            clue,
            action,
            fields,
            scope,
            at or dt.datetime.now().replace(microsecond=0),
            deadline_days=rule.deadline_days if rule else DEFAULT_DEADLINE_DAYS,
            dismiss_reasons=list(rule.dismiss_reasons) if rule else None,
            source=source,
        )
