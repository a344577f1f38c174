"""Benchmark: the monitoring site (`bidui serve`) at 1,000,000 clues and 40 nights of history in
PostgreSQL — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_site.py --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/test \\
        [--clues 1000000] [--nights 40] [--requests 30] [--workers 1 2] [--keep | --schema bench_site_…]
        [--fill-only] [--only TEXT] [--explain]

1. A fresh schema is made, migrated and filled with COPY (pipelines.store.bulk_insert) with synthetic
   data (bench_site_fill.py): the seed regions; as many persons as clues (names drawn from a short list
   of surnames × given names; ID numbers of 18 characters whose check character is deliberately wrong,
   so none can be a real person's) and their households; the clues over the 18 rules, each with a life
   (found, issued, verified, rectified, signed, closed, filed, cleared by data, re-opened) written as
   its clue events (about 5 a clue; the hash chain left NULL); night_counts and rule runs of every
   night (one rule held on the newest); feed loads and deliveries; the newest night's links of the
   members and hukou feeds (2 per person), its link.json, a review queue of 300 pairs with the snapshot
   rows of both sides; ledger issues and imports; one user per role. Prints each step's time and what
   the tables hold; VACUUM ANALYZE at the end (statistics, and the visibility map autovacuum keeps).
2. The real server is started (`bidui serve` as a child process, once per --workers value), every user
   signs in with httpx, each URL is warmed up twice and then requested --requests times one after
   another: prints page type, URL, user, median, p95, min, max, size and status per page, "OVER BUDGET"
   beside a median over 300 ms or a p95 over 1 s, and loudly any status other than the one expected.
   One POST move (verify, as the village user) is timed over five clues. The exit code is 0 either way.
3. --explain: each page over budget is rendered once more in this process with every SQL statement
   timed, and the slowest statements are printed with their EXPLAIN (ANALYZE, BUFFERS) plans; with
   --only, the pages chosen are explained without being measured.
4. The schema and its data directory are dropped at the end unless --keep (or --schema, which measures
   a kept schema again without filling it). --fill-only --keep fills a schema to measure later.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_site_fill import PASSWORD, USERS, fill

from pipelines.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
BIDUI = ROOT / ".venv" / "bin" / "bidui"
MEDIAN_BUDGET_MS, P95_BUDGET_MS = 300.0, 1000.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- the schema --------------------------------------------------------------------------------


def schema_url(postgres: str, schema: str) -> str:
    joiner = "&" if "?" in postgres else "?"
    return f"{postgres}{joiner}options=-csearch_path%3D{schema}"


def make_schema(postgres: str) -> str:
    schema = f"bench_site_{int(time.time())}"
    with sa.create_engine(postgres).begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    return schema


def drop_schema(postgres: str, schema: str) -> None:
    with sa.create_engine(postgres).begin() as conn:
        conn.execute(sa.text(f'drop schema if exists "{schema}" cascade'))


# --- what to ask for -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One page to measure: its type (the report's first column), URL and who asks."""

    kind: str
    url: str
    user: str | None  # None: not signed in


