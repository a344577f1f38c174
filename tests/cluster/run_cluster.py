"""`make cluster-test`: one night of the demo delivery on Airflow's CeleryExecutor, two workers.

    .venv/bin/python tests/cluster/run_cluster.py [--dags-folder DIR] [--run-timeout 300]

A script, not a pytest test: it starts a small Airflow deployment of its own and prints figures.
Everything it uses is made fresh and removed at the end, also on failure or Ctrl-C:

- a PostgreSQL database for Airflow's metadata and Celery's results (random name), two schemas in
  the test database for bidui's store (the night under Airflow, and the same night run directly);
- an empty Redis database number as Celery's broker (only that number is flushed afterwards);
- a temp folder with AIRFLOW_HOME, BIDUI_DATA_DIR and every process's log.

It migrates the metadata database, starts api-server, scheduler, dag-processor and two Celery
workers (`airflow celery worker --celery-hostname worker1@%h`, each in its own process group),
triggers nightly_comparison on seeds/demo/2026-11-20 through the REST API, waits for the run,
and asserts: the run succeeded, task instances ran on both workers (each worker records its own
name as the task instances' hostname, see worker_hostname.py), and the night's clues in the store
are those of `run_night` on the same delivery. Exit 0 on success, 1 on failure; with PostgreSQL or
Redis unreachable it skips (exit 0, reason printed) unless CI=true, when it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from processes import AirflowProcesses, Failed, interrupt_on_sigterm
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DAG_ID = "nightly_comparison"
DELIVERY = ROOT / "seeds" / "demo" / "2026-11-20"
LOGICAL_DATE = "2026-11-20T17:00:00+00:00"  # 01:00 on the 21st in Shanghai, the run for the 20th
WORKERS = ("worker1", "worker2")
POSTGRES_URL = os.environ.get("BIDUI_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BIDUI_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# The seed delivery is complete as checked out: a fresh clone's files are minutes old, and the
# wait_for_delivery sensor need not wait for them to stand still.
CONF = {"delivery_dir": str(DELIVERY), "stable_minutes": 0}
# A failed try waits out the DAG's retry_delay (minutes): stop at the first sign of one.
BAD_STATES = {"up_for_retry", "failed", "upstream_failed"}
# The columns that say which clue it is, not when or under which id it was made, nor its status:
# under Airflow the ledger tasks issue the clues, run_night stops before the ledgers.
CLUE_COLUMNS = "rule, subject_feed, subject_key, person_id, household_code, county_code, evidence_hash"


class Skip(Exception):
    """A service the test needs is not there (a failure when CI=true)."""


@dataclass
class Cluster:
    """The names and folders of one run, and the processes started for it."""

    work: Path
    port: int
    redis_db: int
    token: str = ""

    @property
    def home(self) -> Path:
        return self.work / "airflow"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @cached_property
    def processes(self) -> AirflowProcesses:
        return AirflowProcesses(logs=self.work / "logs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dags-folder", type=Path, default=ROOT / "dags")
    parser.add_argument("--concurrency", type=int, default=1, help="task slots per worker")
    parser.add_argument("--start-timeout", type=float, default=240, help="seconds for the cluster to come up")
    parser.add_argument("--run-timeout", type=float, default=300, help="seconds for the night to finish")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs) for a look afterwards")
    args = parser.parse_args()
    interrupt_on_sigterm()
    started = time.perf_counter()
    try:
        with ExitStack() as cleanup:
            run(args, cleanup)
    except Skip as why:
        if os.environ.get("CI") == "true":
            print(f"cluster-test 失败：CI=true 时不可跳过。{why}", file=sys.stderr)
            return 1
        print(f"cluster-test 跳过：{why}")
        return 0
    except Failed as why:
        print(f"\ncluster-test FAILED after {time.perf_counter() - started:.0f} s: {why}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncluster-test interrupted; everything it started is stopped and removed", file=sys.stderr)
        return 130
    print(f"cluster-test passed in {time.perf_counter() - started:.0f} s")
    return 0


def run(args: argparse.Namespace, cleanup: ExitStack) -> None:
    """Make the cluster, run the night, check it; `cleanup` undoes each step in reverse order."""
    t0 = time.perf_counter()
    admin = _postgres_admin()
    redis_db = cleanup.enter_context(_redis_db())
    tag = secrets.token_hex(4)
    airflow_db = cleanup.enter_context(_database(admin, f"cluster_af_{tag}"))
    night_schema = cleanup.enter_context(_schema(admin, f"cluster_{tag}_airflow"))
    direct_schema = cleanup.enter_context(_schema(admin, f"cluster_{tag}_direct"))
    work = Path(tempfile.mkdtemp(prefix=f"cluster-{tag}-"))
    if not args.keep:
        cleanup.callback(shutil.rmtree, work, ignore_errors=True)
    cluster = Cluster(work=work, port=_free_port(), redis_db=redis_db)
    env = _airflow_env(cluster, airflow_db, _store_url(night_schema), args)
    print(f"cluster-test {tag}: metadata database {airflow_db.database}, store schema {night_schema}, redis db {redis_db}")
    print(f"  work folder {work}{' (kept)' if args.keep else ''}, dags {args.dags_folder}")

    processes = cluster.processes
    migrated = processes.run("migrate", env, "db", "migrate")
    print(f"airflow db migrate: {migrated:.0f} s")

    t_start = time.perf_counter()
    cleanup.callback(processes.stop_all)
    processes.start("api-server", env, "api-server", "--port", str(cluster.port))
    processes.start("scheduler", env, "scheduler")
    processes.start("dag-processor", env, "dag-processor")
    for name in WORKERS:
        worker_env = {**env, "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_hostname.hostname", "CLUSTER_WORKER_HOSTNAME": name}
        # Each worker serves no logs (the two would want one port; both write the same log folder).
        processes.start(name, worker_env, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs")
    _wait_until_up(cluster, args.start_timeout)
    start_seconds = time.perf_counter() - t_start
    print(f"cluster up (api-server, scheduler, dag-processor, {len(WORKERS)} workers, DAG parsed): {start_seconds:.0f} s")

    t_run = time.perf_counter()
    run_id = _trigger(cluster)
    tis = _wait_for_run(cluster, run_id, args.run_timeout)
    run_seconds = time.perf_counter() - t_run
    print(f"night {run_id}: success in {run_seconds:.0f} s")
    _print_table(tis)
    hosts = Counter(ti["hostname"] for ti in tis if ti["state"] == "success")
    if not set(WORKERS) <= set(hosts):
        raise Failed(f"task instances ran on {dict(hosts)}, not on both of {WORKERS}")
    print("both workers ran task instances: " + ", ".join(f"{h} {n}" for h, n in sorted(hosts.items())))

    t_stop = time.perf_counter()
    processes.stop_all()
    print(f"cluster stopped: {time.perf_counter() - t_stop:.0f} s")

    t_direct = time.perf_counter()
    night_clues = _clues(admin, night_schema)
    direct_clues = _direct_night(admin, direct_schema, work / "direct")
    print(f"direct run_night on schema {direct_schema}: {time.perf_counter() - t_direct:.0f} s")
    if not night_clues:
        raise Failed("the night under Airflow left no clues in the store")
    if night_clues != direct_clues:
        missing, extra = len(direct_clues - night_clues), len(night_clues - direct_clues)
        raise Failed(f"clues differ from run_night: {missing} only there, {extra} only under Airflow")
    with admin.connect() as conn:
        statuses: dict[str, int] = dict(
            conn.execute(sa.text(f'select status, count(*) from "{night_schema}".clues group by status')).all()
        )
    print(f"clues: {len(night_clues)} under Airflow {statuses}, the same {len(direct_clues)} as run_night")
    print(
        f"figures: migrate {migrated:.0f} s, start {start_seconds:.0f} s, run {run_seconds:.0f} s, "
        f"total {time.perf_counter() - t0:.0f} s (before cleanup)"
    )


# --- services ------------------------------------------------------------------------------------


def _postgres_admin() -> sa.Engine:
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except Exception as exc:
        raise Skip(f"PostgreSQL 无法连接（{POSTGRES_URL}）：{_first_line(exc)}") from exc
    return engine


@contextmanager
def _redis_db() -> Iterator[int]:
    """An empty Redis database number, claimed with a key, flushed (that number only) at the end."""
    import redis

    owner = f"cluster-test {os.getpid()} {secrets.token_hex(4)}"
    try:
        probe = redis.Redis.from_url(f"{REDIS_URL}/0", socket_connect_timeout=3)
        count = int(probe.config_get("databases").get("databases") or 16)
    except Exception as exc:
        raise Skip(f"Redis 无法连接（{REDIS_URL}）：{_first_line(exc)}") from exc
    for number in sorted(range(1, count), key=lambda _: secrets.randbelow(1 << 30)):
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
        if client.dbsize() == 0 and client.set("cluster-test:owner", owner, nx=True):
            break
    else:
        raise Failed(f"no empty Redis database among 1..{count - 1}")
    try:
        yield number
    finally:
        if client.get("cluster-test:owner") == owner.encode():
            client.flushdb()
        client.close()
        probe.close()


@contextmanager
def _database(admin: sa.Engine, name: str) -> Iterator[sa.URL]:
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))


@contextmanager
def _schema(admin: sa.Engine, name: str) -> Iterator[str]:
    with admin.connect() as conn:
        conn.execute(sa.text(f'create schema "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            # A killed task may still hold a connection with locks on the schema's tables.
            conn.execute(
                sa.text(
                    "select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and query ilike :like"
                ),
                {"like": f"%{name}%"},
            )
            conn.execute(sa.text(f'drop schema if exists "{name}" cascade'))


def _first_line(exc: Exception) -> str:
    # SQLAlchemy wraps the driver's message in lines of SQL and links.
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def _store_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def _free_port() -> int:
    import socket

    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Airflow processes ---------------------------------------------------------------------------


def _airflow_env(cluster: Cluster, airflow_db: sa.URL, store_url: str, args: argparse.Namespace) -> dict[str, str]:
    """The environment shared by every Airflow process, as the README's Celery section lists it."""
    from cryptography.fernet import Fernet

    db = airflow_db.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "BIDUI_"))}
    env.update(
        AIRFLOW_HOME=str(cluster.home),
        AIRFLOW__CORE__DAGS_FOLDER=str(args.dags_folder.resolve()),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{cluster.api}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
        AIRFLOW__API__BASE_URL=cluster.api,
        # The REST calls below take a token without credentials; this Airflow lives for one test.
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__API__WORKERS="1",
        # No scheduled run besides the one triggered: unpausing would start the latest 01:00 night,
        # and max_active_runs=1 would queue ours behind it.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=db,
        # Five processes and their task processes share a server other tests use too.
        AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE="2",
        AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW="4",
        AIRFLOW__CELERY__BROKER_URL=f"{REDIS_URL}/{cluster.redis_db}",
        AIRFLOW__CELERY__RESULT_BACKEND=f"db+{db}",
        AIRFLOW__CELERY__WORKER_CONCURRENCY=str(args.concurrency),
        AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER="1",
        AIRFLOW__CELERY__SYNC_PARALLELISM="1",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(cluster.home / "logs"),
        BIDUI_DATA_DIR=str(cluster.work / "data"),
        BIDUI_DATABASE_URL=store_url,
        BIDUI_PROGRESS="0",
        # Tasks import `pipelines` (the repo root); workers import worker_hostname (this folder).
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), str(HERE), os.environ.get("PYTHONPATH")])),
    )
    return env


