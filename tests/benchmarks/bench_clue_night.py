"""Benchmark: a night's rules and clues (`run_clue_night`) on a linked store, run twice.

The first run applies the rules' findings to the clues (on a store without clues: every subject a
new clue); the second run of the same night must change nothing. Prints seconds, new clues and
changed clue rows of each run. The store is changed (clues written): use a copy you can spare.
A script, not a test:

    .venv/bin/python tests/benchmarks/bench_clue_night.py --store /tmp/bench/d1m [--day 2026-11-20]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines.clues.stage import run_clue_night
from pipelines.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True, help="BIDUI_DATA_DIR of a linked night")
    parser.add_argument("--day", default="2026-11-20")
    parser.add_argument("--database-url", help="another store than the SQLite file in --store")
    args = parser.parse_args()
    overrides = {"database_url": args.database_url} if args.database_url else {}
    settings = load_settings(environ={}, data_dir=args.store, show_progress=False, **overrides)
    for run in (1, 2):
        start = time.perf_counter()
        summary = run_clue_night(settings, args.day)
        seconds = time.perf_counter() - start
        fired = sum(r["fired"] or 0 for r in summary.rules)
        print(
            f"run {run}: {seconds:.1f} s; fired {fired:,}; new {summary.new:,}; changed {summary.changed:,}; "
            f"cleared {summary.cleared:,}; held {summary.held}; skipped {summary.skipped}; "
            f"failed {summary.failed}",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()