def find_probes(engine: sa.Engine) -> tuple[list[Probe], list[str], str]:
    """The pages to measure, picked from what the store holds: (probes, issued clues the village
    user may verify, the village user's name)."""
    users = {name: region for name, (_role, region, _dept) in USERS.items()}
    county, township, village = users["bench-county"], users["bench-township"], users["bench-village"]
    with engine.connect() as conn:
        clue_with_events = conn.execute(
            sa.text(
                # The longest history there is: filed, else closed, else any.
                "select clue_id from clues where county_code = :county and village_code = :village "
                "order by case status when 'filed' then 0 when 'closed' then 1 else 2 end, clue_id limit 1"
            ),
            {"county": county, "village": village},
        ).scalar()
        name = conn.execute(
            sa.text(
                "select p.name from clues c join persons p on p.person_id = c.person_id "
                "where c.county_code = :county order by c.clue_id limit 1"
            ),
            {"county": county},
        ).scalar()
        number = conn.execute(sa.text("select max(clue_id) from clues where rule = 'R05'")).scalar()
        to_verify = list(
            conn.execute(
                sa.text("select clue_id from clues where village_code = :village and status = 'issued' order by clue_id limit 5"),
                {"village": village},
            ).scalars()
        )
    prefecture = "bench-prefecture"
    probes = [
        Probe("monitor (prefecture)", "/monitor", prefecture),
        Probe("monitor (county)", "/monitor", "bench-county"),
        Probe("monitor one rule (prefecture)", "/monitor?rule=R05", prefecture),
        Probe("closure (prefecture)", "/monitor/closure", prefecture),
        Probe("closure (county)", "/monitor/closure", "bench-county"),
        Probe("regions 4-digit", f"/monitor/regions/{users[prefecture]}", prefecture),
        Probe("regions 6-digit", f"/monitor/regions/{county}", prefecture),
        Probe("regions 9-digit", f"/monitor/regions/{township}", prefecture),
        Probe("regions 12-digit", f"/monitor/regions/{village}", prefecture),
        Probe("night", "/monitor/night", prefecture),
        Probe("held", "/monitor/held", prefecture),
        Probe("clues (prefecture)", "/clues", prefecture),
        Probe("clues (county)", "/clues", "bench-county"),
        Probe("clues (township)", "/clues", "bench-township"),
        Probe("clues (village)", "/clues", "bench-village"),
        Probe("clues (liaison)", "/clues", "bench-liaison"),
        Probe("clues rule (county)", "/clues?rule=R05", "bench-county"),
        Probe("clues status (prefecture)", "/clues?status=signed", prefecture),
        Probe("clues overdue (prefecture)", "/clues?overdue=1", prefecture),
        Probe("clues overdue (county)", "/clues?overdue=1", "bench-county"),
        Probe("clues rule+status+overdue (county)", "/clues?rule=R06&status=issued&overdue=1", "bench-county"),
        Probe("clues village filter (prefecture)", f"/clues?village={village}", prefecture),
        Probe("clues q=name (county)", f"/clues?q={name}", "bench-county"),
        Probe("clues q=name (prefecture)", f"/clues?q={name}", prefecture),
        Probe("clues q=surname (prefecture)", f"/clues?q={name[0]}", prefecture),
        Probe("clues q=number (prefecture)", f"/clues?q={number.lower()}", prefecture),
        Probe("clues page 200 (prefecture)", "/clues?page=200", prefecture),
        Probe("clue page (county)", f"/clues/{clue_with_events}", "bench-county"),
        Probe("clue page (village)", f"/clues/{clue_with_events}", "bench-village"),
        Probe("ledgers (prefecture)", "/ledgers", prefecture),
        Probe("ledgers (county)", "/ledgers", "bench-county"),
        Probe("review", "/review", prefecture),
        Probe("login", "/login", None),
    ]
    return probes, to_verify, "bench-village"


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(url: str, data_dir: Path, workers: int):
    """`bidui serve` on a free port as a child process in its own session; yields its base URL."""
    port = free_port()
    env = {**os.environ, "BIDUI_DATABASE_URL": url, "BIDUI_DATA_DIR": str(data_dir), "BIDUI_PROGRESS": "0"}
    log = open(data_dir / f"serve-{workers}.log", "w")  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        [str(BIDUI), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if child.poll() is not None:
                log.flush()
                said = Path(log.name).read_text(encoding="utf-8", errors="replace")[-3000:]
                raise SystemExit(f"bidui serve stopped at start (code {child.returncode}):\n{said}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"bidui serve did not answer within 120 s; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        # The child's own process group (start_new_session): uvicorn and the workers it spawned.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        log.close()


def signed_in(base: str, user: str | None) -> httpx.Client:
    # Never through a proxy the environment may name: the server is on this machine.
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False, trust_env=False)
    if user is None:
        return client
    page = client.get("/login")
    token = _CSRF.search(page.text)
    assert token, "no CSRF token on /login"
    answer = client.post("/login", data={"csrf_token": token.group(1), "user_name": user, "password": PASSWORD, "next": "/"})
    if answer.status_code != 303:
        raise SystemExit(f"{user} could not sign in: HTTP {answer.status_code}")
    return client


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Figures:
    kind: str
    url: str
    user: str
    times_ms: list[float]
    size: int
    statuses: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        if len(self.times_ms) < 2:
            return self.times_ms[0]
        return statistics.quantiles(self.times_ms, n=20, method="inclusive")[18]

    @property
    def over(self) -> bool:
        return self.median > MEDIAN_BUDGET_MS or self.p95 > P95_BUDGET_MS


def timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - start) * 1000, response