def _wait_until_up(cluster: Cluster, timeout: float) -> None:
    """Until the API answers, both workers are ready and the DAG is parsed into the database."""
    deadline = time.monotonic() + timeout
    waiting = {"api-server", *WORKERS, DAG_ID}
    while waiting:
        cluster.processes.check_alive()
        if time.monotonic() > deadline:
            tails = "\n".join(cluster.processes.log_tail(name, 15) for name in cluster.processes.procs)
            raise Failed(f"still waiting for {sorted(waiting)} after {timeout:.0f} s\n{tails}")
        if "api-server" in waiting and _http(cluster, "GET", "/api/v2/monitor/health", auth=False)[0] == 200:
            cluster.token = _http(cluster, "GET", "/auth/token", auth=False)[1]["access_token"]
            waiting.discard("api-server")
        for name in WORKERS:
            if name in waiting and b" ready." in (cluster.processes.logs / f"{name}.log").read_bytes():
                waiting.discard(name)
        if DAG_ID in waiting and cluster.token and _http(cluster, "GET", f"/api/v2/dags/{DAG_ID}")[0] == 200:
            waiting.discard(DAG_ID)
        time.sleep(1)


def _http(cluster: Cluster, method: str, path: str, body: Any = None, auth: bool = True) -> tuple[int, Any]:
    """(status, JSON answer) of one API call; status 0 when nothing answers yet."""
    request = urllib.request.Request(f"{cluster.api}{path}", method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", f"Bearer {cluster.token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def _api(cluster: Cluster, method: str, path: str, body: Any = None) -> Any:
    status, answer = _http(cluster, method, path, body)
    if status not in (200, 201):
        raise Failed(f"{method} {path} answered {status}: {answer}")
    return answer


# --- the night -----------------------------------------------------------------------------------


def _trigger(cluster: Cluster) -> str:
    _api(cluster, "PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    run = _api(
        cluster,
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {"logical_date": LOGICAL_DATE, "conf": CONF},
    )
    print(f"triggered {DAG_ID} run {run['dag_run_id']} on {DELIVERY}")
    return str(run["dag_run_id"])


def _wait_for_run(cluster: Cluster, run_id: str, timeout: float) -> list[dict[str, Any]]:
    """Poll the run, printing a line whenever its task states change; its task instances at the end."""
    start = time.monotonic()
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}"
    last = ""
    while True:
        cluster.processes.check_alive()
        state = _api(cluster, "GET", path)["state"]
        tis = _api(cluster, "GET", f"{path}/taskInstances?limit=1000")["task_instances"]
        line = _progress(state, tis)
        if line != last:
            print(f"  {time.monotonic() - start:5.0f} s  {line}", flush=True)
            last = line
        bad = [ti for ti in tis if ti["state"] in BAD_STATES]
        if bad or state == "failed":
            raise Failed(f"run {state}, task instances {[_name(ti) for ti in bad]} went wrong\n{_task_logs(cluster, bad)}")
        if state == "success":
            return sorted(tis, key=lambda ti: (ti["start_date"] or "", ti["map_index"]))
        if time.monotonic() - start > timeout:
            raise Failed(f"run still {state} after {timeout:.0f} s: {line}")
        time.sleep(2)


def _progress(state: str, tis: list[dict[str, Any]]) -> str:
    counts = Counter(ti["state"] or "none" for ti in tis)
    running = [f"{_name(ti)}@{ti['hostname']}" for ti in tis if ti["state"] == "running"]
    return (
        f"run {state}: "
        + ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))
        + (f"; running {' '.join(running)}" if running else "")
    )


