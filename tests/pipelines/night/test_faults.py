"""Faults a night survives without a cluster (issue 12, item 4): every stage run again as the DAG's
retry would changes nothing; the store failing in the middle of link or clues leaves nothing of that
stage written, and the retry gives the undisturbed night; a ledger or report whose writing breaks
off is never seen under its final name.

A validation report cut off between its files is tests/pipelines/reports/test_report.py
(test_a_failed_write_leaves_the_previous_report_whole). The worker killed mid-link and two nights
at once are tested on the Celery cluster."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines import store
from pipelines.clues import counties_with_new_clues, run_clue_night
from pipelines.ingest import ingest_delivery
from pipelines.ledgers import issue_county_ledger
from pipelines.link import link_night
from pipelines.night import run_night, snapshot_night
from pipelines.settings import Settings, load_settings
from pipelines.store.tables import clue_events, metadata
from pipelines.validate import finish_validation, validate_feed

SEED = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20"
DAY = "2026-11-20"
ISSUED = dt.date(2026, 11, 21)  # the DAG issues a night's ledgers the day after its data date

# Columns that record when something ran, not what it wrote: a re-run or a retry writes its own
# clock there. `seconds` is how long a rule took.
WALL_CLOCK = {
    "deliveries": {"ingested_at"},
    "feed_loads": {"loaded_at", "validated_at"},
    "rule_runs": {"seconds"},
    "clue_events": {"at"},
    "ledger_issues": {"issued_at"},
    "nights": {"opened_at"},
}
# findings.id counts the rows a replace inserts: a re-run deletes and inserts the same findings under
# new numbers. Nothing refers to it; readers order by (feed, row_no, id), the same either way.
RENUMBERED = {"findings": {"id"}}
# Between two stores (not within one): the audit chain hashes each event with its time.
CHAIN = {"clue_events": {"prev_hash", "chain_hash"}, "clue_chain": {"head_hash"}}


def store_rows(settings: Settings, *ignored: dict[str, set[str]]) -> dict[str, pd.DataFrame]:
    """Every table of the store, all columns but the ignored ones, rows in order of all columns."""
    ignore = {name: set().union(*(i.get(name, set()) for i in (WALL_CLOCK, RENUMBERED, *ignored))) for name in metadata.tables}
    engine = store.connect(settings)
    tables = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in ignore[table.name]]
            rows = conn.execute(sa.select(*columns).order_by(*columns)).all()
            # Paths inside the data folder (ledger_issues.file) as the same path in any store.
            data_dir = str(settings.data_dir)
            tables[table.name] = pd.DataFrame(
                [[v.replace(data_dir, "DATA") if isinstance(v, str) else v for v in row] for row in rows],
                columns=[c.name for c in columns],
            )
    return tables


# Where clue event numbers are kept. A PostgreSQL sequence is not rolled back with its transaction:
# a try that failed used numbers up, and the retry's events are numbered after them.
EVENT_IDS = {"clue_events": "event_id", "clue_chain": "head_event_id", "ledger_rows": "event_id", "nights": "last_event_id"}


def numbered_in_order(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with every clue event number replaced by its place among the events (1, 2, …)."""
    place = {event: n for n, event in enumerate(sorted(tables["clue_events"]["event_id"]), start=1)}
    place[0] = 0  # nights.last_event_id of a night opened before any event
    return {
        name: t.assign(**{EVENT_IDS[name]: t[EVENT_IDS[name]].map(place)}) if name in EVENT_IDS else t
        for name, t in tables.items()
    }