def measure(base: str, probes: list[Probe], requests: int) -> list[Figures]:
    clients = {user: signed_in(base, user) for user in {p.user for p in probes}}
    results = []
    for probe in probes:
        client = clients[probe.user]
        for _ in range(2):
            timed_get(client, probe.url)
        times, statuses, size = [], [], 0
        for _ in range(requests):
            ms, response = timed_get(client, probe.url)
            times.append(ms)
            statuses.append(response.status_code)
            size = len(response.content)
        results.append(Figures(probe.kind, probe.url, probe.user or "-", times, size, statuses))
        print(f"  {probe.kind}: median {results[-1].median:.0f} ms", flush=True)
    for client in clients.values():
        client.close()
    return results


def measure_verify(base: str, user: str, clue_ids: list[str]) -> Figures | None:
    """POST /clues/<id>/verify (属实) on each clue: the page's form as a browser sends it."""
    if not clue_ids:
        print("!!! no issued clue in the village user's village: the verify move was not timed")
        return None
    client = signed_in(base, user)
    times, statuses, size = [], [], 0
    for clue_id in clue_ids:
        page = client.get(f"/clues/{clue_id}")
        token = _CSRF.search(page.text)
        if page.status_code != 200 or not token:
            statuses.append(page.status_code)
            continue
        form = {
            "csrf_token": token.group(1),
            "verdict": "属实",
            "verified_by": "基准测试核实员",
            "verified_on": time.strftime("%Y-%m-%d"),
            "note": "",
        }
        start = time.perf_counter()
        response = client.post(f"/clues/{clue_id}/verify", data=form)
        times.append((time.perf_counter() - start) * 1000)
        statuses.append(response.status_code)
        size = len(response.content)
    client.close()
    if not times:
        print(f"!!! the verify move could not be timed: the clue page answered {statuses}")
        return None
    return Figures("POST verify (village)", "/clues/<id>/verify", user, times, size, statuses)


def print_table(title: str, results: list[Figures], expected: dict[str, int]) -> None:
    print(f"\n{title}")
    header = f"{'page type':36} {'URL':44} {'user':17} {'median':>7} {'p95':>7} {'min':>7} {'max':>7} {'bytes':>9}  status"
    print(header)
    print("-" * len(header))
    for r in results:
        wanted = expected.get(r.kind, 200)
        codes = sorted(set(r.statuses))
        status = ",".join(map(str, codes))
        flags = []
        if r.over:
            flags.append("OVER BUDGET")
        if codes != [wanted]:
            flags.append(f"!!! STATUS {status}, expected {wanted}")
        url = r.url if len(r.url) <= 44 else r.url[:41] + "..."
        print(
            f"{r.kind:36} {url:44} {r.user:17} {r.median:7.0f} {r.p95:7.0f} {min(r.times_ms):7.0f} "
            f"{max(r.times_ms):7.0f} {r.size:9,}  {status}  {'  '.join(flags)}"
        )


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --- why a page is slow ----------------------------------------------------------------------------


