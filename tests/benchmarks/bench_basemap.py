"""Benchmark: building and writing the base map for a synthetic night of N persons (~2.7 rows each).

The linker is not run: a LinkResult of the contract's shape is made up (seeded), so this measures
exactly what pipelines.link.stage adds — stable IDs, attribute choice, households, and the writes — on
a fresh store (night 1), the next night (IDs carried over, persons upserted) and a re-run of it.
A script, not a test:

    .venv/bin/python tests/benchmarks/bench_basemap.py --persons 1000000 --runs 3 [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines import store
from pipelines.basemap.build import build_base_map
from pipelines.settings import load_settings

# Rows per person of each feed, roughly the demo delivery's mix (2.7 rows per person).
FEED_SHARES = {
    "hukou": 1.0,
    "medical_insurance": 1.02,
    "poverty_members": 0.22,
    "school_enrolment": 0.157,
    "minimum_living": 0.057,
    "illness_registry": 0.043,
    "poverty_households": 0.06,
    "dangerous_housing": 0.033,
    "vehicles": 0.056,
    "public_payroll": 0.02,
    "enterprise_registry": 0.01,
}
LEVELS = json.dumps({"name": 3, "name_pinyin": 1, "id": 2, "birth_date": 1, "sex": 1, "village": 1, "household": 1})


def make_night(persons: int, seed: int) -> tuple[pd.DataFrame, SimpleNamespace, pd.DataFrame]:
    """(person rows, LinkResult, facts) for a synthetic night."""
    rng = np.random.default_rng(seed)
    parts = []
    for feed, share in FEED_SHARES.items():
        n = persons if feed == "hukou" else int(persons * share)
        owner = np.arange(persons) if feed == "hukou" else rng.integers(0, persons, n)
        parts.append(
            pd.DataFrame({"feed": feed, "record_key": [f"{feed[:2].upper()}{i:09d}" for i in range(n)], "cluster": owner})
        )
    rows = pd.concat(parts, ignore_index=True)
    person = rows["cluster"].to_numpy()
    ids = pd.Series([f"5227251990{p:08d}" for p in range(persons)], dtype=object)
    households = person // 3
    rows["role"] = "person"
    rows["name"] = rows["name_norm"] = pd.Series([f"张{p % 9973}" for p in person], dtype=object)
    rows["id18"] = ids.to_numpy()[person]
    rows.loc[rng.random(len(rows)) < 0.03, "id18"] = None
    rows["birth_date"] = "1990-01-01"
    rows["id_birth_date"] = "1990-01-01"
    rows["sex"] = np.where(person % 2, "男", "女")
    rows["id_sex"] = rows["sex"]
    rows["village_code"] = pd.Series([f"522725{(h % 5000):06d}" for h in households], dtype=object)
    ref = pd.Series([f"hukou:{h:010d}" for h in households], dtype=object)
    rows["household_ref"] = np.where(rows["feed"] == "hukou", ref, None)
    poverty = rows["feed"].isin(["poverty_members", "poverty_households"])
    rows.loc[poverty, "household_ref"] = [f"poverty:{h:010d}" for h in households[poverty.to_numpy()]]
    rows.loc[rows["feed"] == "poverty_households", "role"] = "household_head"
    anchored = rows["feed"] != "hukou"
    method = np.where(anchored, np.where(rng.random(len(rows)) < 0.1, "probabilistic", "id_exact"), "singleton")
    links = rows[["feed", "record_key", "cluster"]].assign(
        method=method,
        probability=np.where(method == "probabilistic", 0.97, 1.0),
        match_weight=np.where(method == "probabilistic", 8.5, np.nan),
        anchor_feed=np.where(anchored, "hukou", None),
        anchor_key=np.where(anchored, pd.Series([f"HU{p:09d}" for p in person], dtype=object), None),
        levels=np.where(method == "probabilistic", LEVELS, None),
    )
    pick = rng.integers(0, len(rows), persons // 100)
    review = pd.DataFrame(
        {
            "feed": rows["feed"].to_numpy()[pick],
            "record_key": rows["record_key"].to_numpy()[pick],
            "candidate_feed": "hukou",
            "candidate_key": [f"HU{p:09d}" for p in rng.integers(0, persons, len(pick))],
            "probability": 0.7,
            "match_weight": 1.2,
            "levels": LEVELS,
        }
    ).drop_duplicates(["feed", "record_key", "candidate_feed", "candidate_key"])
    hukou = rows["feed"] == "hukou"
    facts = pd.DataFrame(
        {
            "feed": rows["feed"],
            "record_key": rows["record_key"],
            "ethnicity": np.where(hukou, "汉族", None),
            "hukou_state": np.where(hukou, "正常", None),
            "relation": np.where(hukou, np.where(person % 3 == 0, "户主", "配偶"), None),
            "insured_state": np.where(rows["feed"] == "medical_insurance", "正常参保", None),
        }
    )
    result = SimpleNamespace(
        links=links, review=review, model={"prior": 0.01, "comparisons": [], "upper": 0.9, "lower": 0.5}, stats={}
    )
    return rows.drop(columns=["cluster"]), result, facts


def one_night(engine, day: dt.date, rows, result, facts) -> dict[str, float]:
    """Seconds for loading what the base map needs, building it and writing it."""
    seconds = {}
    start = time.perf_counter()
    previous = store.load_previous_links(engine, day)
    number = store.load_next_person_number(engine)
    keys = store.load_household_keys(engine)
    seconds["load"] = time.perf_counter() - start
    start = time.perf_counter()
    base = build_base_map(rows, result, previous, number, keys, facts)
    seconds["build"] = time.perf_counter() - start
    start = time.perf_counter()
    store.write_base_map(engine, day, base.links, base.persons, base.households, base.review, result.model)
    seconds["write"] = time.perf_counter() - start
    seconds["kept_share"] = base.counts["persons_kept"] / base.counts["persons"]
    return seconds


def fresh_settings(work: Path, postgres: str | None):
    shutil.rmtree(work, ignore_errors=True)
    if not postgres:
        return load_settings(environ={}, data_dir=work, show_progress=False)
    import sqlalchemy as sa

    schema = f"bench_{int(time.time() * 1000)}"
    with sa.create_engine(postgres).begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    return load_settings(
        environ={}, data_dir=work, database_url=f"{postgres}?options=-csearch_path%3D{schema}", show_progress=False
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bidui-bench-basemap")
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database to write into instead of SQLite")
    args = parser.parse_args()
    start = time.perf_counter()
    rows, result, facts = make_night(args.persons, args.seed)
    print(f"synthetic night: {len(rows):,} rows, {args.persons:,} persons ({time.perf_counter() - start:.1f} s to make)")
    results: dict[str, list[float]] = {}
    for run in range(args.runs):
        engine = store.connect(fresh_settings(args.work / f"run-{run}", args.postgres))
        nights = {"night1": dt.date(2026, 11, 20), "night2": dt.date(2026, 11, 21), "rerun2": dt.date(2026, 11, 21)}
        for label, day in nights.items():
            for stage, value in one_night(engine, day, rows, result, facts).items():
                results.setdefault(f"{label}.{stage}", []).append(value)
        engine.dispose()
    for label, values in results.items():
        unit = "" if label.endswith("kept_share") else " s"
        print(
            f"{label}: median {statistics.median(values):.2f}{unit} (range {min(values):.2f}–{max(values):.2f}, n={len(values)})"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
