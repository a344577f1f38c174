"""audit_quality_report: triggered by hand, params as_of and since, one task calling
pipelines.documents.make_quality_report."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

DESCRIBE_SCRIPT = Path(__file__).with_name("describe_dags.py")
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "audit_quality_report.py"


@pytest.fixture(scope="module")
def described(airflow_home) -> dict[str, Any]:
    proc = airflow_home.run([sys.executable, str(DESCRIBE_SCRIPT), str(airflow_home.dags_dir)], timeout=300)
    assert proc.returncode == 0, f"describe_dags.py failed:\n{airflow_home.tail(proc)}"
    bag = json.loads(proc.stdout.strip().splitlines()[-1])
    assert bag["import_errors"] == {}
    return bag["dags"]["audit_quality_report"]


def test_triggered_by_hand_with_as_of_and_since(described):
    assert described["timetable"]["class"] == "NullTimetable"
    assert described["params"] == {"as_of": None, "since": None}
    assert described["default_retries"] == 2 and not described["catchup"]
    assert list(described["tasks"]) == ["quality_report"]


def test_the_task_calls_make_quality_report_once():
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    imports = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert calls.count("make_quality_report") == 1
    assert ("pipelines.documents", "make_quality_report") in imports
