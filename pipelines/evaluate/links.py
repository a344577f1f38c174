"""Score the linkage of a demo delivery against its truth (`bidui evaluate DELIVERY_DIR`).

The delivery is ingested and validated into the configured store unless that night already is;
then its person rows are linked (no reviewer decisions: the linker alone is judged) and the
persons compared with `_truth/links.csv` pair by pair. Beside it: the blocking of the
probabilistic pass (pair completeness, reduction ratio) and a plain exact-ID join — rows with the
same valid ID number are one person, every other row is alone.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from matchers.evaluation import cluster_precision_recall_f1
from pipelines import store
from pipelines.errors import BiduiError
from pipelines.ingest.delivery import delivery_date_of
from pipelines.link import people
from pipelines.link.linker import LinkResult, link_person_rows
from pipelines.link.person_rows import build_person_rows, load_person_snapshots
from pipelines.settings import Settings

__all__ = ["ensure_ingested", "evaluate_delivery"]

TRUTH_FILE = Path("_truth") / "links.csv"
_SCORE_KEYS = ("precision", "recall", "f1", "true_positives", "false_positives", "false_negatives", "predicted_pairs")


def load_truth(delivery_dir: Path) -> pd.DataFrame:
    """feed, record_key, true_person_id of a demo delivery."""
    path = Path(delivery_dir) / TRUTH_FILE
    if not path.exists():
        raise BiduiError(f"交付目录 {delivery_dir} 中没有真值文件 {TRUTH_FILE}，无法评估（只有模拟数据带真值）")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _true_persons(rows: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """The true person of each row; a row the truth does not name is a person of its own."""
    found = rows[["feed", "record_key"]].merge(truth, on=["feed", "record_key"], how="left")["true_person_id"]
    values = found.to_numpy(dtype=object)
    missing = pd.isna(values) | (values == "")
    values[missing] = [f"未知:{i}" for i in np.flatnonzero(missing)]
    return values


def exact_id_clusters(rows: pd.DataFrame) -> np.ndarray:
    """The baseline: one cluster per valid cleaned ID number, every other row alone."""
    valid = rows["id_status"].to_numpy(dtype=object) == "valid"
    keys = np.where(valid, rows["id_clean"].to_numpy(dtype=object), None)
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    alone = np.flatnonzero(codes < 0)
    codes[alone] = len(uniques) + np.arange(len(alone))
    return codes


def score_links(clusters: np.ndarray, true_persons: np.ndarray) -> dict:
    """Pairwise precision/recall/F1 and counts of `clusters` against the true persons."""
    scores = cluster_precision_recall_f1(clusters, true_persons)
    return {key: scores[key] for key in _SCORE_KEYS}


def blocking_scores(result: LinkResult, true_persons: np.ndarray) -> dict:
    """Pair completeness (share of the true scored-row–spine pairs among the candidates) and
    reduction ratio (1 - candidates / all scored-row–spine pairs) of the probabilistic pass."""
    blocking = result.blocking or {
        "scored": np.zeros(0, np.int64),
        "spine": np.zeros(0, np.int64),
        "pairs": pd.DataFrame({"row": [], "candidate": []}),
    }
    scored, spine = np.asarray(blocking["scored"]), np.asarray(blocking["spine"])
    candidates = blocking["pairs"].astype(np.int64)
    true_pairs = pd.DataFrame({"row": scored, "person": true_persons[scored]}).merge(
        pd.DataFrame({"candidate": spine, "person": true_persons[spine]}), on="person"
    )[["row", "candidate"]]
    found = len(true_pairs.merge(candidates, on=["row", "candidate"]))
    all_pairs = len(scored) * len(spine)
    return {
        "scored_rows": len(scored),
        "spine_rows": len(spine),
        "candidate_pairs": len(candidates),
        "true_pairs": len(true_pairs),
        "pair_completeness": found / len(true_pairs) if len(true_pairs) else 1.0,
        "reduction_ratio": 1.0 - len(candidates) / all_pairs if all_pairs else 1.0,
    }


def ensure_ingested(settings: Settings, delivery_dir: Path) -> float:
    """Ingest and validate the delivery unless its night is already stored; seconds spent."""
    started = time.perf_counter()
    day = delivery_date_of(delivery_dir)
    if store.load_feed_loads(store.connect(settings), day):
        return 0.0
    # The night's chain up to its report: the linker is what is judged, so the night is not linked twice.
    from pipelines.night.chain import run_night

    run_night(settings, delivery_dir, until="report")
    return time.perf_counter() - started


def evaluate_delivery(settings: Settings, delivery_dir: Path) -> dict:
    """Link a demo delivery and score it against its truth; a JSON-ready dict (see module docstring)."""
    delivery_dir = Path(delivery_dir)
    truth = load_truth(delivery_dir)
    seconds = {"ingest": round(ensure_ingested(settings, delivery_dir), 3)}
    day = delivery_date_of(delivery_dir)
    clock = time.perf_counter()
    rows = build_person_rows(load_person_snapshots(store.connect(settings), day))
    seconds["person_rows"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    result = link_person_rows(rows, None, settings)
    seconds["linking"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    rows = rows.reset_index(drop=True)
    persons = _true_persons(rows, truth)
    linkage = score_links(result.links["cluster"].to_numpy(), persons)
    baseline = score_links(exact_id_clusters(rows), persons)
    blocking = blocking_scores(result, persons)
    seconds["evaluating"] = round(time.perf_counter() - clock, 3)
    methods = result.links.loc[result.links["anchor_feed"].notna(), "method"].value_counts()
    return {
        "delivery_date": day.isoformat(),
        "rows": len(rows),
        "true_persons": int(pd.Series(persons).nunique()),
        "true_pairs": cluster_precision_recall_f1(persons, persons)["true_pairs"],
        "linkage": linkage,
        "exact_id_join": baseline,
        "blocking_stats": blocking,
        "linked_rows": {str(k): int(v) for k, v in methods.items()},
        "review_pairs": len(result.review),
        "upper": people.UPPER,
        "lower": people.LOWER,
        "seconds": seconds,
        "linking_seconds": result.stats["seconds"],
        "total_seconds": round(sum(seconds.values()), 3),
    }
