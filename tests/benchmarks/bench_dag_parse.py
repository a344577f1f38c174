"""Benchmark: how long the DAG processor takes to parse each DAG file — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_dag_parse.py --runs 10

Each parse runs in a fresh interpreter on a throw-away AIRFLOW_HOME: ``import airflow.sdk`` first
(the DAG processor has it loaded already, so it is timed apart), then the DAG file is imported by
path and timed. Prints median and range (min–max) over --runs per DAG file. What keeps a parse
fast, no heavy import at module level, is tested in tests/dags/test_dag_parse.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PARSE_TIMER = """
import importlib.util, json, sys, time

start = time.perf_counter()
import airflow.sdk
sdk_seconds = time.perf_counter() - start
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_file_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({"airflow_sdk": sdk_seconds, "dag_file": time.perf_counter() - start}))
"""


def airflow_env(home: Path) -> dict[str, str]:
    """The environment of a stock Airflow on `home`; no AIRFLOW_* or BIDUI_* setting is inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "BIDUI_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def parse_once(dag_file: Path, env: dict[str, str]) -> dict[str, float]:
    """Seconds to import airflow.sdk and then `dag_file`, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PARSE_TIMER, str(dag_file)], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"parsing {dag_file.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    # Airflow may log to stdout too; the timings are the last line.
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values) * 1000:.1f} ms "
        f"(range {min(values) * 1000:.1f}–{max(values) * 1000:.1f}, n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("dag_files", nargs="*", type=Path, help="DAG files to parse (default: every file in dags/)")
    args = parser.parse_args()
    dag_files = args.dag_files or sorted((ROOT / "dags").glob("*.py"))
    with tempfile.TemporaryDirectory(prefix="bidui-bench-dag-parse-") as home:
        env = airflow_env(Path(home))
        for dag_file in dag_files:
            runs = [parse_once(dag_file, env) for _ in range(args.runs)]
            print(summary(f"{dag_file.name} parse", [r["dag_file"] for r in runs]))
            print(summary("  import airflow.sdk before it (not part of a parse)", [r["airflow_sdk"] for r in runs]))


if __name__ == "__main__":
    main()
