"""A throw-away Airflow home for the DAG tests, used only through subprocesses.

Airflow is never imported into the pytest process: importing it reconfigures logging and
``sys.path`` process-wide, which would leak into other tests sharing an xdist worker. Every
Airflow step (DagBag, DAG file imports, ``airflow dags test``) runs in a child interpreter with the
environment built here. Child timeouts only catch a hung child: they sit far above what a loaded
2-core machine takes, and below pytest-timeout's limit so the failure shows the child's output.

``AIRFLOW__CORE__UNIT_TEST_MODE`` is deliberately left unset: it swaps the whole configuration for
Airflow's own ``unit_tests.cfg`` (Airflow's test DAG folder, example DAGs on, a RabbitMQ broker),
which is meant for Airflow's test suite, not for checking that our DAGs run on a stock config.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["AirflowHome", "airflow_db", "airflow_home"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"


@dataclass
class AirflowHome:
    """An AIRFLOW_HOME on a SQLite metadata DB, and the environment that points Airflow at it."""

    path: Path
    env: dict[str, str]

    repo_root: Path = REPO_ROOT
    dags_dir: Path = DAGS_DIR

    @property
    def db_path(self) -> Path:
        return self.path / "airflow.db"

    @staticmethod
    def tail(proc: subprocess.CompletedProcess[str], lines: int = 60) -> str:
        """The last lines of a finished process's output, for assertion messages."""
        return "\n".join(((proc.stdout or "") + (proc.stderr or "")).splitlines()[-lines:])

    def python(self, code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``python -c code args`` with this home's environment."""
        return self.run([sys.executable, "-c", code, *args], timeout=timeout)

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` CLI of this interpreter with this home's environment."""
        return self.run([sys.executable, "-m", "airflow", *args], timeout=timeout)

    def run(self, cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, env=self.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def _airflow_env(home: Path) -> dict[str, str]:
    # Inherited AIRFLOW_* or BIDUI_* settings (a developer's own Airflow, a real bidui database)
    # must never reach a test run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "BIDUI_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_DIR),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        # Tasks import `pipelines`; the repo root makes that work before the editable install.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """A fresh AIRFLOW_HOME (no metadata DB yet); fails, never skips, when Airflow is missing."""
    if importlib.util.find_spec("airflow") is None:
        pytest.fail(f"apache-airflow is not installed in {sys.executable}; the DAG tests need it")
    home = tmp_path_factory.mktemp("airflow_home")
    return AirflowHome(path=home, env=_airflow_env(home))


@pytest.fixture(scope="session")
def airflow_db(airflow_home: AirflowHome) -> AirflowHome:
    """The same home with its metadata DB migrated, once per test session (per xdist worker)."""
    proc = airflow_home.airflow("db", "migrate", timeout=300)
    assert proc.returncode == 0, f"airflow db migrate failed:\n{airflow_home.tail(proc)}"
    return airflow_home
