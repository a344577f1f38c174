"""Benchmark: importing a returned ledger of 10,000 filled rows — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_ledger_import.py --clues 10000 --runs 3 [--postgres URL]

Per run, on a fresh store: 10,000 synthetic clues (all 18 rules, one county of the seed regions,
no real data) are found, issued as one county ledger (timed: "issue"), and the filled ledger is
imported (timed: "import") and imported again (timed: "reimport", nothing changes). The filled
workbook is made once with openpyxl from the first run's ledger (clue IDs are the same every run):
60 % 属实 with rectification and signature, 30 % 不属实 with a reason and signature, 10 % 属实
verified only. Prints median and range (min–max) over --runs. Target: import ≤ 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.clues.life import FIRED_COLUMNS, apply_rule_run
from pipelines.ledgers.imports import import_ledger
from pipelines.ledgers.issue import issue_ledgers
from pipelines.rules.run import load_rules
from pipelines.settings import load_settings
from pipelines.store.tables import persons

ROOT = Path(__file__).resolve().parents[2]
COUNTY = "522725"
NIGHT, ISSUED = dt.date(2026, 11, 20), dt.date(2026, 11, 23)


def fresh_settings(work: Path, postgres: str | None):
    shutil.rmtree(work, ignore_errors=True)
    if not postgres:
        return load_settings(environ={}, data_dir=work, show_progress=False), None
    import sqlalchemy as sa

    schema = f"bench_{int(time.time() * 1000)}"
    with sa.create_engine(postgres).begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    url = f"{postgres}?options=-csearch_path%3D{schema}"
    return load_settings(environ={}, data_dir=work, database_url=url, show_progress=False), schema


def make_store(settings, clues: int, seed: int):
    """A store holding the seed regions, `clues` persons and one night's clues on them, all `new`."""
    engine = store.connect(settings)
    regions = pd.read_csv(ROOT / "seeds" / "regions.csv", dtype=str).rename(
        columns={
            "区划代码": "code",
            "名称": "name",
            "级别": "level",
            "是否贫困村": "is_poor_village",
            "贫困村出列年度": "poor_village_exit_year",
            "距县城公里数": "km_to_county_seat",
        }
    )
    store.replace_region_reference(engine, regions, source="bench")
    villages = regions[(regions["level"] == "village") & regions["code"].str.startswith(COUNTY)]["code"].to_numpy()
    rng = np.random.default_rng(seed)
    rules = load_rules()
    keys = [f"{COUNTY}{n:012d}" for n in range(clues)]
    ids = [f"{COUNTY}19{n % 90 + 10:02d}0101{n % 10000:04d}" for n in range(clues)]
    chosen = [rules[n % len(rules)] for n in range(clues)]
    fired = pd.DataFrame(
        {
            "rule": [r.code for r in chosen],
            "subject_feed": "poverty_members",
            "subject_key": keys,
            "person_id": [f"P{n:09d}" for n in range(clues)],
            "household_code": None,
            "household_no": [f"{COUNTY}{n // 4:012d}" for n in range(clues)],
            "village_code": rng.choice(villages, clues),
            "department": [r.department for r in chosen],
            "evidence": [
                json.dumps(
                    {
                        "feed": "hukou",
                        "record_key": f"HK{n}",
                        "fields": {"name": f"测试{n}", "id_number": ids[n], "hukou_state": "死亡", "changed_on": "2026-03-01"},
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                )
                for n in range(clues)
            ],
        },
        columns=FIRED_COLUMNS,
    )
    with engine.begin() as conn:
        conn.execute(
            persons.insert(),
            [
                {"person_id": f"P{n:09d}", "name": f"测试{n}", "id_number": ids[n], "first_seen": NIGHT, "last_seen": NIGHT}
                for n in range(clues)
            ],
        )
    runs = [
        {"rule": r.code, "status": "ran", "fired": int((fired["rule"] == r.code).sum()), "seconds": 0.0, "message": None}
        for r in rules
    ]
    apply_rule_run(engine, settings, NIGHT, fired, runs, {r.code: r.deadline_days for r in rules})
    return engine, {r.code: r for r in rules}


def fill_ledger(source: Path, target: Path, rules: dict) -> tuple[int, int]:
    """The issued ledger with every row filled in, one row in fifty filled wrongly (核实人 left out,
    核实结果 not one of the choices, or the locked 姓名 edited); returns (rows filled, rows wrong)."""
    import openpyxl

    book = openpyxl.load_workbook(source)
    filled = wrong = 0
    for sheet in book.worksheets:
        # The header sits under the sheet's title rows; the rows after the clues are the signature block.
        header_row = next((r for r in range(1, 11) if "线索编号" in [c.value for c in sheet[r]]), None)
        if header_row is None:
            continue
        col = {name: i for i, name in enumerate(c.value for c in sheet[header_row])}
        for cells in sheet.iter_rows(min_row=header_row + 1):
            if not cells[col["线索编号"]].value:
                continue
            n = filled
            filled += 1
            values = {"核实结果": "属实", "核实人": f"核实员{n % 50}", "核实日期": dt.date(2026, 11, 25)}
            kind = n % 10
            if kind < 6:
                values.update(
                    {
                        "整改措施": "已按政策整改",
                        "整改完成日期": dt.date(2026, 11, 28),
                        "签字人": "乡镇负责人",
                        "签字日期": dt.date(2026, 11, 30),
                    }
                )
            elif kind < 9:
                rule = rules[cells[col["规则"]].value.split()[0]]
                values.update(
                    {
                        "核实结果": "不属实",
                        "不属实原因": rule.dismiss_reasons[n % len(rule.dismiss_reasons)],
                        "签字人": "乡镇负责人",
                        "签字日期": dt.date(2026, 11, 30),
                    }
                )
            if n % 50 == 49:
                wrong += 1
                defect = (n // 50) % 3
                if defect == 0:
                    values["核实人"] = None
                elif defect == 1:
                    values["核实结果"] = "待定"
                else:
                    cells[col["姓名"]].value = "改过的名字"
            for name, value in values.items():
                cells[col[name]].value = value
    book.save(target)
    return filled, wrong


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clues", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bidui-bench-ledgers")
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database to use instead of SQLite")
    args = parser.parse_args()
    county = Scope("bench_county", "county", COUNTY, None, True)
    filled_path = args.work / "filled.xlsx"
    shutil.rmtree(args.work, ignore_errors=True)
    results: dict[str, list[float]] = {}
    for run in range(args.runs):
        settings, schema = fresh_settings(args.work / f"run-{run}", args.postgres)
        start = time.perf_counter()
        engine, rules = make_store(settings, args.clues, args.seed)
        print(f"run {run}: {args.clues:,} clues made in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        [ledger] = issue_ledgers(engine, settings, county, ISSUED, rules=list(rules.values()))
        results.setdefault("issue", []).append(time.perf_counter() - start)
        if run == 0:
            start = time.perf_counter()
            rows, wrong = fill_ledger(ledger["file"], filled_path, rules)
            print(
                f"filled ledger: {rows:,} rows ({wrong:,} filled wrongly) in {len(ledger['sheets'])} township sheets "
                f"({time.perf_counter() - start:.1f} s to fill with openpyxl)",
                flush=True,
            )
        start = time.perf_counter()
        outcome = import_ledger(engine, settings, county, filled_path, rules=list(rules.values()))
        results.setdefault("import", []).append(time.perf_counter() - start)
        assert outcome["applied"] == args.clues - wrong and outcome["rejected"] == wrong, outcome["rejections"][:3]
        assert Path(outcome["report"]).exists()
        if run == 0:
            reasons = pd.Series([r["reason"] for r in outcome["rejections"]]).str.slice(0, 24).value_counts()
            print(f"import report {outcome['report']}: {outcome['rejected']:,} rows rejected", reasons.to_dict())
        start = time.perf_counter()
        again = import_ledger(engine, settings, county, filled_path, rules=list(rules.values()))
        results.setdefault("reimport", []).append(time.perf_counter() - start)
        assert again["applied"] == 0 and again["unchanged"] + again["rejected"] == args.clues
        engine.dispose()
        if schema:
            import sqlalchemy as sa

            with sa.create_engine(args.postgres).begin() as conn:
                conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    store = "PostgreSQL" if args.postgres else "SQLite"
    for label, values in results.items():
        print(
            f"{store} {label} ({args.clues:,} rows): median {statistics.median(values):.2f} s "
            f"(range {min(values):.2f}–{max(values):.2f}, n={len(values)})"
        )


if __name__ == "__main__":
    main()
