"""weekly_reminders: scheduled Monday 08:00 Asia/Shanghai, and a real run (``airflow dags test``)
writes the overdue lists of the site sample's counties for the run's local date."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.xdist_group("airflow")]

DESCRIBE_SCRIPT = Path(__file__).with_name("describe_dags.py")
SITE_SAMPLE = Path(__file__).resolve().parents[1] / "pipelines" / "web" / "site_sample.py"
SAMPLE_MODULE = "bidui_tests_site_sample"  # shared with tests/pipelines/web/conftest.py


@pytest.fixture(scope="module")
def dag(airflow_home) -> dict[str, Any]:
    proc = airflow_home.run([sys.executable, str(DESCRIBE_SCRIPT), str(airflow_home.dags_dir)], timeout=300)
    assert proc.returncode == 0, f"describe_dags.py failed:\n{airflow_home.tail(proc)}"
    bag = json.loads(proc.stdout.strip().splitlines()[-1])
    assert bag["import_errors"] == {}
    return bag["dags"]["weekly_reminders"]


def test_weekly_reminders_runs_on_monday_mornings_in_shanghai(dag):
    assert dag["timetable"] == {"class": "CronTriggerTimetable", "expression": "0 8 * * 1", "timezone": "Asia/Shanghai"}
    assert (dag["timezone"], dag["catchup"], dag["max_active_runs"]) == ("Asia/Shanghai", False, 1)
    assert {task_id: (t["upstream"], t["mapped"], t["retries"]) for task_id, t in dag["tasks"].items()} == {
        "remind": ([], False, 2)
    }


def _site_store(data_dir: Path, monkeypatch) -> None:
    from argon2 import PasswordHasher

    from pipelines.access import users
    from pipelines.settings import load_settings

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    if SAMPLE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, SITE_SAMPLE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module
        spec.loader.exec_module(module)
    sys.modules[SAMPLE_MODULE].build_site_store(load_settings(environ={}, data_dir=data_dir, show_progress=False))


def test_a_run_writes_the_overdue_lists_of_its_monday(airflow_db, tmp_path, monkeypatch):
    data_dir = (tmp_path / "data").resolve()
    _site_store(data_dir, monkeypatch)

    # 08:00 on Monday 2026-12-21 in Shanghai: 瓮安县's four clues (due 12-05 and 12-20) are overdue,
    # 都匀市's are still 'new'.
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "weekly_reminders", "2026-12-21T00:00:00+00:00"],
        env={**airflow_db.env, "BIDUI_DATA_DIR": str(data_dir)},
        cwd=airflow_db.repo_root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert proc.returncode == 0, airflow_db.tail(proc)
    with sqlite3.connect(f"file:{airflow_db.db_path}?mode=ro", uri=True) as conn:
        states = conn.execute(
            "select ti.task_id, ti.state from task_instance ti join dag_run r on r.run_id = ti.run_id "
            "where ti.dag_id = 'weekly_reminders' and r.logical_date like '2026-12-21%'"
        ).fetchall()
        [(value,)] = conn.execute(
            "select value from xcom where dag_id = 'weekly_reminders' and task_id = 'remind' and key = 'return_value'"
        ).fetchall()
    assert states == [("remind", "success")]
    result = json.loads(value) if isinstance(value, str) else value
    assert {k: result[k] for k in ("date", "counties", "clues")} == {"date": "2026-12-21", "counties": 1, "clues": 4}
    assert [p.name for p in (data_dir / "reminders" / "2026-12-21").iterdir()] == ["逾期线索_瓮安县_522725_2026-12-21.xlsx"]
