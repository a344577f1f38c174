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


def test_every_task_has_an_execution_timeout(dagbag):
    missing = [
        f"{dag_id}.{task_id}"
        for dag_id, dag in dagbag["dags"].items()
        for task_id, task in dag["tasks"].items()
        if not task["execution_timeout"]
    ]
    assert missing == []


def test_every_task_records_its_failure_for_the_night_page(dagbag):
    callbacks = {
        f"{dag_id}.{task_id}": task["on_failure_callback"]
        for dag_id, dag in dagbag["dags"].items()
        for task_id, task in dag["tasks"].items()
    }
    assert {name: cb for name, cb in callbacks.items() if cb != ["record_failure"]} == {}


def test_nightly_comparison_wiring(dagbag):
    tasks = dagbag["dags"]["nightly_comparison"]["tasks"]
    assert {task_id: (t["upstream"], t["mapped"]) for task_id, t in tasks.items()} == {
        "wait_for_delivery": ([], False),
        "ingest": (["wait_for_delivery"], False),
        "validate": (["ingest"], True),
        "report": (["ingest", "validate"], False),
        "link": (["ingest", "validate"], False),
        "clues": (["ingest", "link"], False),
        "ledger": (["clues", "ingest"], True),
        "snapshot": (["ingest", "ledger"], False),
    }


def test_nightly_comparison_waits_for_the_delivery_without_holding_a_worker(dagbag):
    tasks = dagbag["dags"]["nightly_comparison"]["tasks"]
    # Poked every 5 minutes, for 6 hours (a delivery due by 01:00 not ready by 07:00 fails).
    assert tasks["wait_for_delivery"]["sensor"] == {"mode": "reschedule", "poke_interval": 300.0, "timeout": 21600.0}
    assert [task_id for task_id, t in tasks.items() if t["sensor"]] == ["wait_for_delivery"]


def test_the_night_is_published_as_an_asset_by_its_last_task(dagbag):
    dags = dagbag["dags"]
    outlets = {
        f"{dag_id}.{task_id}": t["outlets"] for dag_id, dag in dags.items() for task_id, t in dag["tasks"].items() if t["outlets"]
    }
    assert outlets == {
        "nightly_comparison.snapshot": ["bidui://night/"],
        "ledger_feedback.import_ledger_file": ["bidui://ledger-returns/"],
    }
    assert dags["nightly_comparison"]["tasks"]["snapshot"]["downstream"] == []
    # Skipped ledgers (no county to issue) still end in a published night.
    assert dags["nightly_comparison"]["tasks"]["snapshot"]["trigger_rule"] == "none_failed"
    # The documents keep their own dates and read the night (lineage only).
    readers = {dag_id: t["inlets"] for dag_id, dag in dags.items() for t in dag["tasks"].values() if t["inlets"]}
    assert readers == {dag_id: ["bidui://night/"] for dag_id in ("audit_quality_report", "monthly_bulletin", "weekly_reminders")}


def test_ledger_feedback_imports_each_inbox_file_as_its_own_task(dagbag):
    dag = dagbag["dags"]["ledger_feedback"]
    assert {task_id: (t["upstream"], t["mapped"]) for task_id, t in dag["tasks"].items()} == {
        "waiting_ledgers": ([], False),
        "import_ledger_file": (["waiting_ledgers"], True),
    }
    # Every 15 minutes in office hours, and after each published night.
    assert dag["timetable"] == {"class": "AssetOrTimeSchedule", "expression": "*/15 8-19 * * *", "timezone": "Asia/Shanghai"}
    assert dag["schedule_assets"] == ["bidui://night/"]
    assert (dag["catchup"], dag["max_active_runs"], dag["tags"]) == (False, 1, ["bidui", "ledgers"])


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
    assert dag["params"] == {"delivery_dir": None, "stable_minutes": 30}
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
