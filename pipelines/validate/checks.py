"""Check one feed's rows against its Great Expectations suite: findings per row, and accept or reject."""

from __future__ import annotations

import datetime as dt
import importlib
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import FeedSpec
from pipelines.settings import Settings
from pipelines.store.snapshots import FINDING_COLUMNS

__all__ = ["FeedCheck", "build_id_birth_findings", "check_feed"]

_TEMPLATE_KEYS = {"value", "header", "count"}


@dataclass
class FeedCheck:
    """The outcome of checking one feed: every finding, and whether the feed is rejected whole."""

    feed: str
    findings: pd.DataFrame  # pipelines.store.snapshots.FINDING_COLUMNS
    rejected: bool
    reason: str | None  # Chinese, when rejected
    rows: int
    bad_rows: int  # rows with at least one 'error' finding


def check_feed(
    feed: FeedSpec,
    frame: pd.DataFrame,
    known_regions: set[str],
    settings: Settings,
    as_of: dt.date,
) -> FeedCheck:
    """Run the feed's suite on `frame` (canonical columns plus row_no, values str or None).

    Rejected whole when the key column is missing, the file has no data rows, or the share of rows
    with a blocking error exceeds `settings.max_bad_row_share`.
    """
    from expectations.common import SuiteContext, build_suite
    from expectations.derive import build_check_frame
    from expectations.runner import run_suite

    module = importlib.import_module(f"expectations.{feed.suite}")
    ctx = SuiteContext(
        spec=feed,
        columns=frozenset(c for c in feed.columns if c in frame.columns),
        known_regions=frozenset(known_regions),
        as_of=as_of,
    )
    suite = build_suite(getattr(module, "SUITE_NAME", feed.name), module.build_expectations(ctx))
    checked = build_check_frame(feed, frame)
    failures = run_suite(suite, checked)
    findings, blocking_rows = build_findings(feed, checked, failures)
    # A row whose own birth date is already wrong gets no second finding for disagreeing with its ID.
    doubtful = set(findings.loc[findings["field"] == "birth_date", "row_no"].dropna().astype(int))
    findings = _in_order(feed, findings, build_id_birth_findings(feed, checked, skip_rows=doubtful))
    rows = len(checked)
    bad_rows = int(findings.loc[findings["severity"] == "error", "row_no"].dropna().nunique())
    reason = _rejection(feed, ctx, rows, blocking_rows, settings.max_bad_row_share)
    return FeedCheck(feed.name, findings, reason is not None, reason, rows, bad_rows)


def _rejection(feed: FeedSpec, ctx, rows: int, blocking_rows: int, max_share: float) -> str | None:
    if not ctx.has(feed.key):
        key = feed.key_field
        return f"缺少关键列“{key.header}”，无法识别每条记录"
    if rows == 0:
        return "文件只有表头，没有数据行"
    if blocking_rows / rows > max_share:
        return (
            f"{blocking_rows} 行存在错误（共 {rows} 行，占 {blocking_rows / rows:.1%}），"
            f"超过允许的上限 {max_share:.0%}（身份证号问题不计入）"
        )
    return None


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _at(checked: pd.DataFrame, column: str | None, rows: np.ndarray) -> list:
    """Values of `column` on the given row numbers (None where the column is absent)."""
    return checked[column].reindex(rows).tolist() if column in checked else [None] * len(rows)


