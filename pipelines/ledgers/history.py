"""What was issued and what came back, as a user may read it (the site's ledger pages): the
ledgers issued for the counties in a scope (ledger_issues), the returned ledgers imported
(ledger_imports) and an import's report.

A county ledger is in a scope when the whole county is (a region of 4 or 6 digits holding it): a
ledger carries every township of its county, so a scope smaller than a county reaches none. An
import is in a scope when the viewer made it, or someone whose own region lies inside the viewer's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, or_, select

from pipelines import store
from pipelines.access import Scope
from pipelines.store.tables import ledger_imports, ledger_issues, users

__all__ = [
    "issued_ledger",
    "ledger_in_scope",
    "list_imports",
    "list_issued_ledgers",
    "load_import",
    "read_import_report",
]

# The report's summary lines (pipelines.ledgers.import_report.write_report) and its table header.
_REPORT_HEADER = ("工作表", "行号", "线索编号", "退回原因")
_REPORT_MAX_ROWS = 110_000  # a ledger holds at most 100,000 rows (pipelines.ledgers.reading)


def ledger_in_scope(scope: Scope, county_code: str) -> bool:
    """Whether the county's ledger lies within the scope (the whole county in the user's region)."""
    region = scope.region_code
    if region is None:
        return True
    return len(region) <= 6 and county_code.startswith(region)


def _issues_condition(scope: Scope):
    region = scope.region_code
    if region is None:
        return ledger_issues.c.county_code.is_not(None)
    if len(region) > 6 or not region.isdigit():
        return ledger_issues.c.county_code.is_(None)  # nothing: the column is never NULL
    return ledger_issues.c.county_code.startswith(region)


def list_issued_ledgers(engine: Engine, scope: Scope, limit: int, offset: int = 0) -> list[dict]:
    """The ledgers issued for counties in the scope, newest issue date first: county_code,
    issue_date, file, clues, issued_by, issued_at and `on_disk` (whether the workbook is still there)."""
    statement = (
        select(ledger_issues)
        .where(_issues_condition(scope))
        .order_by(ledger_issues.c.issue_date.desc(), ledger_issues.c.county_code)
        .limit(limit)
        .offset(offset or None)
    )
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(statement).mappings()]
    return [{**row, "on_disk": Path(row["file"]).is_file()} for row in rows]


def issued_ledger(engine: Engine, county_code: str, issue_date: dt.date) -> dict | None:
    """The ledger_issues row of a county and issue date, or None (the caller checks the scope)."""
    key = (ledger_issues.c.county_code == county_code) & (ledger_issues.c.issue_date == issue_date)
    with engine.connect() as conn:
        row = conn.execute(select(ledger_issues).where(key)).mappings().first()
    return dict(row) if row else None


def _imports_condition(scope: Scope):
    own = ledger_imports.c.user_name == scope.user_name
    region = scope.region_code
    if region is None:
        return ledger_imports.c.user_name.is_not(None)
    if not region.isdigit():
        return own
    colleagues = select(users.c.user_name).where(users.c.region_code.startswith(region))
    return or_(own, ledger_imports.c.user_name.in_(colleagues))


def list_imports(engine: Engine, scope: Scope, limit: int, offset: int = 0) -> list[dict]:
    """The returned ledgers imported within the scope, newest first (the ledger_imports rows)."""
    statement = (
        select(ledger_imports)
        .where(_imports_condition(scope))
        .order_by(ledger_imports.c.imported_at.desc(), ledger_imports.c.import_id.desc())
        .limit(limit)
        .offset(offset or None)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(statement).mappings()]


def load_import(engine: Engine, scope: Scope, import_id: int) -> dict | None:
    """One import's ledger_imports row, or None when there is none within the scope (said alike, so
    nothing tells that an import of another county exists)."""
    statement = select(ledger_imports).where((ledger_imports.c.import_id == import_id) & _imports_condition(scope))
    with engine.connect() as conn:
        row = conn.execute(statement).mappings().first()
    return dict(row) if row else None


def read_import_report(path: str | Path | None) -> dict | None:
    """An import report workbook read back: {summary: [(label, value)], rejections: [{sheet, row,
    clue_id, reason}]}; None when the file is gone or unreadable."""
    if not path or not Path(path).is_file():
        return None
    try:
        [sheet] = store.read_sheets(Path(path), max_rows=_REPORT_MAX_ROWS, max_cols=4, first_only=True)
    except store.WorkbookUnreadable:
        return None
    rows = [[("" if cell is None else str(cell)) for cell in row] + [""] * 4 for row in sheet.rows]
    top = next((i for i, row in enumerate(rows) if tuple(row[:4]) == _REPORT_HEADER), len(rows))
    summary = [(row[0], row[1]) for row in rows[:top] if row[0]]
    rejections = [
        {"sheet": row[0], "row": row[1].removesuffix(".0"), "clue_id": row[2], "reason": row[3]}
        for row in rows[top + 1 :]
        if row[3]
    ]
    return {"summary": summary, "rejections": rejections}
