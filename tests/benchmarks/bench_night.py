"""Benchmark: the whole night, then the incremental next night, on a fresh store per run.

Each run makes a fresh store (a SQLite file, or a PostgreSQL schema dropped afterwards) and runs, in
a child process each, the night of the demo delivery (day 1) and then its next night written by
`bidui demo-data --after` (day 2, a share of persons changed) on the same store. A night is what
`bidui run` does (`run_night`: ingest → validate → report → link → rules and clues) followed by
what the DAG adds (a ledger per county with new clues, the snapshot). Prints each stage's wall
seconds (median and range over the runs), the link's own steps, the slowest rules, each child's
peak RSS and the load average. The deliveries are made once and kept in the work directory.
A script, not a test:

    .venv/bin/python tests/benchmarks/bench_night.py --persons 1000000 --runs 3 \\
        --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/test [--delivery /tmp/big/drop/2026-11-20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

BIDUI = Path(sys.executable).with_name("bidui")
STAGES = ("ingest", "validate", "link", "clues", "ledger", "snapshot")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-20", help="data date of day 1")
    parser.add_argument("--changes", type=float, default=0.01, help="share of persons changed on day 2")
    parser.add_argument("--postgres", help="PostgreSQL URL; each run gets its own schema (default: SQLite)")
    parser.add_argument("--work", type=Path, help="default /tmp/bidui-bench-night-<persons>")
    parser.add_argument("--delivery", type=Path, help="an existing day-1 delivery made with these options")
    parser.add_argument("--child", nargs=4, metavar=("DELIVERY", "DATA_DIR", "DATABASE_URL", "RESULT"))
    args = parser.parse_args()
    if args.child:
        run_child(*args.child)
        return
    work = args.work or Path(f"/tmp/bidui-bench-night-{args.persons}")
    day1 = args.delivery or make_delivery(work, args.persons, args.seed, args.as_of)
    day2 = make_next_night(work, day1, args.changes)
    print(f"night benchmark: {args.persons:,} persons, day 1 {day1}, day 2 {day2} ({args.changes:.0%} changed)")
    print(f"store: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.runs} run(s); {os.cpu_count()} cores", flush=True)
    runs: list[dict[str, dict[str, Any]]] = []
    for number in range(1, args.runs + 1):
        data_dir = work / f"run-{number}"
        shutil.rmtree(data_dir, ignore_errors=True)
        with fresh_store(args.postgres, data_dir) as url:
            nights = {night: run_night_child(delivery, data_dir, url) for night, delivery in (("day 1", day1), ("day 2", day2))}
        shutil.rmtree(data_dir, ignore_errors=True)
        runs.append(nights)
        for night, figures in nights.items():
            print(
                f"run {number} {night}: {figures['wall']:.1f} s, peak RSS {figures['peak_gb']:.2f} GB, "
                f"load {figures['load_before']:.2f} → {figures['load_after']:.2f}",
                flush=True,
            )
        print_table(runs)


def make_delivery(work: Path, persons: int, seed: int, as_of: str) -> Path:
    """The demo delivery of day 1, generated once into <work>/drop/."""
    delivery = work / "drop" / as_of
    if not delivery.is_dir():
        bidui("demo-data", "--persons", str(persons), "--seed", str(seed), "--as-of", as_of, "--out", str(delivery.parent))
    return delivery


def make_next_night(work: Path, day1: Path, changes: float) -> Path:
    """Day 1's next night (`demo-data --after`), generated once into <work>/drop/."""
    day2 = work / "drop" / (dt.date.fromisoformat(day1.name) + dt.timedelta(days=1)).isoformat()
    if not day2.is_dir():
        bidui("demo-data", "--after", str(day1), "--changes", str(changes), "--out", str(day2.parent))
    return day2


def bidui(*argv: str) -> None:
    subprocess.run([str(BIDUI), *argv], check=True, env={**os.environ, "BIDUI_PROGRESS": "0"})