def assert_same_rows(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert list(got) == list(expected)
    for name, rows in expected.items():
        pd.testing.assert_frame_equal(got[name], rows, obj=name)


def ledger_cells(settings: Settings, events_in_order: bool = False) -> dict[str, list[tuple]]:
    """Every ledger workbook of the night: file name → every sheet's cell values. With
    `events_in_order`, the issue mark's event number (county/date/event) as its place among the events."""
    place: dict[int, int] = {}
    if events_in_order:
        with store.connect(settings).connect() as conn:
            ids = conn.execute(sa.select(clue_events.c.event_id).order_by(clue_events.c.event_id)).scalars()
            place = {event: n for n, event in enumerate(ids, start=1)}

    def cell(value):
        mark = re.fullmatch(r"(\d{6}/\d{4}-\d{2}-\d{2}/)(\d+)", value) if place and isinstance(value, str) else None
        return f"{mark[1]}{place[int(mark[2])]}" if mark else value

    folder = settings.data_dir / "ledgers" / ISSUED.isoformat()
    return {
        path.name: [
            tuple(cell(v) for v in row)
            for sheet in openpyxl.load_workbook(path).worksheets
            for row in sheet.iter_rows(values_only=True)
        ]
        for path in sorted(folder.iterdir())
    }


def files_written(settings: Settings) -> list[str]:
    return sorted(str(p.relative_to(settings.data_dir)) for p in settings.data_dir.rglob("*") if p.is_file())


def ingest_and_validate(settings: Settings) -> None:
    """The DAG's ingest, validate (once per feed) and report tasks."""
    feeds = ingest_delivery(settings, SEED).feeds_to_validate
    for feed in feeds:
        validate_feed(settings, DAY, feed)
    finish_validation(settings, DAY)


def ledgers_and_snapshot(settings: Settings) -> list[str]:
    """The DAG's ledger tasks (once per county with clues to issue) and its snapshot task."""
    counties = counties_with_new_clues(settings)
    for county in counties:
        issue_county_ledger(settings, county, ISSUED)
    snapshot_night(settings, DAY)
    return counties


def whole_night(settings: Settings) -> None:
    """Every task of the DAG once, in its order."""
    ingest_and_validate(settings)
    link_night(settings, DAY)
    run_clue_night(settings, DAY)
    ledgers_and_snapshot(settings)


# --- 1. re-running a finished night -----------------------------------------------------------


@pytest.mark.slow
def test_every_task_of_a_finished_night_run_again_changes_no_row(settings):
    whole_night(settings)
    before, ledgers, files = store_rows(settings), ledger_cells(settings), files_written(settings)
    assert len(before["links"]) > 0 and len(before["clues"]) > 0 and len(before["ledger_issues"]) > 0
    assert len(before["night_counts"]) > 0 and len(ledgers) == len(before["ledger_issues"])

    whole_night(settings)  # each task retried after it had finished
    assert_same_rows(store_rows(settings), before)
    assert ledger_cells(settings) == ledgers
    assert files_written(settings) == files

    night = run_night(settings, SEED)  # and the night run again by hand
    assert night.link_error is None and night.clue_error is None
    assert (night.clues.new, night.clues.changed) == (0, 0)
    assert_same_rows(store_rows(settings), before)
    assert files_written(settings) == files


# --- 2. the store unreachable for a while -------------------------------------------------------


def lost_connection(engine: sa.Engine) -> Exception:
    """The error the database driver raises when the server goes away mid-statement."""
    if engine.dialect.name == "postgresql":
        import psycopg2

        return psycopg2.OperationalError("server closed the connection unexpectedly")
    import sqlite3

    return sqlite3.OperationalError("disk I/O error")


@contextlib.contextmanager
def store_lost_at(settings: Settings, statement: str) -> Iterator[list[str]]:
    """The store drops every statement from the first one that starts with `statement` (lowercase
    SQL, e.g. 'insert into rule_runs') until the block ends: the connection lost in the middle of
    a stage's writes. Yields the statements refused."""
    engine = store.connect(settings)
    refused: list[str] = []

    def drop(conn, cursor, sql, parameters, context, executemany):
        if refused or " ".join(sql.lower().split()).startswith(statement):
            refused.append(sql)
            raise lost_connection(engine)

    sa.event.listen(engine, "before_cursor_execute", drop)
    try:
        yield refused
    finally:
        sa.event.remove(engine, "before_cursor_execute", drop)
    engine.dispose()  # the lost connections go; the retry connects afresh


@contextlib.contextmanager
def workbook_then_cut_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The ledger workbook written in full to its temporary name, then the disk full."""
    from pipelines.ledgers import issue

    real = issue.write_ledger_workbook

    def write_then_fail(path, *args, **kwargs):
        real(path, *args, **kwargs)
        raise OSError("cut off: no space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(issue, "write_ledger_workbook", write_then_fail)
        yield


@pytest.fixture
def undisturbed(settings, tmp_path) -> Iterator[Settings]:
    """A second store of the same kind as `settings`, for the night run without a fault."""
    if not settings.database_url.startswith("postgresql"):
        yield load_settings(environ={}, data_dir=tmp_path / "undisturbed", show_progress=False)
        return
    from tests.conftest import POSTGRES_URL

    schema = f"faults_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        yield load_settings(environ={}, data_dir=tmp_path / "undisturbed", database_url=url, show_progress=False)
    finally:
        store.connect(load_settings(environ={}, database_url=url), migrate_schema=False).dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.mark.slow
def test_a_night_cut_off_mid_link_clues_or_ledger_leaves_nothing_and_its_retries_give_the_undisturbed_night(
    settings, undisturbed, monkeypatch
):
    ingest_and_validate(settings)
    before_link = store_rows(settings)
    # write_base_map: links and review queue are in, the model and persons are next.
    with store_lost_at(settings, "insert into linkage_models") as refused, pytest.raises(sa.exc.OperationalError):
        link_night(settings, DAY)
    assert refused
    assert_same_rows(store_rows(settings), before_link)
    link_night(settings, DAY)  # the task's retry

    before_clues = store_rows(settings)
    # Tonight's clues and their events are in, the rule runs are next; then, the rule runs in, the
    # night's problem counts for the trends.
    for lost_at in ("delete from rule_runs", "delete from night_counts"):
        with store_lost_at(settings, lost_at) as refused, pytest.raises(sa.exc.OperationalError):
            run_clue_night(settings, DAY)
        assert refused
        assert_same_rows(store_rows(settings), before_clues)
    run_clue_night(settings, DAY)

    # The ledger stage cut off once a county's workbook is written in full, before it is renamed
    # into place: a first issue leaves no workbook, a re-issue leaves yesterday's whole.
    first_county = counties_with_new_clues(settings)[0]
    with workbook_then_cut_off(monkeypatch):
        before_ledger = store_rows(settings)
        with pytest.raises(OSError, match="cut off"):
            issue_county_ledger(settings, first_county, ISSUED)
        assert_same_rows(store_rows(settings), before_ledger)
        assert [p for p in (settings.data_dir / "ledgers").rglob("*") if p.is_file()] == []  # nor a temporary
    ledgers_and_snapshot(settings)
    folder = settings.data_dir / "ledgers" / ISSUED.isoformat()
    issued = {path.name: path.read_bytes() for path in folder.iterdir()}
    with workbook_then_cut_off(monkeypatch):
        before_ledger = store_rows(settings)
        with pytest.raises(OSError, match="cut off"):
            issue_county_ledger(settings, first_county, ISSUED)
        assert_same_rows(store_rows(settings), before_ledger)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == issued

    whole_night(undisturbed)
    assert_same_rows(numbered_in_order(store_rows(settings, CHAIN)), numbered_in_order(store_rows(undisturbed, CHAIN)))
    assert ledger_cells(settings, events_in_order=True) == ledger_cells(undisturbed, events_in_order=True)
