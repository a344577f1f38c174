"""Synthetic deliveries with ground truth (`bidui demo-data`): a rural prefecture's departments'
files, messy the way real ones are, and the links and clues a correct pipeline must find."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import load_feeds

from .assets import build_enterprises, build_housing, build_minimum_living, build_payroll, build_vehicles
from .coverage import annotate_members, build_illness, build_insurance, build_school
from .feeds import FEED_BUILDERS
from .messiness import mess_feed
from .population import build_population
from .regions import REGIONS_CSV, load_regions, villages_of
from .registry import build_registry
from .truth import build_clues, build_links, truth_readme
from .writers import LAYOUTS, write_feed

__all__ = ["GENERATOR_VERSION", "generate_delivery"]

GENERATOR_VERSION = "1.0"
Progress = Callable[[str, float], None]


def generate_delivery(persons: int, seed: int, out: Path, as_of: dt.date, progress: Progress | None = None) -> Path:
    """Write OUT/<as_of ISO>/ (the delivery: one file per feed + regions.csv) and
    OUT/<as_of ISO>/_truth/ ; return the delivery dir."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    report = progress or (lambda step, fraction: None)
    rng = np.random.Generator(np.random.PCG64(seed))
    world = build_population(rng, persons, villages_of(load_regions()), as_of)
    report("生成人口与户籍", 0.1)
    build_registry(rng, world)
    report("生成建档立卡名单", 0.15)
    for build in (build_school, build_insurance, build_illness):
        build(rng, world)
    annotate_members(rng, world)
    for build in (build_housing, build_minimum_living, build_payroll, build_enterprises, build_vehicles):
        build(rng, world)
    report("生成各部门数据", 0.25)

    delivery = Path(out) / as_of.isoformat()
    truth_dir = delivery / "_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REGIONS_CSV, delivery / "regions.csv")
    specs = load_feeds()
    people = world.people
    links, logs, counts = [], [], {}
    clean: dict[str, pd.DataFrame] = {}
    delivered_frames: dict[str, pd.DataFrame] = {}
    for step, (name, build) in enumerate(FEED_BUILDERS.items()):
        frame = build(rng, world)
        pid = frame["_pid"].to_numpy()
        birth_year = people["birth"].to_numpy().astype("datetime64[Y]").astype(np.int64)[pid] + 1970
        spec = specs[name]
        delivered = mess_feed(
            rng, spec, frame, people["id15"].to_numpy()[pid], birth_year, as_of, xlsx=LAYOUTS[name].fmt == "xlsx"
        )
        write_feed(spec, delivered.frame, delivery)
        links.append(build_links(name, delivered.frame[spec.key].to_numpy(), delivered.frame["_pid"].to_numpy()))
        logs.append(delivered.log.assign(feed=name))
        counts[name] = len(frame)
        if name in ("minimum_living", "dangerous_housing"):
            clean[name] = frame
        if name in ("poverty_members", "hukou"):
            delivered_frames[name] = delivered.frame
        report(f"写出 {spec.title}", 0.25 + 0.6 * (step + 1) / len(FEED_BUILDERS))

    clues = build_clues(world, clean, delivered_frames["poverty_members"], delivered_frames["hukou"])
    _write_truth(truth_dir, pd.concat(links, ignore_index=True), clues, pd.concat(logs, ignore_index=True))
    readme = truth_readme(GENERATOR_VERSION, seed, persons, as_of.isoformat(), counts, clues["rule"].value_counts().to_dict())
    (truth_dir / "README.md").write_text(readme, encoding="utf-8")
    report("写出真值", 1.0)
    return delivery


def _write_truth(directory: Path, links: pd.DataFrame, clues: pd.DataFrame, log: pd.DataFrame) -> None:
    links.to_csv(directory / "links.csv", index=False, lineterminator="\n")
    clues = clues.sort_values(["rule", "subject_key"], kind="stable")
    clues.to_csv(directory / "clues.csv", index=False, lineterminator="\n")
    log[["feed", "record_key", "field", "kind"]].to_csv(directory / "messiness.csv", index=False, lineterminator="\n")
