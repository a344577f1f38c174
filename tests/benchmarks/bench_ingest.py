"""Benchmark: `bidui ingest` of a large demo delivery, on a fresh store each run.

Prints wall time and peak memory (median, min–max) — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_ingest.py --persons 1000000 --runs 3 [--postgres URL]
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIDUI = str(Path(sys.executable).with_name("bidui"))


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS GiB) of one command, measured by GNU time."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True, check=False)  # reported below
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return wall, peak_kib / 1024**2


def summary(label: str, values: list[float], unit: str) -> str:
    return f"{label}: median {statistics.median(values):.2f} {unit} (range {min(values):.2f}–{max(values):.2f}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bidui-bench")
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database to ingest into instead of SQLite")
    args = parser.parse_args()
    drop = args.work / f"drop-{args.persons}-{args.seed}"
    delivery = drop / "2026-11-20"
    env = {"PATH": "/usr/bin:/bin", "BIDUI_PROGRESS": "0"}
    if not delivery.exists():
        wall, peak = timed(
            [
                BIDUI,
                "demo-data",
                "--persons",
                str(args.persons),
                "--seed",
                str(args.seed),
                "--as-of",
                "2026-11-20",
                "--out",
                str(drop),
            ],
            env,
        )
        print(f"demo-data {args.persons} persons: {wall:.1f} s, peak {peak:.2f} GiB")
    walls, peaks = [], []
    for run in range(args.runs):
        data = args.work / f"data-{run}"
        shutil.rmtree(data, ignore_errors=True)
        run_env = {**env, "BIDUI_DATA_DIR": str(data)}
        if args.postgres:
            import sqlalchemy as sa

            with sa.create_engine(args.postgres).begin() as conn:
                conn.execute(sa.text("drop schema if exists bench cascade; create schema bench"))
            run_env["BIDUI_DATABASE_URL"] = f"{args.postgres}?options=-csearch_path%3Dbench"
        # Only the data officer may ingest: the first one is made without signing in (not timed).
        password = data / "officer.password"
        data.mkdir(parents=True)
        password.write_text(secrets.token_urlsafe(18) + "\n", encoding="utf-8")
        password.chmod(0o600)
        with password.open() as stdin:
            add = [BIDUI, "user", "add", "bench-officer", "--role", "prefecture", "--region", "5227", "--password-stdin"]
            subprocess.run(add, env=run_env, stdin=stdin, capture_output=True, check=True)
        sign_in = ["--user", "bench-officer", "--password-file", str(password)]
        wall, peak = timed([BIDUI, "ingest", str(delivery), *sign_in], run_env)
        walls.append(wall)
        peaks.append(peak)
        print(f"run {run + 1}: {wall:.1f} s, peak {peak:.2f} GiB", flush=True)
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(summary(f"bidui ingest ({args.persons} persons, {store}) wall", walls, "s"))
    print(summary("peak memory", peaks, "GiB"))


if __name__ == "__main__":
    main()
