"""Synthetic deliveries with ground truth (`bidui demo-data`): a rural prefecture's departments'
files, messy the way real ones are, and the links and clues a correct pipeline must find; and the
next night after one of them (`bidui demo-data --after`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from .after import generate_after
from .delivery import Progress, build_night, mark_ready, write_night
from .truth import truth_readme
from .version import GENERATOR_VERSION

__all__ = ["GENERATOR_VERSION", "generate_after", "generate_delivery"]


def generate_delivery(persons: int, seed: int, out: Path, as_of: dt.date, progress: Progress | None = None) -> Path:
    """Write OUT/<as_of ISO>/ (the delivery: one file per feed + regions.csv) and
    OUT/<as_of ISO>/_truth/ ; return the delivery dir."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    report = progress or (lambda step, fraction: None)
    night = build_night(np.random.Generator(np.random.PCG64(seed)), persons, as_of, report)
    delivery, counts, clues = write_night(night, out, report)
    readme = truth_readme(GENERATOR_VERSION, seed, persons, as_of.isoformat(), counts, clues["rule"].value_counts().to_dict())
    (delivery / "_truth" / "README.md").write_text(readme, encoding="utf-8")
    mark_ready(delivery)
    report("写出真值", 1.0)
    return delivery