def _shown(value: object) -> str:
    return "（空）" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _messages(meta: dict, spec: FeedSpec, checked: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """One Chinese message per failing row, from the expectation's template(s) (see expectations.common)."""
    field = meta.get("field")
    header = spec.field(field).header if field else ""
    by_value = meta.get("messages", {})
    templates = [meta["message"], *by_value.values()]
    others = {name: _at(checked, name, rows) for name in set().union(*map(_placeholders, templates)) - _TEMPLATE_KEYS}
    values = _at(checked, field, rows)
    counts = pd.Series(values).map(pd.Series(values).value_counts(dropna=False)).tolist()
    keys = _at(checked, meta.get("keyed_on"), rows)
    return [
        by_value.get(keys[i], meta["message"]).format(
            value=_shown(value), header=header, count=counts[i], **{n: _shown(v[i]) for n, v in others.items()}
        )
        for i, value in enumerate(values)
    ]


def build_findings(spec: FeedSpec, checked: pd.DataFrame, failures: list) -> tuple[pd.DataFrame, int]:
    """Findings (FINDING_COLUMNS, ordered by row, then field order) and the number of rows with a
    blocking error, from the suite's failures on the check frame."""
    key = spec.key if spec.key in checked else None
    order = {f.name: i for i, f in enumerate(spec.fields)}
    parts, blocking = [], []
    for failure in failures:
        meta, rows = failure.meta, failure.row_nos
        if rows is None:  # the table failed (a column is missing, there are no rows)
            part = pd.DataFrame({"record_key": [None], "row_no": [pd.NA], "value": [None], "message": [meta["message"]]})
        else:
            part = pd.DataFrame(
                {
                    "record_key": _at(checked, key, rows),
                    "row_no": rows,
                    "value": _at(checked, meta.get("field"), rows),
                    "message": _messages(meta, spec, checked, rows),
                }
            )
            if meta["severity"] == "error" and meta.get("blocking", True):
                blocking.append(rows)
        part["field"], part["check"], part["severity"] = meta.get("field"), meta["check"], meta["severity"]
        part["_order"] = order.get(meta.get("field"), len(order))
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row_no" else object) for c in FINDING_COLUMNS}), 0
    findings = pd.concat(parts, ignore_index=True).assign(feed=spec.name)
    findings["row_no"] = findings["row_no"].astype("Int64")
    findings = findings.sort_values(["row_no", "_order", "check"], na_position="first", kind="stable")
    findings = findings[FINDING_COLUMNS].reset_index(drop=True)
    text = [c for c in FINDING_COLUMNS if c != "row_no"]
    findings[text] = findings[text].astype(object).where(findings[text].notna(), None)
    blocked = len(np.unique(np.concatenate(blocking))) if blocking else 0
    return findings, blocked


def build_id_birth_findings(spec: FeedSpec, checked: pd.DataFrame, skip_rows: set[int] | None = None) -> pd.DataFrame:
    """An error on the ID of each row whose ID, checksum and all, encodes another birth date than the
    row's own. Not blocking, and the ID keeps its status: the row still links, and a person looks
    at which of the two is wrong."""
    from pipelines.standardise.ids import id_birth_conflicts

    id_field = next((f.name for f in spec.fields if f.kind == "id" and f.name in checked), None)
    birth = next((f for f in spec.fields if f.name == "birth_date" and f.kind == "date" and f.name in checked), None)
    if id_field is None or birth is None:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    encoded = id_birth_conflicts(checked[id_field], checked[birth.name])
    hit = encoded.notna().to_numpy()
    if skip_rows:
        hit &= ~checked.index.isin(list(skip_rows))
    if not hit.any():
        return pd.DataFrame(columns=FINDING_COLUMNS)
    given = checked[birth.name][hit].tolist()
    return pd.DataFrame(
        {
            "feed": spec.name,
            "record_key": checked[spec.key][hit].tolist() if spec.key in checked else None,
            "row_no": checked.index[hit],
            "field": id_field,
            "check": "id_birth_date",
            "severity": "error",
            "value": checked[id_field][hit].tolist(),
            "message": [f"身份证号中的出生日期（{e}）与{birth.header}（{g}）不符" for e, g in zip(encoded[hit], given)],
        }
    )


def _in_order(spec: FeedSpec, findings: pd.DataFrame, more: pd.DataFrame) -> pd.DataFrame:
    """Both sets of findings by row, then the feed's field order, then check (as build_findings orders)."""
    if more.empty:
        return findings
    order = {f.name: i for i, f in enumerate(spec.fields)}
    both = pd.concat([findings, more], ignore_index=True) if len(findings) else more.copy()
    both["row_no"] = both["row_no"].astype("Int64")
    both["_order"] = both["field"].map(order).fillna(len(order))
    both = both.sort_values(["row_no", "_order", "check"], na_position="first", kind="stable")
    return both[FINDING_COLUMNS].reset_index(drop=True)
