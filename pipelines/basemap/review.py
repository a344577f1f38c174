"""The review queue (人工审核): gray-zone pairs and reviewers' decisions on them.

A pair whose match probability falls between the model's two thresholds is neither linked nor
left apart by the machine; it waits for a person. A decision (same | different) is kept and given
to the linker on every later night, which then forces or forbids that link.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines import store
from pipelines.access import User, load_user, require_role
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["DECISIONS", "REVIEW_ROLES", "decide_pair", "list_review"]

DECISIONS = ("same", "different")
# Who may see and decide review pairs: a pair's two records may lie in two counties and a decision
# binds every later night's linking across the prefecture, so only the data officer decides.
REVIEW_ROLES = ("prefecture",)


def list_review(settings: Settings, delivery_date: str | None = None, limit: int | None = 50) -> pd.DataFrame:
    """The open pairs of a night (default: the newest night linked), most probable first."""
    engine = store.connect(settings)
    try:
        day = dt.date.fromisoformat(delivery_date) if delivery_date else None
    except ValueError as exc:
        raise BiduiError(f"数据日期“{delivery_date}”格式不对，应为 YYYY-MM-DD") from exc
    return store.load_review_queue(engine, day, status="open", limit=limit)


def decide_pair(
    settings: Settings, feed: str, record_key: str, candidate_feed: str, candidate_key: str, decision: str, user: User
) -> dict:
    """Store a signed-in reviewer's decision on a pair of linked rows; returns what was stored.
    BiduiError, and nothing stored, unless the reviewer is a stored, active user allowed to review."""
    if decision not in DECISIONS:
        raise BiduiError(f"审核结论只能是 same（同一人）或 different（不是同一人），而不是“{decision}”")
    if (feed, record_key) == (candidate_feed, candidate_key):
        raise BiduiError("一条记录不能与它自己配对")
    engine = store.connect(settings)
    # As stored now, not as the caller remembers: disabled since signing in means no decision.
    reviewer = load_user(engine, user.user_name)
    require_role(reviewer, REVIEW_ROLES, "审核候选配对")
    for f, k in ((feed, record_key), (candidate_feed, candidate_key)):
        if store.load_link(engine, f, k) is None:
            raise BiduiError(f"没有找到记录 {f} {k} 的关联结果；请检查数据项和记录编号")
    decided_at = dt.datetime.now().replace(microsecond=0)
    store.write_review_decision(engine, feed, record_key, candidate_feed, candidate_key, decision, reviewer.user_name, decided_at)
    return {
        "feed": feed,
        "record_key": record_key,
        "candidate_feed": candidate_feed,
        "candidate_key": candidate_key,
        "decision": decision,
        "decided_by": reviewer.user_name,
        "decided_at": decided_at.isoformat(sep=" "),
    }