def _name(ti: dict[str, Any]) -> str:
    if ti["map_index"] < 0:
        return str(ti["task_id"])
    return f"{ti['task_id']}[{ti.get('rendered_map_index') or ti['map_index']}]"


def _task_logs(cluster: Cluster, tis: list[dict[str, Any]]) -> str:
    logs = sorted((cluster.home / "logs").rglob("*.log"))
    wanted = [p for p in logs if any(f"task_id={ti['task_id']}" in str(p) for ti in tis)]
    return "\n".join("\n".join([f"--- {p}", *p.read_text(errors="replace").splitlines()[-30:]]) for p in wanted[:3])


def _print_table(tis: list[dict[str, Any]]) -> None:
    width = max(len(_name(ti)) for ti in tis)
    print(f"  {'task':<{width}}  {'worker':<8}  {'state':<8}  seconds")
    for ti in tis:
        seconds = f"{ti['duration']:.1f}" if ti.get("duration") is not None else "-"
        print(f"  {_name(ti):<{width}}  {ti['hostname'] or '-':<8}  {ti['state']:<8}  {seconds}")


def _clues(admin: sa.Engine, schema: str) -> set[tuple[Any, ...]]:
    with admin.connect() as conn:
        return {tuple(row) for row in conn.execute(sa.text(f'select {CLUE_COLUMNS} from "{schema}".clues'))}


def _direct_night(admin: sa.Engine, schema: str, data_dir: Path) -> set[tuple[Any, ...]]:
    """The same delivery through `run_night` (what `bidui run` does), in a child interpreter."""
    code = (
        "import sys; from pathlib import Path; from pipelines.night import run_night; "
        "from pipelines.settings import load_settings; "
        "night = run_night(load_settings(), Path(sys.argv[1])); "
        "sys.exit(night.link_error or night.clue_error)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIDUI_")}
    env.update(BIDUI_DATA_DIR=str(data_dir), BIDUI_DATABASE_URL=_store_url(schema), BIDUI_PROGRESS="0")
    done = subprocess.run(
        [sys.executable, "-c", code, str(DELIVERY)], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise Failed(f"run_night failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return _clues(admin, schema)


if __name__ == "__main__":
    sys.exit(main())
