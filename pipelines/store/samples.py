"""Reads and writes of the cross-check sample (交叉检查抽样): the county's villages with their
registered persons counted in SQL, the households of the sampled villages, and the samples drawn.

Only the four sampled villages' households ever leave the database: the village counts are one
GROUP BY over the night's poverty snapshots, the households are read by village code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, exists, func, select

from pipelines.catalog.feeds import SPINE_FEED
from pipelines.store.snapshots import effective_date
from pipelines.store.tables import cross_check_samples, feed_table, households, links, region_reference
from pipelines.store.upsert import upsert

__all__ = [
    "REGISTERED_HOUSEHOLD_COLUMNS",
    "list_samples",
    "load_general_households",
    "load_registered_households",
    "load_sample",
    "load_sample_villages",
    "read_distance_file",
    "write_sample",
]

REGISTERED_HOUSEHOLD_COLUMNS = [
    "household_no",
    "village_code",
    "head_name",
    "head_id",
    "identified_year",
    "status",
    "exit_year",
    "size",
]
_REGISTERED_FEEDS = ("poverty_households", "poverty_members")
# The register's 与户主关系 of a household head (as pipelines.basemap.households reads it).
HEAD_RELATION = "户主"


def load_sample_villages(
    engine: Engine, county_code: str, households_date: dt.date, members_date: dt.date | None
) -> pd.DataFrame:
    """The county's villages from the region reference, ordered by code, with `registered`: the
    建档立卡 household members of the village in the poverty snapshots of those dates (0 when none).
    Columns: village_code, name, is_poor_village, km_to_county_seat, registered."""
    ph, pm = feed_table("poverty_households"), feed_table("poverty_members")
    with engine.connect() as conn:
        regions = conn.execute(
            select(
                region_reference.c.code,
                region_reference.c.name,
                region_reference.c.is_poor_village,
                region_reference.c.km_to_county_seat,
            )
            .where((region_reference.c.level == "village") & region_reference.c.code.startswith(county_code))
            .order_by(region_reference.c.code)
        ).all()
        counts: dict[str, int] = {}
        if members_date is not None:
            statement = (
                select(ph.c.village_code, func.count(pm.c.member_no))
                .select_from(ph.join(pm, and_(pm.c.delivery_date == members_date, pm.c.household_no == ph.c.household_no)))
                .where((ph.c.delivery_date == households_date) & ph.c.village_code.startswith(county_code))
                .group_by(ph.c.village_code)
            )
            counts = {code: int(n) for code, n in conn.execute(statement).all()}
    frame = pd.DataFrame(regions, columns=["village_code", "name", "is_poor_village", "km_to_county_seat"])
    frame["registered"] = frame["village_code"].map(counts).fillna(0).astype(int)
    return frame


def load_registered_households(engine: Engine, village_codes: Sequence[str], households_date: dt.date) -> pd.DataFrame:
    """The 建档立卡 households of these villages in the poverty_households snapshot of that date
    (REGISTERED_HOUSEHOLD_COLUMNS, values as stored), ordered by household number."""
    ph = feed_table("poverty_households")
    with engine.connect() as conn:
        rows = conn.execute(
            select(*(ph.c[c] for c in REGISTERED_HOUSEHOLD_COLUMNS))
            .where((ph.c.delivery_date == households_date) & ph.c.village_code.in_(list(village_codes)))
            .order_by(ph.c.household_no)
        ).all()
    return pd.DataFrame(rows, columns=REGISTERED_HOUSEHOLD_COLUMNS)


def load_general_households(engine: Engine, village_codes: Sequence[str], link_date: dt.date) -> pd.DataFrame:
    """The base map's households of these villages seen by the night `link_date` (first seen on or
    before it, so later nights never change a sample of that date) that no poverty household or
    member was linked into that night (一般农户), with the head's name and ID number as that night
    had them. Columns: household_code, village_code, hukou_no, head_name, head_id; ordered by
    household code.

    The base map keeps only each person's newest name, so the head is read from that night itself:
    the household register row (hukou snapshot the night used) linked into the household that
    night with 与户主关系 户主, as the base map chooses its heads (the lowest person id when a
    register lists two). A household without such a row has no head named."""
    # NOT EXISTS, not NOT IN: a night's poverty links (a row per registered person) do not fit in
    # work_mem, and PostgreSQL then runs a NOT IN subquery once per household (minutes at 1M persons).
    registered = (
        exists()
        .where(
            (links.c.delivery_date == link_date)
            & links.c.feed.in_(_REGISTERED_FEEDS)
            & (links.c.household_code == households.c.household_code)
        )
        .correlate(households)
    )
    general = (
        select(households.c.household_code, households.c.village_code, households.c.hukou_no)
        .where(
            households.c.village_code.in_(list(village_codes))
            & (households.c.first_seen <= link_date)
            & (households.c.last_seen >= link_date)
            & ~households.c.household_key.startswith("poverty:")
            & ~registered
        )
        .order_by(households.c.household_code)
    )
    columns = ["household_code", "village_code", "hukou_no", "head_name", "head_id"]
    hukou_date = effective_date(engine, SPINE_FEED, link_date)
    heads: dict[str, tuple[Any, Any]] = {}
    with engine.connect() as conn:
        rows = conn.execute(general).all()
        if hukou_date is not None and rows:
            hk = feed_table(SPINE_FEED)
            candidates = general.order_by(None).subquery()
            statement = (
                select(links.c.household_code, hk.c.name, hk.c.id_number)
                .select_from(
                    links.join(candidates, candidates.c.household_code == links.c.household_code).join(
                        hk, (hk.c.delivery_date == hukou_date) & (hk.c.person_no == links.c.record_key)
                    )
                )
                .where(
                    (links.c.delivery_date == link_date)
                    & (links.c.feed == SPINE_FEED)
                    & (func.trim(hk.c.relation) == HEAD_RELATION)
                )
                .order_by(links.c.household_code, links.c.person_id, links.c.record_key)
            )
            for code, name, id_number in conn.execute(statement):
                heads.setdefault(code, (name, id_number))
    return pd.DataFrame(
        [(code, village, hukou_no, *heads.get(code, (None, None))) for code, village, hukou_no in rows], columns=columns
    )


def read_distance_file(path: Path) -> dict[str, float]:
    """Village code → distance (km) from a CSV (UTF-8, with or without BOM) whose first column is the
    12-digit 区划代码 and whose second is the distance; rows without a number are left out."""
    from pipelines.errors import BiduiError, read_problem

    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise BiduiError(f"距离文件 {path} 是空的") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BiduiError(f"读不了距离文件 {path}：{read_problem(exc)}") from exc
    if frame.shape[1] < 2:
        raise BiduiError(f"距离文件 {path} 应有两列：区划代码、距离（公里）")
    codes = frame.iloc[:, 0].fillna("").str.strip()
    km = pd.to_numeric(frame.iloc[:, 1], errors="coerce")
    return {code: float(d) for code, d in zip(codes, km, strict=True) if code and pd.notna(d)}


def write_sample(engine: Engine, row: dict[str, Any]) -> int:
    """Store a drawn sample (keyed on county, year, seed and data date: drawing it again replaces
    the row); `row['drawn']` is a JSON-able dict. Returns the sample's id."""
    values = {**row, "drawn": json.dumps(row["drawn"], ensure_ascii=False, sort_keys=True)}
    keys = ["county_code", "year", "seed", "data_date"]
    with engine.begin() as conn:
        upsert(conn, cross_check_samples, values, keys=keys)
        t = cross_check_samples.c
        return int(conn.execute(select(t.sample_id).where(and_(*(t[k] == values[k] for k in keys)))).scalar_one())


def _summary_columns() -> list:
    t = cross_check_samples.c
    return [t.sample_id, t.county_code, t.year, t.seed, t.data_date, t.user_name, t.created_at, t.file, t.villages, t.households]


def list_samples(engine: Engine, region_prefix: str | None, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The samples of counties under `region_prefix` (None: all), newest first, without `drawn`."""
    t = cross_check_samples.c
    statement = select(*_summary_columns()).order_by(t.sample_id.desc()).limit(limit).offset(offset)
    if region_prefix is not None:
        statement = statement.where(t.county_code.startswith(region_prefix, autoescape=True))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(statement)]


def load_sample(engine: Engine, sample_id: int) -> dict[str, Any] | None:
    """One stored sample with `drawn` read back from JSON, or None."""
    t = cross_check_samples.c
    with engine.connect() as conn:
        row = conn.execute(select(*_summary_columns(), t.drawn).where(t.sample_id == sample_id)).first()
    if row is None:
        return None
    sample = dict(row._mapping)
    sample["drawn"] = json.loads(sample["drawn"])
    return sample
