"""Every DAG file imports nothing heavy at module level, so the DAG processor parses it in milliseconds.

Parse speed is guarded by what a parse imports, not by a stopwatch: on a loaded machine a timing
limit fails at random, while an import of pandas or of a pipeline stage is always there to see.
Each file is imported by path in a fresh interpreter, as the DAG processor does, after
``airflow.sdk`` (which the processor has already loaded). tests/benchmarks/bench_dag_parse.py prints
how long a parse takes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

DAG_FILES = sorted((Path(__file__).resolve().parents[2] / "dags").glob("*.py"))
# Modules that belong inside task bodies (STYLE.md): data stacks, database tooling and our own
# pipeline code. Only modules airflow.sdk does not import itself are listed (it already loads
# sqlalchemy with every dialect, pydantic, jinja2 and rich); the first test keeps it that way.
HEAVY_MODULES = (
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "recordlinkage",
    "great_expectations",
    "openpyxl",
    "alembic",
    "psycopg2",
    "pipelines",
    "matchers",
    "expectations",
)

IMPORT_DAG_FILE = """
import importlib.util, json, sys
import airflow.sdk

with_airflow = sorted(sys.modules)
spec = importlib.util.spec_from_file_location("dag_file_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({"airflow_sdk": with_airflow, "after_dag_file": sorted(sys.modules)}))
"""


def _heavy(modules: list[str]) -> list[str]:
    """The heavy top-level packages among `modules`."""
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY_MODULES))


@pytest.fixture(scope="module", params=DAG_FILES, ids=lambda f: f.name)
def imported(request, airflow_home) -> dict[str, list[str]]:
    """The modules loaded after ``import airflow.sdk``, then after importing one DAG file."""
    proc = airflow_home.python(IMPORT_DAG_FILE, str(request.param))
    assert proc.returncode == 0, airflow_home.tail(proc)
    # Airflow may log to stdout too; the module lists are the last line.
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_there_are_dag_files():
    assert [f.name for f in DAG_FILES if f.name == "nightly_comparison.py"] == ["nightly_comparison.py"]


def test_airflow_sdk_itself_imports_none_of_the_heavy_modules(imported):
    assert _heavy(imported["airflow_sdk"]) == []


def test_dag_file_imports_no_heavy_module(imported):
    assert _heavy(imported["after_dag_file"]) == []
