"""Benchmark: do person IDs survive a night on which 1% of rows changed?

Night 2 is a copy of a delivery under the next date with a seeded 1% of each feed's rows changed
the way real re-deliveries change (a typo in the name, the ID number blanked or mistyped, the person
moved to another village), each file kept in its own format, encoding and header spelling. Both
nights run in full (`run_night`: ingest → validate → report → link) on a fresh store; the script
prints the share of (feed, record_key) rows whose person_id is unchanged (target ≥ 99.9%), per
kind of change, the household codes kept, and the link stage's seconds. A script, not a test:

    .venv/bin/python tests/benchmarks/bench_stability.py [--delivery seeds/demo/2026-11-20] [--fraction 0.01]
    .venv/bin/python tests/benchmarks/bench_stability.py --persons 200000   # makes that demo delivery first
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines import store
from pipelines.catalog.feeds import FeedSpec, load_feeds, normalise_header
from pipelines.ingest.readers import find_header
from pipelines.night.chain import run_night
from pipelines.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
NAME_FIELDS = ("name", "head_name", "owner_name", "legal_rep_name")
ID_FIELDS = ("id_number", "head_id", "owner_id", "legal_rep_id")
# Characters a clerk might type instead of the right one; none of them is a surname here.
TYPO_CHARACTERS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华慧巧美"


def _fields(spec: FeedSpec, header: list) -> dict[str, int]:
    lookup = spec.header_lookup()
    return {lookup[normalise_header(text)]: i for i, text in enumerate(header) if text and normalise_header(text) in lookup}


def _change(row: list, columns: dict[str, int], villages: list[str], rng: np.random.Generator) -> str | None:
    """Change one thing in a data row in place; returns the kind of change (None: nothing to change)."""
    kinds = []
    name = next((columns[f] for f in NAME_FIELDS if f in columns and row[columns[f]]), None)
    id_col = next((columns[f] for f in ID_FIELDS if f in columns and row[columns[f]]), None)
    if name is not None and len(str(row[name])) >= 2:
        kinds.append("name_typo")
    if id_col is not None:
        kinds += ["blank_id", "id_typo"]
    if "village_code" in columns and row[columns["village_code"]] and len(villages) > 1:
        kinds.append("moved_village")
    if not kinds:
        return None
    kind = kinds[rng.integers(len(kinds))]
    if kind == "name_typo":
        text = str(row[name])
        at = 1 + rng.integers(len(text) - 1)  # never the surname
        row[name] = text[:at] + TYPO_CHARACTERS[rng.integers(len(TYPO_CHARACTERS))] + text[at + 1 :]
    elif kind == "blank_id":
        row[id_col] = ""
    elif kind == "id_typo":
        text = str(row[id_col])
        digits = [i for i, c in enumerate(text[:17]) if c.isdigit()]
        at = digits[rng.integers(len(digits))]
        row[id_col] = text[:at] + str((int(text[at]) + 1 + rng.integers(8)) % 10) + text[at + 1 :]
    else:
        current = row[columns["village_code"]]
        row[columns["village_code"]] = rng.choice([v for v in villages[:50] if v != current])
    return kind


def _change_rows(rows: list[list], spec: FeedSpec, fraction: float, rng: np.random.Generator) -> list[tuple[str, str]]:
    header_index = find_header(rows, spec)[0]
    columns = _fields(spec, rows[header_index])
    data = [r for r in rows[header_index + 1 :] if any(c not in (None, "") for c in r)]
    villages = (
        sorted({str(r[columns["village_code"]]) for r in data if r[columns["village_code"]]}) if "village_code" in columns else []
    )
    changed = []
    for index in rng.choice(len(data), size=max(1, round(len(data) * fraction)), replace=False):
        row = data[index]
        kind = _change(row, columns, villages, rng)
        if kind:
            changed.append((str(row[columns[spec.key]]).strip(), kind))
    return changed


def _change_csv(path: Path, spec: FeedSpec, fraction: float, rng) -> list[tuple[str, str]]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    text = data.decode(encoding)
    newline = "\r\n" if "\r\n" in text[:10000] else "\n"
    rows = list(csv.reader(io.StringIO(text)))
    changed = _change_rows(rows, spec, fraction, rng)
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return changed


def _change_xlsx(path: Path, spec: FeedSpec, fraction: float, rng) -> list[tuple[str, str]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    cells = [list(row) for row in sheet.iter_rows()]
    rows = [[c.value for c in row] for row in cells]
    changed = _change_rows(rows, spec, fraction, rng)
    for row_cells, values in zip(cells, rows):
        for cell, value in zip(row_cells, values):
            if cell.value != value:
                cell.value = value
    workbook.save(path)
    return changed


def make_next_night(delivery: Path, drop: Path, fraction: float, seed: int) -> tuple[Path, Path, pd.DataFrame]:
    """Copy `delivery` as night 1 and, one day later, night 2 with `fraction` of rows changed."""
    day = dt.date.fromisoformat(delivery.name)
    first, second = drop / day.isoformat(), drop / (day + dt.timedelta(days=1)).isoformat()
    shutil.rmtree(drop, ignore_errors=True)
    ignore = shutil.ignore_patterns("_truth")
    shutil.copytree(delivery, first, ignore=ignore)
    shutil.copytree(delivery, second, ignore=ignore)
    feeds = load_feeds()
    rng = np.random.default_rng(seed)
    changes = []
    for path in sorted(second.iterdir()):
        spec = feeds.get(path.stem)
        if spec is None or spec.name == "regions":
            continue
        change = _change_xlsx if path.suffix == ".xlsx" else _change_csv
        changes += [(spec.name, key, kind) for key, kind in change(path, spec, fraction, rng)]
    return first, second, pd.DataFrame(changes, columns=["feed", "record_key", "kind"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delivery", type=Path, default=ROOT / "seeds" / "demo" / "2026-11-20")
    parser.add_argument("--persons", type=int, help="make a demo delivery of this many persons and use it")
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bidui-bench-stability")
    args = parser.parse_args()
    delivery = args.delivery
    if args.persons:
        from pipelines.demo import generate_delivery

        delivery = args.work / f"demo-{args.persons}" / "2026-11-20"
        if not delivery.exists():
            generate_delivery(args.persons, 20261120, delivery.parent, dt.date(2026, 11, 20))
    first, second, changes = make_next_night(delivery, args.work / "drop", args.fraction, args.seed)
    print(f"night 2 changes: {len(changes):,} rows ({changes['kind'].value_counts().to_dict()})")
    data = args.work / "data"
    shutil.rmtree(data, ignore_errors=True)
    settings = load_settings(environ={}, data_dir=data, show_progress=False)
    nights = {}
    for night in (first, second):
        start = time.perf_counter()
        result = run_night(settings, night)
        if result.link_error or result.link is None:
            sys.exit(f"linking {night.name} failed: {result.link_error}")
        nights[night.name] = result.link.to_dict()
        print(f"{night.name}: run_night {time.perf_counter() - start:.1f} s; link stage {result.link.seconds}")
    engine = store.connect(settings)
    before, after = (store.load_links(engine, dt.date.fromisoformat(n.name)) for n in (first, second))
    both = before.merge(after, on=["feed", "record_key"], suffixes=("_1", "_2"))
    both = both.merge(changes, on=["feed", "record_key"], how="left").fillna({"kind": "unchanged row"})
    same = both["person_id_1"] == both["person_id_2"]
    print(f"rows on both nights: {len(both):,}; person_id unchanged: {same.mean():.4%} ({(~same).sum():,} moved)")
    for kind, group in both.groupby("kind"):
        print(f"  {kind}: {len(group):,} rows, unchanged {(group['person_id_1'] == group['person_id_2']).mean():.4%}")
    has_code = both["household_code_1"].notna()
    kept = (both.loc[has_code, "household_code_1"] == both.loc[has_code, "household_code_2"]).mean()
    print(f"household_code unchanged: {kept:.4%} of rows that had one")


if __name__ == "__main__":
    main()