def explain_pages(url: str, data_dir: Path, probes: list[Probe], top: int = 3) -> None:
    """Each probe rendered once in this process with its SQL timed; the slowest statements with their plans."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from pipelines.web import create_app

    settings = load_settings(environ={}, data_dir=data_dir, database_url=url, show_progress=False)
    app = create_app(settings)
    engine: sa.Engine = app.state.engine
    seen: list[tuple[float, str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        seen.append(((time.perf_counter() - started) * 1000, statement, parameters))

    with TestClient(app) as client:
        for probe in probes:
            client.cookies.clear()
            if probe.user:
                page = client.get("/login")
                token = _CSRF.search(page.text)
                assert token
                client.post(
                    "/login",
                    data={"csrf_token": token.group(1), "user_name": probe.user, "password": PASSWORD, "next": "/"},
                    follow_redirects=False,
                )
            client.get(probe.url)  # warm
            seen.clear()
            start = time.perf_counter()
            client.get(probe.url)
            total = (time.perf_counter() - start) * 1000
            sql_ms = sum(ms for ms, _s, _p in seen)
            print(
                f"\n=== {probe.kind} {probe.url} as {probe.user}: {total:.0f} ms, {len(seen)} statements, {sql_ms:.0f} ms in SQL"
            )
            for ms, statement, parameters in sorted(seen, key=lambda s: -s[0])[:top]:
                print(f"--- {ms:.0f} ms\n{statement}\n{parameters}")
                with engine.connect() as conn:
                    plan = conn.exec_driver_sql(f"explain (analyze, buffers) {statement}", parameters).scalars()
                    print("\n".join(plan))


# --- the whole run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="SQLAlchemy URL of a PostgreSQL database (a schema is made in it)")
    parser.add_argument("--clues", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, default=40)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="uvicorn workers; one table per value")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--keep", action="store_true", help="keep the filled schema (its name is printed)")
    parser.add_argument("--schema", help="measure a schema kept by an earlier --keep run instead of filling a new one")
    parser.add_argument("--fill-only", action="store_true", help="fill (and keep with --keep) without measuring")
    parser.add_argument("--only", help="measure only the page types containing this text")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the slowest SQL and its plan for pages over budget (with --only: for those pages, without measuring)",
    )
    args = parser.parse_args()

    schema = args.schema or make_schema(args.postgres)
    url = schema_url(args.postgres, schema)
    # Beside the schema, so that a kept schema is measured again with its files (the link stage's link.json).
    data_dir = Path(tempfile.gettempdir()) / f"bidui-{schema}"
    data_dir.mkdir(exist_ok=True)
    print(f"schema {schema}; data dir {data_dir}", flush=True)
    try:
        settings = load_settings(environ={}, data_dir=data_dir, database_url=url, show_progress=False)
        if not args.schema:
            start = time.perf_counter()
            fill(settings, args.clues, args.nights, args.seed)
            print(f"fill: {time.perf_counter() - start:.0f} s in all ({args.clues:,} clues, {args.nights} nights)", flush=True)
        if args.fill_only:
            return
        engine = sa.create_engine(url)
        probes, to_verify, village_user = find_probes(engine)
        engine.dispose()
        if args.only:
            probes = [p for p in probes if args.only in p.kind]
        if args.explain and args.only:
            explain_pages(url, data_dir, probes)
            return
        over: dict[str, Probe] = {}
        for workers in args.workers:
            print(
                f"\nmeasuring with {workers} worker(s), {args.requests} requests per page; load before: {load_average()}",
                flush=True,
            )
            with running_server(url, data_dir, workers) as base:
                results = measure(base, probes, args.requests)
                # Once: the verified clues stay verified.
                if workers == args.workers[0] and (not args.only or "verify" in args.only):
                    verify = measure_verify(base, village_user, to_verify)
                    if verify:
                        results.append(verify)
                load = load_average()
            print_table(
                f"bidui serve --workers {workers}: ms per request ({args.requests} sequential requests per page)",
                results,
                {"POST verify (village)": 303},
            )
            print(f"load after: {load}")
            over.update({r.kind: p for r in results for p in probes if p.kind == r.kind and r.over})
        if args.explain and over:
            explain_pages(url, data_dir, list(over.values()))
    finally:
        if args.keep or args.schema:
            print(f"schema {schema} kept: measure it again with --schema {schema}")
        else:
            drop_schema(args.postgres, schema)
            shutil.rmtree(data_dir, ignore_errors=True)
            print(f"schema {schema} and {data_dir} dropped")


if __name__ == "__main__":
    main()
