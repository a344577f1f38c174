"""The review queue (人工审核): gray-zone pairs and reviewers' decisions on them.

A pair whose match probability falls between the model's two thresholds is neither linked nor
left apart by the machine; it waits for a person. A decision (same | different) is kept and given
to the linker on every later night, which then forces or forbids that link.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["DECISIONS", "decide_pair", "list_review"]

DECISIONS = ("same", "different")


def list_review(settings: Settings, delivery_date: str | None = None, limit: int | None = 50) -> pd.DataFrame:
    """The open pairs of a night (default: the newest night linked), most probable first."""
    engine = store.connect(settings)
    try:
        day = dt.date.fromisoformat(delivery_date) if delivery_date else None
    except ValueError as exc:
        raise BiduiError(f"数据日期“{delivery_date}”格式不对，应为 YYYY-MM-DD") from exc
    return store.load_review_queue(engine, day, status="open", limit=limit)


def decide_pair(
    settings: Settings, feed: str, record_key: str, candidate_feed: str, candidate_key: str, decision: str, user: str
) -> dict:
    """Store a reviewer's decision on a pair of linked rows; returns what was stored."""
    if decision not in DECISIONS:
        raise BiduiError(f"审核结论只能是 same（同一人）或 different（不是同一人），而不是“{decision}”")
    if not user.strip():
        raise BiduiError("请用 --user 写明审核人")
    if (feed, record_key) == (candidate_feed, candidate_key):
        raise BiduiError("一条记录不能与它自己配对")
    engine = store.connect(settings)
    for f, k in ((feed, record_key), (candidate_feed, candidate_key)):
        if store.load_link(engine, f, k) is None:
            raise BiduiError(f"没有找到记录 {f} {k} 的关联结果；请检查数据项和记录编号")
    decided_at = dt.datetime.now().replace(microsecond=0)
    store.write_review_decision(engine, feed, record_key, candidate_feed, candidate_key, decision, user.strip(), decided_at)
    return {
        "feed": feed,
        "record_key": record_key,
        "candidate_feed": candidate_feed,
        "candidate_key": candidate_key,
        "decision": decision,
        "decided_by": user.strip(),
        "decided_at": decided_at.isoformat(sep=" "),
    }
