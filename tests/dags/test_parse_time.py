"""Every DAG file parses in well under a second and imports nothing heavy at module level.

Parse time here is the time to execute the DAG file once ``airflow.sdk`` is already imported,
because that is what the DAG processor pays per file: its parsing processes start with Airflow
loaded. Importing ``airflow.sdk`` itself takes a few seconds on this machine and is not counted.
Each file is timed in a fresh interpreter so one file's imports cannot warm up another's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("airflow")

DAG_FILES = sorted((Path(__file__).resolve().parents[2] / "dags").glob("*.py"))
MAX_PARSE_SECONDS = 1.0
# Modules that belong inside task bodies (STYLE.md): data stacks and our own pipeline code.
HEAVY_MODULES = (
    "pandas",
    "numpy",
    "recordlinkage",
    "great_expectations",
    "pipelines",
    "matchers",
    "expectations",
)

PARSE_TIMER = """
import json, runpy, sys, time
import airflow.sdk  # preloaded in the DAG processor, so not part of a file's parse time

before = set(sys.modules)
start = time.perf_counter()
runpy.run_path(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "new_modules": sorted(set(sys.modules) - before)}))
"""


def test_there_are_dag_files():
    assert [f.name for f in DAG_FILES if f.name == "nightly_comparison.py"] == ["nightly_comparison.py"]


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda f: f.name)
def test_dag_file_parses_fast_without_heavy_imports(airflow_home, dag_file):
    proc = airflow_home.python(PARSE_TIMER, str(dag_file))
    assert proc.returncode == 0, airflow_home.tail(proc)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    heavy = [m for m in result["new_modules"] if m.split(".")[0] in HEAVY_MODULES]
    assert heavy == []
    assert result["seconds"] < MAX_PARSE_SECONDS, f"{dag_file.name} took {result['seconds']:.3f} s to parse"
