"""The DAG folder loads cleanly, and nightly_comparison is wired and scheduled as specified."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

DESCRIBE_SCRIPT = Path(__file__).with_name("describe_dags.py")


@pytest.fixture(scope="module")
def dagbag(airflow_home) -> dict[str, Any]:
    """The DagBag of dags/, as described by describe_dags.py in a child interpreter."""
    proc = airflow_home.run([sys.executable, str(DESCRIBE_SCRIPT), str(airflow_home.dags_dir)], timeout=300)
    assert proc.returncode == 0, f"describe_dags.py failed:\n{airflow_home.tail(proc)}"
    # Airflow logs to stdout too; the description is the last line.
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_dag_folder_has_no_import_errors(dagbag):
    assert dagbag["import_errors"] == {}
    assert "nightly_comparison" in dagbag["dags"]


def test_every_task_retries_at_least_twice(dagbag):
    too_few = {
        f"{dag_id}.{task_id}": task["retries"]
        for dag_id, dag in dagbag["dags"].items()
        for task_id, task in dag["tasks"].items()
        if task["retries"] < 2
    }
    assert too_few == {}


def test_every_dag_has_tags(dagbag):
    untagged = [dag_id for dag_id, dag in dagbag["dags"].items() if not dag["tags"]]
    assert untagged == []


def test_nightly_comparison_wiring(dagbag):
    tasks = dagbag["dags"]["nightly_comparison"]["tasks"]
    assert {task_id: (t["upstream"], t["mapped"]) for task_id, t in tasks.items()} == {
        "ingest": ([], False),
        "validate": (["ingest"], True),
        "report": (["ingest", "validate"], False),
        "link": (["ingest", "validate"], False),
        "clues": (["ingest", "link"], False),
        "ledger": (["clues", "ingest"], True),
    }


def test_nightly_comparison_follows_the_one_night_chain(dagbag):
    """The DAG's tasks are the stages of pipelines.night, and every edge runs forward in its order."""
    from pipelines.night import STAGES

    tasks = dagbag["dags"]["nightly_comparison"]["tasks"]
    assert set(tasks) == set(STAGES)
    backwards = [
        (up, task_id) for task_id, t in tasks.items() for up in t["upstream"] if STAGES.index(up) >= STAGES.index(task_id)
    ]
    assert backwards == []


def test_nightly_comparison_schedule_and_settings(dagbag):
    dag = dagbag["dags"]["nightly_comparison"]
    assert dag["timetable"] == {
        "class": "CronTriggerTimetable",
        "expression": "0 1 * * *",
        "timezone": "Asia/Shanghai",
    }
    assert dag["timezone"] == "Asia/Shanghai"
    assert (dag["catchup"], dag["max_active_runs"], dag["default_retries"]) == (False, 1, 2)
    assert dag["tags"] == ["bidui", "nightly"]
    assert dag["params"] == {"delivery_dir": None}
    assert dag["has_doc_md"] is True


DATA_DATES = """
import json, runpy, sys
from datetime import datetime
from pathlib import Path

dag_module = runpy.run_path(sys.argv[1])
moments = json.loads(sys.argv[2])
print(json.dumps({
    m: [str(dag_module["data_date_for"](datetime.fromisoformat(m))),
        str(dag_module["default_delivery_dir"](Path("/drop"), datetime.fromisoformat(m)))]
    for m in moments
}))
"""


def test_data_date_is_the_day_before_the_run_in_shanghai(airflow_home):
    moments = [
        "2026-11-20T17:00:00+00:00",  # the scheduled run: 21st 01:00 in Shanghai
        "2026-11-20T15:59:59+00:00",  # 20th 23:59:59 in Shanghai
        "2026-11-20T16:00:00+00:00",  # 21st 00:00 in Shanghai, still the 20th in UTC
        "2026-12-31T17:00:00+00:00",  # 1 January 01:00 in Shanghai
        "2026-11-21T01:00:00+08:00",  # already local
    ]
    dag_file = airflow_home.dags_dir / "nightly_comparison.py"
    proc = airflow_home.python(DATA_DATES, str(dag_file), json.dumps(moments))
    assert proc.returncode == 0, airflow_home.tail(proc)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "2026-11-20T17:00:00+00:00": ["2026-11-20", "/drop/2026-11-20"],
        "2026-11-20T15:59:59+00:00": ["2026-11-19", "/drop/2026-11-19"],
        "2026-11-20T16:00:00+00:00": ["2026-11-20", "/drop/2026-11-20"],
        "2026-12-31T17:00:00+00:00": ["2026-12-31", "/drop/2026-12-31"],
        "2026-11-21T01:00:00+08:00": ["2026-11-20", "/drop/2026-11-20"],
    }


def test_monthly_bulletin_runs_on_the_5th_at_8_in_shanghai_as_one_task(dagbag):
    dag = dagbag["dags"]["monthly_bulletin"]
    assert dag["timetable"] == {"class": "CronTriggerTimetable", "expression": "0 8 5 * *", "timezone": "Asia/Shanghai"}
    assert {task_id: (t["upstream"], t["mapped"]) for task_id, t in dag["tasks"].items()} == {"bulletin": ([], False)}
    assert (dag["catchup"], dag["max_active_runs"], dag["tags"]) == (False, 1, ["bidui", "documents"])
