"""Ledgers (问题台账): a county's clues go down as a workbook and come back filled, verified and signed."""

from pipelines.ledgers.history import (
    issued_ledger,
    ledger_in_scope,
    list_imports,
    list_issued_ledgers,
    load_import,
    read_import_report,
)
from pipelines.ledgers.imports import import_ledger
from pipelines.ledgers.inbox import import_inbox_ledger, list_inbox_ledgers
from pipelines.ledgers.issue import issue_ledgers
from pipelines.ledgers.stage import LedgerIssued, issue_county_ledger
from pipelines.ledgers.values import evidence_text

__all__ = [
    "LedgerIssued",
    "evidence_text",
    "import_inbox_ledger",
    "import_ledger",
    "issue_county_ledger",
    "issue_ledgers",
    "issued_ledger",
    "ledger_in_scope",
    "list_imports",
    "list_inbox_ledgers",
    "list_issued_ledgers",
    "load_import",
    "read_import_report",
]
