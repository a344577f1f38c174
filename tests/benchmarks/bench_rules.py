"""Benchmark: all clue rules (sql/rules) over one ingested and linked night, on SQLite or PostgreSQL.

The night comes from a SQLite store where `bidui run` has been done (default /tmp/bench/d1m, the
1,000,000-person demo night, seed 7). Without one, make it first:

    .venv/bin/bidui demo-data --persons 1000000 --seed 7 --as-of 2026-11-20 --out /tmp/bench/drop-1000000-7
    BIDUI_DATA_DIR=/tmp/bench/d1m .venv/bin/bidui run /tmp/bench/drop-1000000-7/2026-11-20

The store is only read (the rules build temporary tables on their own connection). With
`--postgres URL` the night's snapshots, feed loads and links are first copied into a fresh schema
of that database (COPY, then ANALYZE), which is dropped afterwards. A script, not a test:

    .venv/bin/python tests/benchmarks/bench_rules.py --runs 3 [--store /tmp/bench/d1m] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines import store
from pipelines.rules.run import load_rules, run_rules
from pipelines.settings import load_settings
from pipelines.store.bulk import bulk_insert
from pipelines.store.tables import feed_loads, feed_tables, links

CHUNK_ROWS = 200_000


def copy_night(source: sa.Engine, target: sa.Engine, day: dt.date) -> dict[str, int]:
    """Copy one night's feed loads, effective snapshots and links from `source` into `target`."""
    counts = {}
    with source.connect() as src, target.begin() as dst:
        loads = src.execute(sa.select(feed_loads).where(feed_loads.c.delivery_date <= day)).mappings().all()
        if loads:
            dst.execute(sa.insert(feed_loads), [dict(row) for row in loads])
        tables = [(name, table, store.effective_date(source, name, day)) for name, table in feed_tables.items()]
        tables.append(("links", links, day))
        for name, table, snapshot in tables:
            if snapshot is None:
                continue
            columns = [c.name for c in table.columns]
            statement = sa.select(table).where(table.c.delivery_date == snapshot)
            result = src.execution_options(stream_results=True).execute(statement)
            counts[name] = 0
            while batch := result.fetchmany(CHUNK_ROWS):
                body = pd.DataFrame(batch, columns=columns)
                bulk_insert(dst, table.name, columns, body)
                counts[name] += len(body)
    with target.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("analyze")
    return counts


def postgres_settings(url: str, work: Path):
    schema = f"bench_rules_{int(time.time() * 1000)}"
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    settings = load_settings(
        environ={}, data_dir=work, database_url=f"{url}?options=-csearch_path%3D{schema}", show_progress=False
    )
    return settings, schema


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=Path("/tmp/bench/d1m"), help="BIDUI_DATA_DIR of a linked night")
    parser.add_argument("--day", default="2026-11-20")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database to copy the night into")
    args = parser.parse_args()
    day = dt.date.fromisoformat(args.day)
    source_settings = load_settings(environ={}, data_dir=args.store, show_progress=False)
    if not (args.store / "bidui.sqlite3").exists():
        sys.exit(f"no store at {args.store}: make the night first (see this script's docstring)")
    engine = store.connect(source_settings)
    settings, schema = source_settings, None
    if args.postgres:
        settings, schema = postgres_settings(args.postgres, args.store / "pg-bench")
        start = time.perf_counter()
        target = store.connect(settings)
        counts = copy_night(engine, target, day)
        print(f"copied into PostgreSQL schema {schema} in {time.perf_counter() - start:.1f} s: {counts}")
        engine = target
    store_kind = "PostgreSQL" if args.postgres else "SQLite"
    rules = load_rules()
    try:
        totals, per_rule = [], {}
        for run in range(args.runs):
            start = time.perf_counter()
            result = run_rules(engine, settings, day, rules)
            totals.append(time.perf_counter() - start)
            for entry in result.runs:
                per_rule.setdefault(entry["rule"], []).append(entry["seconds"])
            fired = {entry["rule"]: entry["fired"] for entry in result.runs}
            print(f"run {run + 1}: {totals[-1]:.1f} s, {len(result.fired):,} subjects fired")
        print(f"fired per rule: {fired}")
        for code, values in per_rule.items():
            print(f"  {code}: median {statistics.median(values):.2f} s (range {min(values):.2f}–{max(values):.2f})")
        setup = [t - sum(v[i] for v in per_rule.values()) for i, t in enumerate(totals)]
        print(f"{store_kind} views and helper tables: median {statistics.median(setup):.1f} s")
        print(
            f"{store_kind} all rules ({len(rules)}), night {day}: median {statistics.median(totals):.1f} s "
            f"(range {min(totals):.1f}–{max(totals):.1f}, n={len(totals)})"
        )
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB")
    finally:
        if schema:
            engine.dispose()
            with sa.create_engine(args.postgres).begin() as conn:
                conn.execute(sa.text(f'drop schema "{schema}" cascade'))


if __name__ == "__main__":
    main()
