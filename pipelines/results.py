"""What a stage returns: a typed result that also travels as plain JSON (Airflow XCom, report files)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

__all__ = ["StageResult", "plain"]


def plain(value: Any) -> Any:
    """A JSON value for what json cannot write itself: numpy numbers and arrays, dates, paths."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, dt.date | Path):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return str(value)


@dataclasses.dataclass
class StageResult:
    """Base of every stage's result: attributes for code, `to_dict()` for XCom and JSON files."""

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON values (what Airflow's XCom and the report files hold)."""
        value: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self), ensure_ascii=False, default=plain))
        return value
