"""The review queue as a reviewer reads it (the site's /review page): one page of a night's open
pairs, each with its two records side by side as the departments delivered them and the pair's
comparison levels weighed by that night's model (the weights `bidui explain` shows).

Only the page's pairs are read: the queue a page at a time (most probable first), and each record
from its feed's effective snapshot of the night by record key.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import Engine

from pipelines import store
from pipelines.access import Scope
from pipelines.basemap.explain import explain_levels
from pipelines.catalog.feeds import ROW_SOURCES, FeedSpec, RowSource, load_feeds
from pipelines.settings import Settings

__all__ = ["COMPARISON_TITLES", "SIDE_BY_SIDE", "review_page"]

# What the linker's comparisons (pipelines.link.people) weigh, in the reviewer's words.
COMPARISON_TITLES = {
    "name": "姓名",
    "id_number": "身份证号",
    "id_region": "身份证号前几位（被 Excel 截断的号码）",
    "birth_date": "出生日期",
    "sex": "性别",
    "region": "所在地区",
    "household": "户号",
}
# The facts of a person row shown side by side: (attribute, title); a feed without the field shows nothing.
SIDE_BY_SIDE = (
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("village_code", "村（区划代码）"),
    ("household", "户号 / 户编号"),
)
_SOURCES: dict[str, RowSource] = {source.feed: source for source in ROW_SOURCES}


def _folded(value: str | None) -> str:
    """A value as compared for highlighting: full-width folded, no spaces, case ignored."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def _identity(feed: str, row: dict | None) -> dict[str, str | None]:
    """The side-by-side attributes of a record (None where the feed has no such field)."""
    source = _SOURCES.get(feed)
    if source is None or row is None:
        return dict.fromkeys(attribute for attribute, _ in SIDE_BY_SIDE)
    fields = {
        "name": source.name,
        "id_number": source.id_number,
        "sex": source.sex,
        "birth_date": source.birth_date,
        "village_code": source.village_code,
        "household": source.household[1] if source.household else None,
    }
    return {attribute: (row.get(field) if field else None) for attribute, field in fields.items()}


def _comparison_title(name: str, feeds: dict[str, FeedSpec]) -> str:
    if name.startswith("listed:"):
        feed = name.split(":", 1)[1]
        return f"是否已在{feeds[feed].title if feed in feeds else feed}名单中"
    return COMPARISON_TITLES.get(name, name)


def _load_records(engine: Engine, day: dt.date, pairs: list[dict]) -> dict[tuple[str, str], tuple[dict, str]]:
    """(feed, record key) → (its snapshot row, the snapshot's date), for every record of the pairs found."""
    keys: dict[str, set[str]] = {}
    for pair in pairs:
        keys.setdefault(pair["feed"], set()).add(pair["record_key"])
        keys.setdefault(pair["candidate_feed"], set()).add(pair["candidate_key"])
    found: dict[tuple[str, str], tuple[dict, str]] = {}
    for feed, wanted in keys.items():
        if feed not in _SOURCES:
            continue
        snapshot = store.effective_date(engine, feed, day)
        if snapshot is None:
            continue
        for key, row in store.load_snapshot_rows(engine, feed, snapshot, wanted).items():
            found[(feed, key)] = (row, snapshot.isoformat())
    return found


def _record(feed: str, key: str, loaded: tuple[dict, str] | None, feeds: dict[str, FeedSpec], scope: Scope | None) -> dict:
    """One side of a pair: the record's feed, key and every delivered field with its header."""
    spec = feeds.get(feed)
    row, snapshot = loaded if loaded else (None, None)
    shown = []
    if row is not None and spec is not None:
        for field in spec.fields:
            value = row.get(field.name)
            if value in (None, ""):
                continue
            if scope is not None:
                value = scope.mask_id(value) if field.kind == "id" else scope.mask_text(value)
            shown.append((field.header, value))
    return {
        "feed": feed,
        "title": spec.title if spec else feed,
        "record_key": key,
        "record_key_shown": scope.mask_text(key) if scope is not None else key,
        "found": row is not None,
        "snapshot": snapshot,
        "fields": shown,
    }


def _side_by_side(left: dict[str, str | None], right: dict[str, str | None], scope: Scope | None) -> list[dict]:
    rows = []
    for attribute, title in SIDE_BY_SIDE:
        a, b = left[attribute], right[attribute]
        if attribute == "id_number" and scope is not None:
            shown_a, shown_b = scope.mask_id(a) or None, scope.mask_id(b) or None
        else:
            shown_a, shown_b = a, b
        rows.append(
            {
                "attribute": attribute,
                "title": title,
                "left": shown_a,
                "right": shown_b,
                # Only two values can differ: a field one record lacks is not a difference.
                "differs": bool(_folded(a) and _folded(b) and _folded(a) != _folded(b)),
            }
        )
    return rows


def review_page(
    engine: Engine,
    settings: Settings,
    delivery_date: dt.date | None = None,
    limit: int = 20,
    offset: int = 0,
    scope: Scope | None = None,
) -> dict:
    """One page of the open review pairs of a night (default: the newest night linked), most
    probable first: {delivery_date, thresholds {upper, lower}, pairs, more}. Each pair holds its
    keys, probability and match weight, `left` and `right` (the two records: feed title, key,
    delivered fields with their headers), `rows` (name, ID number, sex, birth date, village and
    household side by side, `differs` where both have a value and they differ) and `comparisons`
    (pipelines.basemap.explain.explain_levels, each comparison with a Chinese `title`). With a
    `scope`, ID numbers are shown as that user may see them."""
    day = delivery_date or store.latest_link_date(engine)
    if day is None:
        return {"delivery_date": None, "thresholds": {"upper": None, "lower": None}, "pairs": [], "more": False}
    queue = store.load_review_queue(engine, day, status="open", limit=limit + 1, offset=offset)
    pairs = queue.drop(columns=["delivery_date"]).to_dict("records")
    more = len(pairs) > limit
    pairs = pairs[:limit]
    model = store.load_linkage_model(engine, day) or {}
    feeds = load_feeds(settings.feeds_config)
    records = _load_records(engine, day, pairs)
    shown = []
    for pair in pairs:
        left_key, right_key = (pair["feed"], pair["record_key"]), (pair["candidate_feed"], pair["candidate_key"])
        explained = explain_levels(model, pair["levels"])
        if explained:
            for comparison in explained["comparisons"]:
                comparison["title"] = _comparison_title(comparison["name"], feeds)
        left_row, right_row = records.get(left_key), records.get(right_key)
        shown.append(
            {
                **{k: pair[k] for k in ("feed", "record_key", "candidate_feed", "candidate_key")},
                "probability": pair["probability"],
                "match_weight": pair["match_weight"],
                "left": _record(*left_key, left_row, feeds, scope),
                "right": _record(*right_key, right_row, feeds, scope),
                "rows": _side_by_side(
                    _identity(pair["feed"], left_row[0] if left_row else None),
                    _identity(pair["candidate_feed"], right_row[0] if right_row else None),
                    scope,
                ),
                "comparisons": explained,
            }
        )
    return {
        "delivery_date": day,
        "thresholds": {"upper": model.get("upper"), "lower": model.get("lower")},
        "pairs": shown,
        "more": more,
    }