@contextmanager
def fresh_store(postgres: str | None, data_dir: Path) -> Iterator[str]:
    """A fresh SQLite file under data_dir, or a fresh PostgreSQL schema dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{data_dir / 'bidui.sqlite3'}"
        return
    import sqlalchemy as sa

    schema = f"nightbench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    try:
        yield f"{postgres}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def run_night_child(delivery: Path, data_dir: Path, url: str) -> dict[str, Any]:
    """One night in a child process: its stage seconds, wall time, peak RSS and the load around it."""
    result = data_dir / f"night-{delivery.name}.json"
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", str(delivery), str(data_dir), url, str(result)])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"the night of {delivery.name} failed (status {status})")
    figures: dict[str, Any] = json.loads(result.read_text())
    # ru_maxrss is in KiB on Linux; wait4 gives this child's own peak, not the largest of all children.
    figures.update(wall=wall, peak_gb=usage.ru_maxrss / 1024**2, load_before=load_before, load_after=os.getloadavg()[0])
    return figures


def run_child(delivery: str, data_dir: str, url: str, result: str) -> None:
    """The night as `bidui run` runs it, then the DAG's ledgers and snapshot; writes the figures."""
    from pipelines.clues import counties_with_new_clues
    from pipelines.ledgers import issue_county_ledger
    from pipelines.night import run_night, snapshot_night
    from pipelines.settings import load_settings

    settings = load_settings(environ={}, data_dir=Path(data_dir), database_url=url, show_progress=False)
    night = run_night(settings, Path(delivery))
    if night.link is None or night.clues is None:
        raise SystemExit(f"night of {delivery} failed: {night.link_error or night.clue_error}")
    seconds = dict(night.seconds)
    day = night.ingest.delivery_date
    start = time.perf_counter()
    counties = counties_with_new_clues(settings)
    issue_date = dt.date.fromisoformat(day) + dt.timedelta(days=1)
    for county in counties:
        issue_county_ledger(settings, county, issue_date)
    seconds["ledger"] = time.perf_counter() - start
    start = time.perf_counter()
    snapshot_night(settings, day)
    seconds["snapshot"] = time.perf_counter() - start
    rules = sorted(night.clues.rules, key=lambda rule: -(rule.get("seconds") or 0.0))
    figures = {
        "seconds": seconds,
        "link_steps": night.link.seconds,
        "rules": {rule["rule"]: rule.get("seconds") or 0.0 for rule in rules[:3]},
        "counts": {"counties": len(counties), "new_clues": night.clues.new, "cleared": night.clues.cleared},
    }
    Path(result).write_text(json.dumps(figures))


def print_table(runs: list[dict[str, dict[str, Any]]]) -> None:
    """Per stage and night: median and range over the runs so far."""
    nights = list(runs[0])
    print(f"\n{'stage (seconds)':<28}" + "".join(f"{night + ' median (range)':>28}" for night in nights))

    def row(label: str, values_of: dict[str, list[float]], digits: int = 1) -> None:
        cells = []
        for night in nights:
            values = values_of[night]
            if not values:
                cells.append("–")
                continue
            low, mid, high = (f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
            cells.append(f"{mid} ({low}–{high})")
        print(f"{label:<28}" + "".join(f"{cell:>28}" for cell in cells))

    def collect(pick: Any) -> dict[str, list[float]]:
        return {night: [v for run in runs if (v := pick(run[night])) is not None] for night in nights}

    for stage in STAGES:
        row(stage, collect(lambda f, s=stage: f["seconds"].get(s)))
        if stage == "link":
            for step in runs[0][nights[0]]["link_steps"]:
                row(f"  {step}", collect(lambda f, s=step: f["link_steps"].get(s)))
    row("sum of stages", collect(lambda f: sum(f["seconds"].values())))
    row("child wall (with imports)", collect(lambda f: f["wall"]))
    row("peak RSS (GB)", collect(lambda f: f["peak_gb"]), digits=2)
    row("load average before", collect(lambda f: f["load_before"]), digits=2)
    for night in nights:
        last = runs[-1][night]
        slowest = ", ".join(f"{rule} {sec:.1f} s" for rule, sec in last["rules"].items())
        print(f"{night}: slowest rules (last run) {slowest}; {last['counts']}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
