"""Real nights: ``airflow dags test nightly_comparison`` against the metadata DB of the test home."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# Hang guards, not speed checks: a night under `dags test` takes a minute or two on a loaded 2-core
# machine. _run_night stops a stuck night with its log tail before pytest-timeout's limit is reached.
RUN_TIMEOUT_SECONDS = 720
pytestmark = [
    pytest.mark.airflow,
    pytest.mark.slow,
    pytest.mark.xdist_group("airflow"),
    pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 300),
]

DELIVERY_DATE = "2026-11-20"
DEMO_DELIVERY = Path(__file__).resolve().parents[2] / "seeds" / "demo" / DELIVERY_DATE
# A failed try waits out retry_delay (minutes) inside `dags test`; stop at the first sign of it.
BAD_STATES = {"up_for_retry", "failed", "upstream_failed"}


def _query(db_path: Path, sql: str, *args: Any) -> list[tuple]:
    # Read-only, so polling cannot take a write lock from the running DAG.
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def _run_ids(db_path: Path) -> list[str]:
    rows = _query(db_path, "select run_id from dag_run where dag_id = 'nightly_comparison' order by id")
    return [run_id for (run_id,) in rows]


def _task_states(db_path: Path, run_ids: list[str]) -> dict[tuple[str, int], str]:
    marks = ",".join("?" * len(run_ids))
    rows = _query(
        db_path,
        f"select task_id, map_index, state from task_instance where dag_id = 'nightly_comparison' and run_id in ({marks})",
        *run_ids,
    )
    return {(task_id, map_index): state for task_id, map_index, state in rows}


def _xcom(db_path: Path, run_id: str, task_id: str, key: str = "return_value") -> Any:
    rows = _query(
        db_path,
        "select value from xcom where dag_id = 'nightly_comparison' and run_id = ? and task_id = ? "
        "and key = ? and map_index = -1",
        run_id,
        task_id,
        key,
    )
    assert len(rows) == 1, f"expected one XCom {task_id}.{key}, found {len(rows)}"
    value = rows[0][0]
    # SQLite hands JSON numbers back as numbers, JSON strings and containers as text.
    return json.loads(value) if isinstance(value, str) else value


def _run_night(airflow_db, logical_date: str, env: dict[str, str], conf: dict | None, log_path: Path) -> str:
    """Run ``airflow dags test`` to success and return the new run's id.

    Fails early, with the log tail, as soon as a task instance fails or goes up for retry.
    """
    cmd = [sys.executable, "-m", "airflow", "dags", "test", "nightly_comparison", logical_date]
    if conf is not None:
        cmd += ["--conf", json.dumps(conf)]
    before = _run_ids(airflow_db.db_path)
    start = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            cmd,
            env={**airflow_db.env, **env},
            cwd=airflow_db.repo_root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes any children too
        )
        try:
            while proc.poll() is None:
                new_runs = [r for r in _run_ids(airflow_db.db_path) if r not in before]
                states = _task_states(airflow_db.db_path, new_runs) if new_runs else {}
                bad = {ti: state for ti, state in states.items() if state in BAD_STATES}
                if bad or time.perf_counter() - start > RUN_TIMEOUT_SECONDS:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    why = f"task states {bad}" if bad else f"no result after {RUN_TIMEOUT_SECONDS} s"
                    pytest.fail(f"dags test stopped, {why}:\n{_tail(log_path)}")
                time.sleep(0.5)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 0, f"airflow dags test exited {proc.returncode}:\n{_tail(log_path)}"
    new_runs = [r for r in _run_ids(airflow_db.db_path) if r not in before]
    assert len(new_runs) == 1, new_runs
    run_id = new_runs[0]
    assert _query(airflow_db.db_path, "select state from dag_run where run_id = ?", run_id) == [("success",)]
    return run_id


def _tail(log_path: Path, lines: int = 80) -> str:
    return "\n".join(log_path.read_text().splitlines()[-lines:])


def _report_paths(report: dict[str, Any]) -> list[Path]:
    # finish_validation returns report paths alongside other facts; the paths are the absolute ones.
    return [Path(v) for v in report.values() if isinstance(v, str) and Path(v).is_absolute()]


def test_nightly_comparison_runs_on_the_demo_delivery(airflow_db, tmp_path):
    delivery = DEMO_DELIVERY
    assert delivery.is_dir(), f"demo delivery missing: {delivery}"
    data_dir = (tmp_path / "data").resolve()

    run_id = _run_night(
        airflow_db,
        "2026-11-20T17:00:00+00:00",  # 01:00 on the 21st in Shanghai, the run for the 20th
        env={"BIDUI_DATA_DIR": str(data_dir)},
        # The seed delivery has no _READY marker, and a fresh clone's files are minutes old.
        conf={"delivery_dir": str(delivery), "stable_minutes": 0},
        log_path=tmp_path / "dags_test.log",
    )

    conf = _query(airflow_db.db_path, "select conf from dag_run where run_id = ?", run_id)[0][0]
    assert json.loads(conf) == {"delivery_dir": str(delivery), "stable_minutes": 0}
    feeds = _xcom(airflow_db.db_path, run_id, "ingest")
    assert feeds, "ingest found no feeds to validate"
    assert _xcom(airflow_db.db_path, run_id, "ingest", "delivery_date") == DELIVERY_DATE
    counties = _xcom(airflow_db.db_path, run_id, "clues")
    assert counties, "the seed delivery has clues to issue"
    expected_tis = (
        {("wait_for_delivery", -1), ("ingest", -1), ("report", -1), ("link", -1), ("clues", -1), ("snapshot", -1)}
        | {("validate", i) for i in range(len(feeds))}
        | {("ledger", i) for i in range(len(counties))}
    )
    assert _task_states(airflow_db.db_path, [run_id]) == dict.fromkeys(expected_tis, "success")
    # Every person-level source row of the seed delivery (its _truth/links.csv has one line each).
    assert _xcom(airflow_db.db_path, run_id, "link")["counts"]["rows"] == 5350
    # One ledger workbook per county with clues, issued the day the run issues it.
    workbooks = sorted((data_dir / "ledgers" / "2026-11-21").glob("*.xlsx"))
    assert sorted(p.name.split("_")[2] for p in workbooks) == counties

    report_dir = data_dir / "reports" / DELIVERY_DATE
    report_paths = _report_paths(_xcom(airflow_db.db_path, run_id, "report"))
    assert report_paths, "report task returned no file paths"
    assert [p for p in report_paths if not (p.is_file() and report_dir in p.parents)] == []
    # The snapshot rewrote the night's counts for the trends, and the night was published.
    assert _xcom(airflow_db.db_path, run_id, "snapshot")["delivery_date"] == DELIVERY_DATE
    assert _xcom(airflow_db.db_path, run_id, "snapshot")["night_counts"] > 0
    assert _query(
        airflow_db.db_path,
        "select a.uri from asset_event e join asset a on a.id = e.asset_id "
        "where e.source_dag_id = 'nightly_comparison' and e.source_run_id = ?",
        run_id,
    ) == [("bidui://night/",)]


def test_empty_night_uses_the_default_folder_and_still_reports(airflow_db, tmp_path):
    drop_dir = (tmp_path / "drop").resolve()
    (drop_dir / "2026-11-21").mkdir(parents=True)  # a delivery folder with no feed file in it,
    (drop_dir / "2026-11-21" / "_READY").touch()  # said to be complete by its sender
    data_dir = (tmp_path / "data").resolve()

    run_id = _run_night(
        airflow_db,
        "2026-11-21T17:00:00+00:00",  # 01:00 on the 22nd in Shanghai, the run for the 21st
        env={"BIDUI_DATA_DIR": str(data_dir), "BIDUI_DROP_DIR": str(drop_dir)},
        conf=None,
        log_path=tmp_path / "dags_test.log",
    )

    summary = _xcom(airflow_db.db_path, run_id, "ingest", "summary")
    assert (summary["delivery_dir"], summary["feeds_to_validate"]) == (str(drop_dir / "2026-11-21"), [])
    # Zero feeds map zero validate instances: the mapped task is skipped, the report still runs.
    assert _task_states(airflow_db.db_path, [run_id]) == {
        ("wait_for_delivery", -1): "success",
        ("ingest", -1): "success",
        ("validate", -1): "skipped",
        ("report", -1): "success",
        ("link", -1): "success",
        ("clues", -1): "success",
        ("ledger", -1): "skipped",
        ("snapshot", -1): "success",
    }
    assert _xcom(airflow_db.db_path, run_id, "link")["counts"] == {"rows": 0}
    assert _xcom(airflow_db.db_path, run_id, "clues") == []
    report_dir = data_dir / "reports" / "2026-11-21"
    report_paths = _report_paths(_xcom(airflow_db.db_path, run_id, "report"))
    assert report_paths, "report task returned no file paths"
    assert [p for p in report_paths if not (p.is_file() and report_dir in p.parents)] == []
