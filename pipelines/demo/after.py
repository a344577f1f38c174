"""The next night after a demo delivery (`bidui demo-data --after DIR`): the same prefecture a day
later, where a small share of persons changed and every other row is as it was.

A delivery is rebuilt from its truth — the first night from the seed, persons and as-of of
_truth/README.md, a later one from _truth/history.json (the first night's parameters and each
night's seed, date and share of changes) — and checked against its links.csv before it moves on."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import BiduiError

from .changes import CHANGE_KINDS, apply_changes
from .delivery import Night, Progress, build_night, mark_ready, night_links, write_night
from .truth import person_ids
from .version import GENERATOR_VERSION

__all__ = ["History", "NightStep", "generate_after", "read_history"]

HISTORY = "history.json"
_README_FIELDS = {
    "generator": r"^- generator: pipelines\.demo (\S+)$",
    "seed": r"^- seed: (\d+)$",
    "persons": r"^- persons: ([\d,]+)$",
    "as_of": r"^- as-of \(data date D\): (\d{4}-\d\d-\d\d)$",
}


@dataclass(frozen=True)
class NightStep:
    """One night after the first: its data date, seed and share of persons changed."""

    as_of: str
    seed: int
    changes: float


@dataclass(frozen=True)
class History:
    """How to rebuild a delivery: the first night's parameters and the nights after it."""

    generator: str
    persons: int
    seed: int
    as_of: str
    nights: tuple[NightStep, ...] = field(default_factory=tuple)

    @property
    def last_day(self) -> dt.date:
        return dt.date.fromisoformat(self.nights[-1].as_of if self.nights else self.as_of)


def read_history(previous: Path) -> History:
    """The History of a delivery written by the demo generator; a Chinese BiduiError otherwise."""
    truth = Path(previous) / "_truth"
    if not Path(previous).is_dir():
        raise BiduiError(f"找不到交付目录 {previous}")
    if (truth / HISTORY).is_file():
        data = json.loads((truth / HISTORY).read_text(encoding="utf-8"))
        history = History(
            data["generator"], data["persons"], data["seed"], data["as_of"], tuple(NightStep(**n) for n in data["nights"])
        )
    elif (truth / "README.md").is_file():
        text = (truth / "README.md").read_text(encoding="utf-8")
        found = {name: re.search(pattern, text, re.MULTILINE) for name, pattern in _README_FIELDS.items()}
        if not all(found.values()):
            raise BiduiError(f"{previous} 的 _truth/README.md 不是模拟数据生成器写的，无法据此生成下一晚")
        values = {name: match.group(1) for name, match in found.items() if match}
        history = History(values["generator"], int(values["persons"].replace(",", "")), int(values["seed"]), values["as_of"])
    else:
        raise BiduiError(f"{previous} 不是 bidui demo-data 生成的模拟交付（缺少 _truth/README.md），--after 只能接在模拟交付之后")
    if history.generator != GENERATOR_VERSION:
        raise BiduiError(
            f"{previous} 由 {history.generator} 版模拟数据生成器生成，当前为 {GENERATOR_VERSION} 版，无法重建；请重新生成第一晚"
        )
    return history


def _step_rng(seed: int, day: dt.date) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, day.toordinal()])))


def _links_digest(night: Night) -> str:
    text = night_links(night).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rebuild(history: History, previous: Path, progress: Progress) -> Night:
    """The previous night in memory, exactly as delivered (checked against its links.csv)."""
    rng = np.random.Generator(np.random.PCG64(history.seed))
    night = build_night(
        rng, history.persons, dt.date.fromisoformat(history.as_of), lambda s, f: progress(f"重建前一晚：{s}", f * 0.8)
    )
    for step in history.nights:
        day = dt.date.fromisoformat(step.as_of)
        apply_changes(night, _step_rng(step.seed, day), day, step.changes)
    links = Path(previous) / "_truth" / "links.csv"
    if not links.is_file() or hashlib.sha256(links.read_bytes()).hexdigest() != _links_digest(night):
        raise BiduiError(
            f"{previous} 与按其真值参数（种子 {history.seed}、人口 {history.persons:,}、数据日期 {history.last_day}）"
            "重建的数据不一致：交付或真值可能被改动过，无法据此生成下一晚"
        )
    return night


