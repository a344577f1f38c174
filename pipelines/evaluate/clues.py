"""Score the clue rules on a demo delivery against its truth (`bidui evaluate clues DELIVERY_DIR`).

The night is ingested, validated and linked into the configured store unless it already is (as
pipelines.evaluate.links does, the linker alone: no reviewer decisions exist in a fresh store); then
every rule runs and its subjects are compared with `_truth/clues.csv` on (rule, subject_feed,
subject_key).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.ingest.delivery import delivery_date_of
from pipelines.rules.run import load_rules, run_rules
from pipelines.settings import Settings
from pipelines.store.tables import links

__all__ = ["evaluate_rules"]

CLUE_TRUTH_FILE = Path("_truth") / "clues.csv"
_KEY = ["rule", "subject_feed", "subject_key"]


def load_clue_truth(delivery_dir: Path) -> pd.DataFrame:
    """rule, subject_feed, subject_key of every clue a demo delivery must raise."""
    path = Path(delivery_dir) / CLUE_TRUTH_FILE
    if not path.exists():
        raise BiduiError(f"交付目录 {delivery_dir} 中没有线索真值文件 {CLUE_TRUTH_FILE}，无法评估（只有模拟数据带真值）")
    return pd.read_csv(path, dtype=str, keep_default_na=False)[_KEY]


def score_rules(fired: pd.DataFrame, truth: pd.DataFrame, rules: list[str]) -> dict[str, dict]:
    """Per rule: precision, recall, true/false positives, false negatives, and the keys missed or
    raised wrongly (first ten of each)."""
    found = fired[_KEY].drop_duplicates().assign(found=True)
    expected = truth[_KEY].drop_duplicates().assign(expected=True)
    both = found.merge(expected, on=_KEY, how="outer")
    both[["found", "expected"]] = both[["found", "expected"]].astype("boolean").fillna(False).astype(bool)
    scores = {}
    for rule in rules:
        part = both[both["rule"] == rule]
        tp = int((part["found"] & part["expected"]).sum())
        fp = int((part["found"] & ~part["expected"]).sum())
        fn = int((~part["found"] & part["expected"]).sum())
        scores[rule] = {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "missed": sorted(part.loc[~part["found"] & part["expected"], "subject_key"])[:10],
            "wrong": sorted(part.loc[part["found"] & ~part["expected"], "subject_key"])[:10],
        }
    return scores


def _ensure_linked(settings: Settings, delivery_dir: Path) -> float:
    """Ingest, validate and link the delivery unless its night already has a base map; seconds."""
    from pipelines.evaluate.links import ensure_ingested
    from pipelines.link.stage import link_night

    started = time.perf_counter()
    day = delivery_date_of(delivery_dir)
    engine = store.connect(settings)
    with engine.connect() as conn:
        linked = conn.execute(select(func.count()).where(links.c.delivery_date == day)).scalar()
    if not linked:
        ensure_ingested(settings, delivery_dir)
        link_night(settings, day)
    return time.perf_counter() - started


def evaluate_rules(settings: Settings, delivery_dir: Path) -> dict:
    """Run every rule on a demo delivery and score it against `_truth/clues.csv`; a JSON-ready dict:
    delivery_date, per-rule scores under `rules` (with status and seconds), overall micro scores,
    and seconds spent."""
    delivery_dir = Path(delivery_dir)
    truth = load_clue_truth(delivery_dir)
    seconds = {"ingest_and_link": round(_ensure_linked(settings, delivery_dir), 3)}
    day = delivery_date_of(delivery_dir)
    rules = load_rules()
    clock = time.perf_counter()
    run = run_rules(store.connect(settings), settings, day, rules)
    seconds["rules"] = round(time.perf_counter() - clock, 3)
    codes = sorted({rule.code for rule in rules} | set(truth["rule"]))
    scores = score_rules(run.fired, truth, codes)
    statuses = {r["rule"]: r for r in run.runs}
    for code, score in scores.items():
        status = statuses.get(code, {})
        score.update(status=status.get("status", "unknown"), seconds=status.get("seconds"), message=status.get("message"))
    tp = sum(s["true_positives"] for s in scores.values())
    fp = sum(s["false_positives"] for s in scores.values())
    fn = sum(s["false_negatives"] for s in scores.values())
    return {
        "delivery_date": day.isoformat(),
        "expected_clues": len(truth),
        "fired": len(run.fired),
        "overall": {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
        },
        "rules": scores,
        "seconds": seconds,
    }
