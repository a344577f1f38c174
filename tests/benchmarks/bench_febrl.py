"""Benchmark: the matchers engine on FEBRL and at scale — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_febrl.py --runs 3
    .venv/bin/python tests/benchmarks/bench_febrl.py --runs 1 --scale 200000 1000000

Prints, per FEBRL data set, precision, recall, F1, pair completeness, reduction ratio and
seconds per stage (median over runs). With --scale L R it also links L synthetic records (no real
data: made-up IDs, names from a small pool, seeded noise) to R and prints seconds per stage.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from matchers.blocking import Block, Prefix, Suffix, build_candidate_pairs, build_random_pairs
from matchers.classification import FellegiSunter
from matchers.clustering import cluster_link
from matchers.comparisons import ComparisonSpec, build_comparison_vectors
from matchers.evaluation import precision_recall_f1
from matchers.febrl import DATASETS, evaluate_febrl

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉斌宇浩凯俊帆婷雪琳晨阳欣怡")


def bench_febrl(runs: int) -> None:
    for name in DATASETS:
        results = [evaluate_febrl(name) for _ in range(runs)]
        first = results[0]
        print(
            f"\n{name}: {first['records']} records, {first['true_links']} true links, "
            f"{first['candidate_pairs']} candidate pairs, {first['predicted_pairs']} predicted"
        )
        for key in ("precision", "recall", "f1", "pair_completeness", "reduction_ratio"):
            print(f"  {key:<18} {first[key]:.6f}")
        print(f"  {'tp/fp/fn':<18} {first['true_positives']}/{first['false_positives']}/{first['false_negatives']}")
        for stage in first["seconds"]:
            times = [r["seconds"][stage] for r in results]
            print(f"  {stage + ' s':<18} {statistics.median(times):.3f} ({min(times):.3f}–{max(times):.3f})")
        totals = [r["total_seconds"] for r in results]
        print(f"  {'total s':<18} {statistics.median(totals):.3f} ({min(totals):.3f}–{max(totals):.3f})")


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    region = rng.choice([f"5227{c:02d}" for c in range(1, 40)], n)
    birth = (pd.Timestamp("1935-01-01") + pd.to_timedelta(rng.integers(0, 30000, n), unit="D")).strftime("%Y%m%d")
    seq = np.char.zfill(rng.integers(0, 10000, n).astype("U4"), 4)
    return np.char.add(np.char.add(region, np.asarray(birth, dtype="U8")), seq).astype(object)


def _typo(values: np.ndarray, rng: np.random.Generator, rows: np.ndarray, transpose: bool) -> None:
    for i in rows:
        text = list(values[i])
        k = int(rng.integers(0, len(text) - 1))
        if transpose:
            text[k], text[k + 1] = text[k + 1], text[k]
        else:
            text[k] = str((int(text[k]) + 1) % 10) if text[k].isdigit() else "0"
        values[i] = "".join(text)


def synthetic(n_left: int, n_right: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex]:
    rng = np.random.default_rng(seed)
    ids = _ids(rng, n_right)
    names = np.char.add(
        np.char.add(rng.choice(SURNAMES, n_right), rng.choice(GIVEN, n_right)), rng.choice(GIVEN + [""] * 20, n_right)
    ).astype(object)
    right = pd.DataFrame(
        {
            "id_number": ids,
            "name": names,
            "birth_date": np.array([f"{i[6:10]}-{i[10:12]}-{i[12:14]}" for i in ids], dtype=object),
            "village": np.array([i[:6] for i in ids], dtype=object) + rng.choice(["001", "002", "003"], n_right),
        },
        index=pd.Index([f"R{i:08d}" for i in range(n_right)], name="record"),
    )
    picked = rng.choice(n_right, n_left, replace=False)
    left = right.iloc[picked].copy()
    left.index = pd.Index([f"L{i:08d}" for i in range(n_left)], name="record")
    id_values = left["id_number"].to_numpy().copy()
    noise = rng.random(n_left)
    _typo(id_values, rng, np.flatnonzero(noise < 0.05), transpose=False)
    _typo(id_values, rng, np.flatnonzero((noise >= 0.05) & (noise < 0.07)), transpose=True)
    id_values[(noise >= 0.07) & (noise < 0.10)] = None
    left["id_number"] = id_values
    names_left = left["name"].to_numpy().copy()
    changed = np.flatnonzero(rng.random(n_left) < 0.05)
    names_left[changed] = [n[0] + rng.choice(GIVEN) + n[2:] for n in names_left[changed]]
    left["name"] = names_left
    truth = pd.MultiIndex.from_arrays([left.index, right.index[picked]])
    return left, right, truth


def bench_scale(n_left: int, n_right: int) -> None:
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        seconds[stage] = time.perf_counter() - clock
        clock = time.perf_counter()

    left, right, truth = synthetic(n_left, n_right, seed=7)
    lap("making data")
    rules = [
        Block(on="id_number"),
        Prefix("id_number", 14),
        Suffix("id_number", 12),
        Block(on=[Prefix("id_number", 6), Suffix("id_number", 4)]),
        Block(on=["name", "birth_date"]),
    ]
    specs = [
        ComparisonSpec("id_number", "id_number", method="damerau_levenshtein", levels=(0, 1)),
        ComparisonSpec("name", "name", method="jaro_winkler", levels=(1.0, 0.9)),
        ComparisonSpec("birth_date", "birth_date", method="date", levels=("exact", "day_month_swap", "one_digit")),
        ComparisonSpec("village", "village", method="exact"),
    ]
    pairs = build_candidate_pairs(left, right, rules)
    lap("blocking")
    gamma = build_comparison_vectors(pairs, left, right, specs)
    lap("comparing")
    # u starts at random-pair frequencies and EM moves it: the ID-part blocks make candidates
    # agree on birth date far more often than random pairs do (see matchers/febrl.py).
    model = FellegiSunter.from_specs(specs, prior=0.01).estimate_u(
        build_comparison_vectors(build_random_pairs(left, right, 500_000, seed=7), left, right, specs), fix=False
    )
    lap("estimating_u")
    model.fit(gamma)
    lap("fitting")
    probabilities = model.predict_proba(gamma)
    lap("scoring")
    cluster_link(pairs, probabilities, 0.9, left, right, conflict_key="id_number")
    lap("clustering")
    scores = precision_recall_f1(pairs[(probabilities >= 0.9).to_numpy()], truth)
    print(
        f"\nsynthetic {n_left} x {n_right}: {len(pairs)} candidate pairs, "
        f"precision {scores['precision']:.4f}, recall {scores['recall']:.4f}, F1 {scores['f1']:.4f}"
    )
    for stage, value in seconds.items():
        print(f"  {stage + ' s':<18} {value:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=int, nargs=2, metavar=("LEFT", "RIGHT"))
    args = parser.parse_args()
    bench_febrl(args.runs)
    if args.scale:
        bench_scale(*args.scale)


if __name__ == "__main__":
    main()