def generate_after(
    previous: Path,
    seed: int,
    changes: float = 0.01,
    as_of: dt.date | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write the night after the delivery `previous` to OUT/<as_of ISO>/ (OUT defaults to the
    folder holding `previous`; as_of to the day after) with its _truth/; return the delivery dir."""
    report = progress or (lambda step, fraction: None)
    if not 0 <= changes <= 1:
        raise BiduiError(f"--changes 应在 0 到 1 之间（发生变化的人口比例），而不是 {changes}")
    history = read_history(previous)
    day = as_of or history.last_day + dt.timedelta(days=1)
    if day <= history.last_day:
        raise BiduiError(f"下一晚的数据日期 {day} 须晚于前一晚的 {history.last_day}")
    night = _rebuild(history, previous, report)
    step = NightStep(day.isoformat(), seed, changes)
    report("生成一天内的变化", 0.5)
    changed = apply_changes(night, _step_rng(seed, day), day, changes)
    delivery, counts, clues = write_night(night, Path(out) if out else Path(previous).resolve().parent, report)
    truth = delivery / "_truth"
    write_csv = {"index": False, "lineterminator": "\n"}
    changed = changed.assign(
        order=changed["kind"].map({kind: i for i, kind in enumerate(CHANGE_KINDS)}), true_person_id=person_ids(changed["pid"])
    )
    changed = changed.sort_values(["order", "pid"], kind="stable")
    changed[["true_person_id", "kind", "feed"]].to_csv(truth / "changes.csv", **write_csv)
    before = pd.read_csv(Path(previous) / "_truth" / "clues.csv", dtype=str, keep_default_na=False)
    _clue_changes(before, clues).to_csv(truth / "clue_changes.csv", **write_csv)
    following = History(history.generator, history.persons, history.seed, history.as_of, (*history.nights, step))
    (truth / HISTORY).write_text(json.dumps(asdict(following), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    readme = after_readme(following, counts, clues["rule"].value_counts().to_dict(), changed["kind"].value_counts().to_dict())
    (truth / "README.md").write_text(readme, encoding="utf-8")
    mark_ready(delivery)
    report("写出真值", 1.0)
    return delivery


def _clue_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Clues found tonight only (new) or last night only (gone)."""
    columns = ["rule", "subject_feed", "subject_key"]
    both = before[columns].merge(after[columns], how="outer", indicator=True)
    both = both[both["_merge"] != "both"]
    both["change"] = np.where(both["_merge"] == "right_only", "new", "gone")
    return both[[*columns, "change"]].sort_values(columns, kind="stable").reset_index(drop=True)


def after_readme(history: History, counts: dict[str, int], clue_counts: dict[str, int], change_counts: dict[str, int]) -> str:
    """The _truth/README.md of a night made with --after."""
    step = history.nights[-1]
    before = history.nights[-2].as_of if len(history.nights) > 1 else history.as_of
    feeds = "\n".join(f"| {name} | {count:,} |" for name, count in counts.items())
    clues = "\n".join(f"| {rule} | {count:,} |" for rule, count in sorted(clue_counts.items()))
    kinds = "\n".join(f"| {kind} | {change_counts.get(kind, 0):,} |" for kind in CHANGE_KINDS)
    return f"""# 模拟交付的真值 (ground truth of a synthetic delivery)

All data in this delivery is synthetic; no row describes a real person.

- generator: pipelines.demo {history.generator}
- first night: persons {history.persons:,}, seed {history.seed}, as-of {history.as_of}
- this night: as-of (data date D) {step.as_of}, after {before}, seed {step.seed}, changes {step.changes}
- command: `bidui demo-data --after <DIR>/{before} --seed {step.seed} --changes {step.changes} --as-of {step.as_of}`

The same previous delivery, seed and changes always give byte-identical files. history.json holds
what rebuilds this night (the next one is made from it with --after).

## Across nights
Person ids (true_person_id) are the same in every night of a history: a person keeps theirs, a
newborn gets a new one. Rows of persons not in changes.csv are as they were the night before,
cell for cell; changed rows stay in place, rows a department removed are gone, new rows are at
the end of each file.

## changes.csv — `true_person_id, kind, feed`
One row per person changed overnight (one change each): death (hukou 死亡; school, illness,
payroll, vehicle rows removed, this year's insurance ended), move_out (hukou 迁出), move_within
(to another hukou household; other departments keep the old village), birth (a new person in an
existing household: hukou, often poverty_members and medical_insurance), name_corrected (hukou
corrects a character; other feeds keep the old spelling, logged as homophone), name_fixed and
id_fixed (a mangled cell of `feed` set right), id_blanked (a right ID of `feed` left empty),
vehicle_added / vehicle_removed, payroll_added / payroll_removed, insured (this year's cover),
house_renovated (改造状态 已竣工).

## clue_changes.csv — `rule, subject_feed, subject_key, change`
Clues expected tonight but not last night (new) and last night but not tonight (gone, which the
pipeline marks cleared by data). Some come from the calendar alone (a child turning 6 or 16).

## links.csv, clues.csv, messiness.csv
As for the first night (see that night's README): every row's true person, every clue that must
fire tonight, every deliberate deviation in tonight's files.

## Changes per kind
| kind | persons |
|---|---|
{kinds}

## Rows per feed
| feed | rows |
|---|---|
{feeds}

## Expected clues per rule
| rule | clues |
|---|---|
{clues}
"""
