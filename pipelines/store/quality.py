"""Reads and writes of the pre-audit data-quality report (数据质量报告): the night's findings, rows,
links and review pairs counted per county in SQL (never a snapshot loaded whole), and the stored
reports a later report compares with.

A row is given to a county by its own village code (feeds that carry one), else by the village of
the person the linker put it with on the report's night (links → persons); '?' where neither says.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, Select, and_, case, delete, func, literal, null, select

from pipelines.store.tables import (
    deliveries,
    feed_loads,
    feed_table,
    findings,
    links,
    night_counts,
    persons,
    quality_report_values,
    quality_reports,
    review_queue,
)
from pipelines.store.upsert import upsert

__all__ = [
    "ID_FINDING_KINDS",
    "UNATTRIBUTED",
    "list_quality_reports",
    "load_checked_deliveries",
    "load_feed_row_counts",
    "load_finding_counts",
    "load_link_counts",
    "load_open_review_pairs",
    "load_quality_report",
    "load_quality_values",
    "load_report_night",
    "load_rule_open_counts",
    "previous_quality_report",
    "write_quality_report",
]

UNATTRIBUTED = "?"
# How an invalid ID finding (check id_format) says what is wrong with the number: the messages of
# expectations.common.ID_MESSAGES, matched by their start (some name the value after a colon).
ID_FINDING_KINDS = {
    "mangled": "身份证号被Excel转为科学计数法",
    "checksum": "身份证号校验位错误",
    "length": "身份证号位数错误",
    "chars": "身份证号含有非法字符",
    "birthdate": "身份证号中的出生日期不存在",
}


def load_report_night(engine: Engine, as_of: dt.date) -> dt.date | None:
    """The night a report as of `as_of` describes: the newest delivery on or before it."""
    with engine.connect() as conn:
        value = conn.execute(select(func.max(deliveries.c.delivery_date)).where(deliveries.c.delivery_date <= as_of)).scalar()
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def load_checked_deliveries(engine: Engine, night: dt.date) -> pd.DataFrame:
    """Per feed, the newest delivery on or before `night` that was checked (status loaded or
    rejected), with its load row, and the feed's own status on the night (missing, … or None)."""
    checked = (
        select(feed_loads.c.feed, func.max(feed_loads.c.delivery_date).label("delivery_date"))
        .where(feed_loads.c.delivery_date <= night, feed_loads.c.status.in_(("loaded", "rejected")))
        .group_by(feed_loads.c.feed)
        .subquery()
    )
    tonight = (
        select(feed_loads.c.feed, feed_loads.c.status.label("night_status")).where(feed_loads.c.delivery_date == night).subquery()
    )
    statement = (
        select(
            feed_loads.c.feed,
            feed_loads.c.delivery_date,
            feed_loads.c.status,
            feed_loads.c.rows,
            feed_loads.c.bad_rows,
            feed_loads.c.message,
            tonight.c.night_status,
        )
        .join(checked, and_(checked.c.feed == feed_loads.c.feed, checked.c.delivery_date == feed_loads.c.delivery_date))
        .join(tonight, tonight.c.feed == feed_loads.c.feed, isouter=True)
        .order_by(feed_loads.c.feed)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(statement).mappings().all(), columns=list(statement.selected_columns.keys()))
    frame["delivery_date"] = pd.to_datetime(frame["delivery_date"]).dt.date
    return frame


def _attributed_rows(night: dt.date, feed: str, key: str, delivered: dt.date, has_village: bool) -> Select:
    """(row_no, county) of every row of the feed's delivery: its own village's county, else its
    linked person's, else UNATTRIBUTED."""
    table = feed_table(feed)
    village = (
        func.coalesce(func.nullif(table.c.village_code, ""), persons.c.village_code) if has_village else persons.c.village_code
    )
    county = func.coalesce(func.substr(village, 1, 6), literal(UNATTRIBUTED))
    return (
        select(table.c.row_no, county.label("county"))
        .select_from(table)
        .join(
            links,
            and_(links.c.delivery_date == night, links.c.feed == feed, links.c.record_key == table.c[key]),
            isouter=True,
        )
        .join(persons, persons.c.person_id == links.c.person_id, isouter=True)
        .where(table.c.delivery_date == delivered)
    )


def load_feed_row_counts(
    engine: Engine, night: dt.date, feed: str, key: str, delivered: dt.date, has_village: bool
) -> pd.DataFrame:
    """Per county: the rows of the feed's checked delivery and those with at least one error."""
    rows = _attributed_rows(night, feed, key, delivered, has_village).subquery()
    bad = (
        select(findings.c.row_no)
        .distinct()
        .where(
            findings.c.delivery_date == delivered,
            findings.c.feed == feed,
            findings.c.severity == "error",
            findings.c.row_no.is_not(None),
        )
        .subquery()
    )
    statement = (
        select(rows.c.county, func.count().label("rows"), func.count(bad.c.row_no).label("error_rows"))
        .select_from(rows)
        .join(bad, bad.c.row_no == rows.c.row_no, isouter=True)
        .group_by(rows.c.county)
        .order_by(rows.c.county)
    )
    return _frame(engine, statement)


