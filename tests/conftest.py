"""Shared fixtures: a store on SQLite and, where reachable, on PostgreSQL (never skipped when CI=true)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from pipelines.settings import load_settings

POSTGRES_URL = os.environ.get("BIDUI_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _postgres_or_skip() -> None:
    try:
        sa.create_engine(POSTGRES_URL).connect().close()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path):
    """Settings on a fresh store: a SQLite file, or a throw-away PostgreSQL schema."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield load_settings(environ={}, data_dir=data_dir, show_progress=False)
        return
    _postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        yield load_settings(environ={}, data_dir=data_dir, database_url=url, show_progress=False)
    finally:
        from pipelines.store.snapshots import _engine

        _engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture
def sqlite_settings(tmp_path):
    return load_settings(environ={}, data_dir=tmp_path / "data", show_progress=False)


@pytest.fixture
def pdf_pages():
    """Each page's text of a PDF the documents wrote (pypdf: a fresh machine has no poppler)."""
    from pypdf import PdfReader

    return lambda path: [page.extract_text() or "" for page in PdfReader(path).pages]


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per folder where tests kept files for people to look at (a test names it in its
    user property 'artifacts'; here, in the main process, also when xdist ran the test)."""
    reports = [r for outcome in ("passed", "failed") for r in terminalreporter.stats.get(outcome, [])]
    for folder in sorted({value for r in reports for name, value in r.user_properties if name == "artifacts"}):
        terminalreporter.write_line(f"test artifacts: {folder}")
