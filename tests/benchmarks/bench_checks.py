"""Benchmark: `check_feed` on a large synthetic hukou frame — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_checks.py --rows 1000000 --runs 3

Prints the Great Expectations import and context time, then wall time per run (median, min–max).
About 2 % of rows carry a problem (bad ID, unknown enum, bad date, unknown region, duplicate key).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines.catalog.feeds import load_feeds
from pipelines.settings import load_settings
from pipelines.standardise.ids import check_digits

AS_OF = dt.date(2026, 11, 20)


def synthetic_hukou(rows: int, seed: int) -> tuple[pd.DataFrame, set[str]]:
    """A hukou frame of `rows` synthetic persons (no real data) and its known region codes."""
    rng = np.random.default_rng(seed)
    villages = np.array([f"522725{t:03d}{v:03d}" for t in range(100, 120) for v in range(200, 230)])
    village = rng.choice(villages, rows)
    birth = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 33000, rows), unit="D")
    ymd = birth.strftime("%Y%m%d").to_numpy()
    seq = rng.integers(0, 1000, rows)
    first17 = np.char.add(np.char.add(village.astype("U6"), ymd.astype("U8")), np.char.zfill(seq.astype("U3"), 3))
    digits = np.array(first17, dtype="<U17").view(np.uint32).reshape(rows, 17).astype(np.int64) - ord("0")
    ids = np.char.add(first17, check_digits(digits)).astype(object)
    frame = pd.DataFrame(
        {
            "row_no": np.arange(2, rows + 2),
            "person_no": np.char.add("P", np.char.zfill(np.arange(rows).astype("U9"), 9)).astype(object),
            "id_number": ids,
            "name": rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"], rows).astype(object),
            "sex": rng.choice(["男", "女"], rows).astype(object),
            "ethnicity": rng.choice(["汉族", "苗族", "布依族"], rows).astype(object),
            "birth_date": birth.strftime("%Y-%m-%d").to_numpy(dtype=object),
            "hukou_no": np.char.add("HK", (np.arange(rows) // 4).astype("U8")).astype(object),
            "relation": rng.choice(["户主", "配偶", "之子", "之女"], rows).astype(object),
            "village_code": village.astype(object),
            "address": "某县某镇某村",
            "state": rng.choice(["正常", "死亡", "迁出"], rows, p=[0.95, 0.03, 0.02]).astype(object),
            "changed_on": None,
            "moved_to": None,
        }
    )
    frame.loc[frame["state"] != "正常", "changed_on"] = "2025-03-01"
    bad = rng.choice(rows, rows // 50, replace=False)
    kinds = rng.integers(0, 6, len(bad))
    frame.loc[bad[kinds == 0], "id_number"] = "5.22701E+17"
    frame.loc[bad[kinds == 1], "sex"] = "未知"
    frame.loc[bad[kinds == 2], "birth_date"] = "1985/13/01"
    frame.loc[bad[kinds == 3], "village_code"] = "522725999999"
    frame.loc[bad[kinds == 4], "person_no"] = "P000000001"
    frame.loc[bad[kinds == 5], "id_number"] = None
    return frame, set(villages.tolist())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261120)
    args = parser.parse_args()

    from expectations.runner import context_build_seconds, gx_context
    from pipelines.validate.checks import check_feed

    started = time.perf_counter()
    frame, known = synthetic_hukou(args.rows, args.seed)
    print(f"synthetic frame: {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    gx_context()
    timings = context_build_seconds()
    print(f"great_expectations import {timings['import']:.2f} s, ephemeral context {timings['context'] * 1000:.1f} ms")
    spec = load_feeds()["hukou"]
    settings = load_settings(environ={}, data_dir=Path("/tmp/bidui-bench-checks"))
    walls = []
    for _ in range(args.runs):
        started = time.perf_counter()
        result = check_feed(spec, frame, known, settings, as_of=AS_OF)
        walls.append(time.perf_counter() - started)
    print(
        f"check_feed hukou {args.rows:,} rows: median {statistics.median(walls):.1f} s "
        f"(range {min(walls):.1f}–{max(walls):.1f}, n={len(walls)}); {len(result.findings):,} findings, "
        f"{result.bad_rows:,} bad rows, rejected={result.rejected}"
    )


if __name__ == "__main__":
    main()