def load_finding_counts(
    engine: Engine, night: dt.date, feed: str, key: str, delivered: dt.date, has_village: bool
) -> pd.DataFrame:
    """Per county × check × severity × ID kind (for invalid IDs): how many findings the feed's
    checked delivery has. File-level findings (no row) go to UNATTRIBUTED."""
    table = feed_table(feed)
    village = (
        func.coalesce(func.nullif(table.c.village_code, ""), persons.c.village_code) if has_village else persons.c.village_code
    )
    county = func.coalesce(func.substr(village, 1, 6), literal(UNATTRIBUTED)).label("county")
    kind = case(
        *((findings.c.message.like(f"{start}%"), literal(kind)) for kind, start in ID_FINDING_KINDS.items()),
        else_=null(),
    )
    id_kind = case((findings.c.check == "id_format", func.coalesce(kind, literal("other"))), else_=null()).label("id_kind")
    statement = (
        select(county, findings.c.check, findings.c.severity, id_kind, func.count().label("findings"))
        .select_from(findings)
        .join(table, and_(table.c.delivery_date == findings.c.delivery_date, table.c.row_no == findings.c.row_no), isouter=True)
        .join(
            links,
            and_(links.c.delivery_date == night, links.c.feed == feed, links.c.record_key == table.c[key]),
            isouter=True,
        )
        .join(persons, persons.c.person_id == links.c.person_id, isouter=True)
        .where(findings.c.delivery_date == delivered, findings.c.feed == feed)
        .group_by(county, findings.c.check, findings.c.severity, id_kind)
    )
    return _frame(engine, statement)


def load_link_counts(engine: Engine, night: dt.date) -> pd.DataFrame:
    """Per county × method: the night's person rows the linker settled (links.method)."""
    county = func.coalesce(func.substr(persons.c.village_code, 1, 6), literal(UNATTRIBUTED)).label("county")
    statement = (
        select(county, links.c.method, func.count().label("rows"))
        .select_from(links)
        .join(persons, persons.c.person_id == links.c.person_id, isouter=True)
        .where(links.c.delivery_date == night)
        .group_by(county, links.c.method)
    )
    return _frame(engine, statement)


def load_open_review_pairs(engine: Engine, night: dt.date) -> pd.DataFrame:
    """Per county: the night's review pairs still open, by the county of the row under review."""
    county = func.coalesce(func.substr(persons.c.village_code, 1, 6), literal(UNATTRIBUTED)).label("county")
    statement = (
        select(county, func.count().label("pairs"))
        .select_from(review_queue)
        .join(
            links,
            and_(
                links.c.delivery_date == review_queue.c.delivery_date,
                links.c.feed == review_queue.c.feed,
                links.c.record_key == review_queue.c.record_key,
            ),
            isouter=True,
        )
        .join(persons, persons.c.person_id == links.c.person_id, isouter=True)
        .where(review_queue.c.delivery_date == night, review_queue.c.status == "open")
        .group_by(county)
    )
    return _frame(engine, statement)


def load_rule_open_counts(engine: Engine, night: dt.date, rules: list[str]) -> pd.DataFrame:
    """Per county (6-digit region) × rule: the clues open and found on the night (night_counts)."""
    statement = select(
        night_counts.c.region_code.label("county"), night_counts.c.rule, night_counts.c.open, night_counts.c.found
    ).where(
        night_counts.c.delivery_date == night,
        func.length(night_counts.c.region_code) == 6,
        night_counts.c.rule.in_(rules),
    )
    return _frame(engine, statement)


def _frame(engine: Engine, statement: Select) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(statement).all(), columns=list(statement.selected_columns.keys()))


# --- the stored reports -------------------------------------------------------------------------


def write_quality_report(engine: Engine, report: dict, values: pd.DataFrame) -> None:
    """Store one report (keyed on its night; re-making it replaces it) with its values
    (region_code, indicator, value), in one transaction."""
    rows = [
        {"report_night": report["report_night"], "region_code": r, "indicator": i, "value": None if pd.isna(v) else float(v)}
        for r, i, v in values[["region_code", "indicator", "value"]].itertuples(index=False, name=None)
    ]
    with engine.begin() as conn:
        upsert(conn, quality_reports, report)
        conn.execute(delete(quality_report_values).where(quality_report_values.c.report_night == report["report_night"]))
        if rows:
            conn.execute(quality_report_values.insert(), rows)


def load_quality_report(engine: Engine, night: dt.date) -> dict | None:
    """The stored report of a night, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(quality_reports).where(quality_reports.c.report_night == night)).mappings().first()
    return dict(row) if row else None


def load_quality_values(engine: Engine, night: dt.date) -> pd.DataFrame:
    """A stored report's values: region_code, indicator, value."""
    statement = select(
        quality_report_values.c.region_code, quality_report_values.c.indicator, quality_report_values.c.value
    ).where(quality_report_values.c.report_night == night)
    return _frame(engine, statement)


def previous_quality_report(engine: Engine, night: dt.date, since: dt.date | None = None) -> dt.date | None:
    """The night of the stored report to compare with: the newest before `night` (never the night's
    own report, which re-making replaces), and on or before `since` when given."""
    bound = quality_reports.c.report_night < night
    if since is not None:
        bound = and_(bound, quality_reports.c.report_night <= since)
    with engine.connect() as conn:
        value = conn.execute(select(func.max(quality_reports.c.report_night)).where(bound)).scalar()
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def list_quality_reports(engine: Engine, limit: int, offset: int = 0) -> list[dict]:
    """Stored reports, newest first."""
    statement = select(quality_reports).order_by(quality_reports.c.report_night.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(statement).mappings()]
