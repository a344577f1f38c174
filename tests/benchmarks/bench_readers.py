"""Benchmark: readers that bound what they read — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_readers.py --rows 1000000 --xlsx-rows 200000 --runs 3

Prints, each as median (min–max) over the runs:
- a medical_insurance-shaped CSV of `--rows` synthetic rows with a quote left open on line 6: rows
  kept and seconds for `read_feed_file`, beside the same file without that quote;
- an xlsx of ten real rows plus cells at A1048576 and XFD3: seconds and peak memory (max RSS of a
  fresh process) for `read_feed_file`, beside the same process only importing the reader;
- a normal feed xlsx of `--xlsx-rows` rows: seconds for `read_sheets` (scan, then calamine) and for
  calamine alone, the reader's cost for its bounds.
All data is synthetic (no real persons).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipelines.catalog.feeds import load_feeds  # noqa: E402
from pipelines.ingest.readers import read_feed_file  # noqa: E402
from pipelines.store import read_sheets  # noqa: E402

HEADER = ["个人编号", "姓名", "身份证号", "参保地区划代码", "参保年度", "参保状态", "大病保险"]
MAX_BYTES = 8 * 1024**3


def write_csv(path: Path, rows: int, seed: int) -> None:
    """A medical_insurance CSV whose line 6 opens a quote that is never closed."""
    rng = np.random.default_rng(seed)
    names = rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"], rows)
    years = rng.choice(["2025", "2026"], rows)
    lines = [",".join(HEADER)]
    lines += [f"Y{i:07d},{names[i]},,522725102203,{years[i]},正常参保,是" for i in range(rows)]
    lines[5] = lines[5].replace(f",{names[4]},", f',"{names[4]},')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_far_xlsx(path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for i in range(10):
        sheet.write_row(i + 1, 0, [f"Y{i:07d}", "张伟", None, "522725102203", "2026", "正常参保", "是"])
    sheet.write("A1048576", "x")
    sheet.write("XFD3", "y")
    book.close()


def write_feed_xlsx(path: Path, rows: int, seed: int) -> None:
    import xlsxwriter

    rng = np.random.default_rng(seed)
    names = rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"], rows).tolist()
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for i in range(rows):
        sheet.write_row(i + 1, 0, [f"Y{i:07d}", names[i], None, "522725102203", 2026, "正常参保", "是"])
    book.close()


def timed(runs: int, action) -> tuple[list[float], object]:
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} {unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def peak_mib(path: Path | None) -> float:
    """Peak RSS (MiB, VmHWM) of a fresh interpreter that reads `path` as a medical_insurance feed, or
    only imports the reader. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent."""
    read = f"read_feed_file(Path({str(path)!r}), load_feeds()['medical_insurance'], {MAX_BYTES})" if path else "None"
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
        "from pipelines.catalog.feeds import load_feeds; from pipelines.ingest.readers import read_feed_file; "
        f"{read}; print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    feed = load_feeds()["medical_insurance"]
    with tempfile.TemporaryDirectory() as work:
        csv_path = Path(work) / "medical_insurance.csv"
        write_csv(csv_path, args.rows, args.seed)
        seconds, table = timed(args.runs, lambda: read_feed_file(csv_path, feed, MAX_BYTES))
        broken = [n["row_no"] for n in table.notes if n["check"] == "broken_quote"]
        print(f"CSV {args.rows:,} rows, quote left open on line 6: {len(table.frame):,} rows kept, row(s) {broken} flagged")
        print(f"  read_feed_file: {spread(seconds)}")
        csv_path.write_text(csv_path.read_text(encoding="utf-8").replace('"', "", 1), encoding="utf-8")
        seconds, table = timed(args.runs, lambda: read_feed_file(csv_path, feed, MAX_BYTES))
        print(f"  the same file without the stray quote: {spread(seconds)} ({len(table.frame):,} rows)")

        far_path = Path(work) / "far.xlsx"
        write_far_xlsx(far_path)
        seconds, table = timed(args.runs, lambda: read_feed_file(far_path, feed, MAX_BYTES))
        print(f"xlsx with cells at A1048576 and XFD3 ({far_path.stat().st_size:,} bytes): {len(table.frame)} rows kept")
        print(f"  read_feed_file: {spread([s * 1000 for s in seconds], 'ms', 1)}")
        base = [peak_mib(None) for _ in range(args.runs)]
        peak = [peak_mib(far_path) for _ in range(args.runs)]
        print(f"  peak RSS: {spread(peak, 'MiB', 0)} (importing the reader alone: {spread(base, 'MiB', 0)})")
        whole = (
            f"from python_calamine import CalamineWorkbook as B; B.from_path({str(far_path)!r}).get_sheet_by_index(0).to_python()"
        )
        done = subprocess.run([sys.executable, "-c", whole], check=False, capture_output=True, text=True)
        print(f"  calamine asked for the whole used range (the reader before): exit code {done.returncode}")

        feed_path = Path(work) / "feed.xlsx"
        start = time.perf_counter()
        write_feed_xlsx(feed_path, args.xlsx_rows, args.seed)
        print(
            f"xlsx feed, {args.xlsx_rows:,} rows ({feed_path.stat().st_size / 1024**2:.1f} MiB, written in {time.perf_counter() - start:.1f} s)"
        )
        seconds, _ = timed(args.runs, lambda: read_sheets(feed_path, max_rows=1_048_576, max_cols=200, first_only=True))
        print(f"  read_sheets (scan + calamine): {spread(seconds)}")
        from python_calamine import CalamineWorkbook

        alone = lambda: CalamineWorkbook.from_path(str(feed_path)).get_sheet_by_index(0).to_python()  # noqa: E731
        seconds, _ = timed(args.runs, alone)
        print(f"  calamine alone:                {spread(seconds)}")
        seconds, table = timed(args.runs, lambda: read_feed_file(feed_path, feed, MAX_BYTES))
        print(f"  read_feed_file:                {spread(seconds)} ({len(table.frame):,} rows)")


if __name__ == "__main__":
    main()
