"""One night of the demo prefecture: built in memory (world, delivered frames, messiness log), then
written as a delivery directory with its `_truth/`."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import load_feeds

from .assets import build_enterprises, build_housing, build_minimum_living, build_payroll, build_vehicles
from .coverage import annotate_members, build_illness, build_insurance, build_school
from .feeds import FEED_BUILDERS
from .messiness import mess_feed
from .model import World
from .population import build_population
from .regions import REGIONS_CSV, load_regions, villages_of
from .registry import build_registry
from .truth import build_clues, build_links
from .writers import LAYOUTS, write_feed

__all__ = ["LOG_COLUMNS", "Night", "Progress", "build_night", "night_clues", "night_links", "write_night"]

Progress = Callable[[str, float], None]
LOG_COLUMNS = ["feed", "record_key", "field", "kind"]
# Cleaned enumerated values the truth reads from delivered frames (stray spaces come off).
_TRUTH_ENUMS = {"minimum_living": ("state",), "dangerous_housing": ("grade", "renovation")}


@dataclass
class Night:
    """A night as delivered: the true world, each feed's delivered frame (see messiness.Delivered,
    blank rows included) and the log of every deliberate deviation (LOG_COLUMNS)."""

    world: World
    delivered: dict[str, pd.DataFrame]
    log: pd.DataFrame

    @property
    def as_of(self) -> dt.date:
        return self.world.as_of


def _quiet(step: str, fraction: float) -> None:
    return None


def build_night(rng: np.random.Generator, persons: int, as_of: dt.date, progress: Progress = _quiet) -> Night:
    """The first night of a population of `persons`, drawn from `rng`."""
    world = build_population(rng, persons, villages_of(load_regions()), as_of)
    progress("生成人口与户籍", 0.1)
    build_registry(rng, world)
    progress("生成建档立卡名单", 0.15)
    for build in (build_school, build_insurance, build_illness):
        build(rng, world)
    annotate_members(rng, world)
    for build in (build_housing, build_minimum_living, build_payroll, build_enterprises, build_vehicles):
        build(rng, world)
    progress("生成各部门数据", 0.25)
    specs = load_feeds()
    people = world.people
    delivered: dict[str, pd.DataFrame] = {}
    logs = []
    for step, (name, build_feed) in enumerate(FEED_BUILDERS.items()):
        frame = build_feed(rng, world)
        pid = frame["_pid"].to_numpy()
        birth_year = people["birth"].to_numpy().astype("datetime64[Y]").astype(np.int64)[pid] + 1970
        messy = mess_feed(
            rng, specs[name], frame, people["id15"].to_numpy()[pid], birth_year, as_of, xlsx=LAYOUTS[name].fmt == "xlsx"
        )
        delivered[name] = messy.frame
        logs.append(messy.log.assign(feed=name))
        progress(f"生成 {specs[name].title}", 0.25 + 0.25 * (step + 1) / len(FEED_BUILDERS))
    return Night(world, delivered, pd.concat(logs, ignore_index=True)[LOG_COLUMNS])


def night_links(night: Night) -> pd.DataFrame:
    """links.csv: the true person of every delivered row but blank ones, feed by feed."""
    specs = load_feeds()
    return pd.concat(
        [
            build_links(name, frame[specs[name].key].to_numpy(), frame["_pid"].to_numpy())
            for name, frame in night.delivered.items()
        ],
        ignore_index=True,
    )


def night_clues(night: Night) -> pd.DataFrame:
    """Every clue the night must raise (truth.build_clues), sorted as clues.csv is."""
    clean = {}
    for name, enums in _TRUTH_ENUMS.items():
        frame = night.delivered[name]
        frame = frame[frame["_pid"].to_numpy() >= 0].reset_index(drop=True)
        clean[name] = frame.assign(**{column: frame[column].str.strip() for column in enums})
    clues = build_clues(night.world, clean, night.delivered["poverty_members"], night.delivered["hukou"])
    return clues.sort_values(["rule", "subject_key"], kind="stable")


# The sender's "delivery complete" marker (pipelines.ingest.ready.READY_MARKER: the nightly DAG
# waits for it); a department writes it last, after every file of the night.
READY_MARKER = "_READY"


def mark_ready(delivery: Path) -> None:
    """Write the delivery's completion marker: called after every other file, truth included."""
    (delivery / READY_MARKER).write_text("", encoding="utf-8")


def write_night(night: Night, out: Path, progress: Progress = _quiet) -> tuple[Path, dict[str, int], pd.DataFrame]:
    """Write OUT/<as_of ISO>/ (one file per feed, regions.csv) and its _truth/ links, clues and
    messiness; return (delivery dir, clean rows per feed, clues). The README is the caller's."""
    delivery = Path(out) / night.as_of.isoformat()
    truth_dir = delivery / "_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REGIONS_CSV, delivery / "regions.csv")
    specs = load_feeds()
    counts = {}
    for step, (name, frame) in enumerate(night.delivered.items()):
        write_feed(specs[name], frame, delivery)
        counts[name] = int((frame["_pid"].to_numpy() >= 0).sum())
        progress(f"写出 {specs[name].title}", 0.55 + 0.35 * (step + 1) / len(night.delivered))
    clues = night_clues(night)
    write_csv = {"index": False, "lineterminator": "\n"}
    night_links(night).to_csv(truth_dir / "links.csv", **write_csv)
    clues.to_csv(truth_dir / "clues.csv", **write_csv)
    night.log[LOG_COLUMNS].to_csv(truth_dir / "messiness.csv", **write_csv)
    return delivery, counts, clues
