"""The ledger stage of the night: one county's new clues issued as its ledger workbook."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.ledgers.issue import issue_ledgers
from pipelines.results import StageResult
from pipelines.settings import Settings

__all__ = ["LedgerIssued", "issue_county_ledger"]


@dataclass
class LedgerIssued(StageResult):
    """One county's ledger of one issue date: the workbook and how many clues went down in it."""

    county_code: str
    clues: int
    county_name: str | None = None
    issue_date: str | None = None
    file: str | None = None
    issued_now: int = 0
    carried_reopened: int = 0
    sheets: list[str] | None = None
    masked: bool = True


def issue_county_ledger(settings: Settings, county: str, issue_date: dt.date | str) -> LedgerIssued:
    """Issue one county's new clues as its ledger workbook, on the prefecture's behalf."""
    issue_date = dt.date.fromisoformat(issue_date) if isinstance(issue_date, str) else issue_date
    issued = issue_ledgers(store.connect(settings), settings, Scope.system(), issue_date, counties=[county])
    if not issued:
        return LedgerIssued(county_code=county, clues=0)
    done = issued[0]
    return LedgerIssued(**{**done, "file": str(done["file"])})
