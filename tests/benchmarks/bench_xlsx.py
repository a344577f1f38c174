"""Benchmark: the shared xlsx writer on a county's overdue list — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_xlsx.py --rows 300000 --runs 3 [--plain] [--profile]

Builds one synthetic overdue-list frame of `--rows` rows with the remind workbook's columns
(pipelines.documents.remind.OVERDUE_COLUMNS: Chinese rule names, townships, villages and person
names, masked ID numbers, dates, days overdue; seeded, no real persons), turns it into the Python
rows `bidui remind` passes, and times `write_excel_tables` writing the two sheets remind writes
(the list with its title lines, widths and overdue rows in red, the count per township). Prints
wall-clock and CPU seconds (this process's: steadier on a shared machine), each as median
(min–max) over `--runs`, and the file size. `--plain` leaves the overdue rows unfilled (the
writer's work before it could fill them); `--profile` runs cProfile over one more write and prints
the 15 costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines.documents.remind import OVERDUE_COLUMNS, TOWNSHIP_COLUMNS
from pipelines.rules import load_rules
from pipelines.store import ExcelSheet, write_excel_tables

DAY = dt.date(2026, 12, 21)
TOWNSHIPS = ["新井镇", "牛联镇", "清湾镇", "雍阳街道", "银盏镇", "玉山镇", "天文镇", "岚关乡", "平定营镇", "中坪镇"]
VILLAGES = ["太沟村", "者板村", "桥头村", "青坡村", "红岩村", "大寨村", "沙坝村", "高枧村", "枫香村", "新民社区"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")
DEPARTMENTS = ["教育", "医保", "民政", "住建", "人社", "卫健", "公安", "残联"]
STATES = ["已下发待核实", "已核实待整改", "已整改待签字", "退回重新核实"]
WIDTHS = {"规则": 24, "乡镇": 12, "村": 12, "身份证号": 20, "核实部门": 12, "状态": 14, "下发日期": 11, "整改期限": 11}


def build_overdue_frame(rows: int, seed: int) -> pd.DataFrame:
    """`rows` synthetic overdue clues in the remind list's columns, longest overdue first."""
    rng = np.random.default_rng(seed)
    rules = [f"{r.code} {r.name}" for r in load_rules()]
    given = np.array(GIVEN)
    names = np.char.add(np.array(SURNAMES)[rng.integers(0, len(SURNAMES), rows)], given[rng.integers(0, len(GIVEN), rows)])
    two = rng.random(rows) < 0.6
    names = np.where(two, np.char.add(names, given[rng.integers(0, len(GIVEN), rows)]), names)
    issued = pd.Timestamp(DAY) - pd.to_timedelta(rng.integers(20, 400, rows), unit="D")
    deadline = issued + pd.to_timedelta(15, unit="D")
    days = (pd.Timestamp(DAY) - deadline).days
    rule_codes = rng.integers(0, len(rules), rows)
    frame = pd.DataFrame(
        {
            "线索编号": [f"{rules[c][:3]}-{i:06d}" for i, c in enumerate(rule_codes, start=1)],
            "规则": np.array(rules)[rule_codes],
            "乡镇": np.array(TOWNSHIPS)[rng.integers(0, len(TOWNSHIPS), rows)],
            "村": np.array(VILLAGES)[rng.integers(0, len(VILLAGES), rows)],
            "姓名": names,
            "身份证号": [f"522725********{n:04d}" for n in rng.integers(0, 10_000, rows)],
            "核实部门": np.array(DEPARTMENTS)[rng.integers(0, len(DEPARTMENTS), rows)],
            "状态": np.array(STATES)[rng.integers(0, len(STATES), rows)],
            "下发日期": issued.strftime("%Y-%m-%d"),
            "整改期限": deadline.strftime("%Y-%m-%d"),
            "逾期天数": days,
            "重开次数": rng.integers(0, 3, rows),
        },
        columns=list(OVERDUE_COLUMNS),
    )
    return frame.sort_values(["逾期天数", "线索编号"], ascending=[False, True], ignore_index=True)


def build_sheets(frame: pd.DataFrame, plain: bool = False) -> list[ExcelSheet]:
    """The two sheets remind writes, from plain Python rows as remind builds them; `plain` leaves
    the overdue rows unfilled (the writer before it could fill them)."""
    rows = [[*row[:10], int(row[10]), int(row[11])] for row in frame.itertuples(index=False, name=None)]
    counts = frame.groupby("乡镇")["逾期天数"].agg(["size", "max"]).sort_values("size", ascending=False)
    townships = [[name, f"52272510{i}", int(n), int(most)] for i, (name, n, most) in enumerate(counts.itertuples())]
    title = [
        "瓮安县（522725）逾期问题线索提醒清单",
        f"统计日期：{DAY.isoformat()}　逾期线索 {len(rows)} 条",
        "按逾期天数从多到少排列。",
    ]
    days = OVERDUE_COLUMNS.index("逾期天数")
    late = {} if plain else {"overdue": lambda row: row[days] != "" and row[days] > 0}
    return [
        ExcelSheet("逾期线索", OVERDUE_COLUMNS, rows, title=title, widths=WIDTHS, **late),
        ExcelSheet("按乡镇统计", TOWNSHIP_COLUMNS, townships, title=title[:2], widths={"乡镇": 14}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261221)
    parser.add_argument("--plain", action="store_true", help="no overdue fill")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    sheets = build_sheets(build_overdue_frame(args.rows, args.seed), plain=args.plain)
    print(f"{args.rows:,} overdue rows built in {time.perf_counter() - start:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bidui-bench-xlsx-") as work:
        out = Path(work) / "逾期线索.xlsx"
        seconds, cpu = [], []
        for run in range(1, args.runs + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            write_excel_tables(out, sheets)
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            print(f"run {run}: write_excel_tables {seconds[-1]:.2f} s ({cpu[-1]:.2f} s CPU)", flush=True)
        size = out.stat().st_size / 1024**2
        print(f"write_excel_tables, {args.rows:,} rows × {len(OVERDUE_COLUMNS)} columns, {args.runs} runs, file {size:.1f} MiB:")
        for label, figures in (("wall", seconds), ("CPU", cpu)):
            print(f"  {label}: median {statistics.median(figures):.2f} s (range {min(figures):.2f}–{max(figures):.2f} s)")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(write_excel_tables, out, sheets)
            pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
