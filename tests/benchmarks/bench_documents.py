"""Benchmark: the documents (issue 11) on a 1,000,000-person prefecture with 40 nights of history in
PostgreSQL — a script, not a test:

    .venv/bin/python tests/benchmarks/bench_documents.py --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/test \\
        [--persons 1000000] [--nights 40] [--runs 3] [--counties 522725 522701 522732]
        [--keep | --name docbench_keep | --schema docbench_…] [--fill-only] [--only bulletin,quality,sample,remind]
        [--profile] [--explain]

1. A fresh schema is made and filled as the site benchmark's (bench_site_fill.fill: regions, persons
   and households, clues with their events and 40 nights of night_counts, feed loads, the newest
   night's links and review queue, ledger issues and imports, users), then bench_documents_fill adds
   what the documents read besides: the 建档立卡 registry and hukou snapshots of the newest night
   and of the month before's last night, their validation findings, and ledger_rows. Synthetic
   names and ID numbers only. --schema measures a kept schema again (adding that data if missing).
2. Each document is made --runs times in this process through the very functions the CLI calls
   (make_bulletin, make_quality_report, make_sample, remind_overdue; sign-in and the interpreter's
   start are not timed), with PDFs as the CLI makes them by default:
     bulletin   `bidui bulletin --month 2026-11`                  target ≤ 60 s
     quality    `bidui quality-report --as-of 2026-11-20`         target ≤ 60 s; once as of the
                month before's last night first, so every timed run compares with a stored report
     sample     `bidui sample --county C --year 2026 --seed 1`    target ≤ 10 s, per county
     remind     `bidui remind --date 2026-11-20` for the prefecture
   Prints per document each run, the median and range in seconds, the share in SQL, in xlsx writing
   and in PDF rendering, the slowest statements of the last run, and the load average before and after.
3. --profile: one more run of each document under cProfile (top functions by cumulative time);
   --explain: the slowest statements of each document with EXPLAIN (ANALYZE, BUFFERS).
4. The schema and its data directory are dropped at the end unless --keep, --name or --schema.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_documents_fill import EARLIER, fill_documents, has_documents_data, table_sizes
from bench_site import drop_schema, schema_url
from bench_site_fill import NEWEST, fill

from pipelines import store
from pipelines.settings import Settings, load_settings

TARGETS = {"bulletin": 60.0, "quality": 60.0, "sample": 10.0}
DOCUMENTS = ("bulletin", "quality", "sample", "remind")
MONTH = NEWEST.strftime("%Y-%m")
# The bulletin of a month is made once the month is over.
BULLETIN_DAY = (NEWEST.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
USER = "bench-prefecture"


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Meter:
    """Seconds spent in SQL (engine events), xlsx writing and PDF rendering, and the statements of
    the current run."""

    sql: float = 0.0
    xlsx: float = 0.0
    pdf: float = 0.0
    statements: list[tuple[float, str, object]] = field(default_factory=list)

    def reset(self) -> None:
        self.sql = self.xlsx = self.pdf = 0.0
        self.statements = []

    def attach(self, engine: sa.Engine) -> None:
        @sa.event.listens_for(engine, "before_cursor_execute")
        def _start(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        @sa.event.listens_for(engine, "after_cursor_execute")
        def _stop(conn, cursor, statement, parameters, context, executemany):
            seconds = time.perf_counter() - conn.info["bench_started"].pop()
            self.sql += seconds
            self.statements.append((seconds, statement, parameters))

        # Every document writes its workbook through pipelines.store.write_excel_tables, its PDF
        # through WeasyPrint's HTML.write_pdf: both timed where they are looked up.
        write_excel_tables = store.write_excel_tables

        def timed_excel(*args, **kwargs):
            start = time.perf_counter()
            try:
                return write_excel_tables(*args, **kwargs)
            finally:
                self.xlsx += time.perf_counter() - start

        store.write_excel_tables = timed_excel  # type: ignore[assignment]
        from weasyprint import HTML

        write_pdf = HTML.write_pdf

        def timed_pdf(*args, **kwargs):
            start = time.perf_counter()
            try:
                return write_pdf(*args, **kwargs)
            finally:
                self.pdf += time.perf_counter() - start

        HTML.write_pdf = timed_pdf  # type: ignore[method-assign]


@dataclass
class Figures:
    document: str
    seconds: list[float]
    sql: list[float]
    xlsx: list[float]
    pdf: list[float]
    load_before: str
    load_after: str
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def pdf_font_subsetter() -> str:
    """Which library WeasyPrint subsets the embedded CJK fonts with: most of a small PDF's time."""
    from weasyprint.text import ffi

    if ffi.harfbuzz_subset is not None:
        return "HarfBuzz"
    return "fontTools (libharfbuzz-subset0 not installed: each PDF takes seconds more)"


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def measure(name: str, runs: int, meter: Meter, make: Callable[[], str], top: int = 3) -> Figures:
    """Make a document `runs` times; prints each run and the slowest statements of the last."""
    figures = Figures(name, [], [], [], [], load_average(), "")
    for run in range(1, runs + 1):
        meter.reset()
        start = time.perf_counter()
        figures.note = make()
        seconds = time.perf_counter() - start
        figures.seconds.append(seconds)
        figures.sql.append(meter.sql)
        figures.xlsx.append(meter.xlsx)
        figures.pdf.append(meter.pdf)
        print(
            f"  {name} run {run}: {seconds:7.2f} s (SQL {meter.sql:6.2f} s in {len(meter.statements)} statements, "
            f"xlsx {meter.xlsx:5.2f} s, PDF {meter.pdf:5.2f} s)  {figures.note}",
            flush=True,
        )
    figures.load_after = load_average()
    for seconds, statement, _parameters in sorted(meter.statements, key=lambda s: -s[0])[:top]:
        print(f"    {seconds:6.2f} s  {' '.join(statement.split())[:220]}")
    return figures


def explain(engine: sa.Engine, statements: list[tuple[float, str, object]], top: int = 3) -> None:
    for seconds, statement, parameters in sorted(statements, key=lambda s: -s[0])[:top]:
        print(f"--- {seconds:.2f} s\n{statement}\n{parameters}")
        if not statement.lstrip().lower().startswith(("select", "with")):
            continue
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"explain (analyze, buffers) {statement}", parameters).scalars()  # type: ignore[arg-type]
            print("\n".join(plan))


def profiled(name: str, make: Callable[[], str], out: Path, top: int = 25) -> None:
    profile = cProfile.Profile()
    profile.enable()
    make()
    profile.disable()
    profile.dump_stats(str(out / f"{name}.pstats"))
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(top)
    print(f"\n=== cProfile of {name} (saved to {out / f'{name}.pstats'})")
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[-6000:])


# --- the documents -------------------------------------------------------------------------------


def document_makers(settings: Settings, engine: sa.Engine, counties: list[str]) -> dict[str, Callable[[], str]]:
    """What each timed run calls, as the CLI would for the prefecture's data officer."""
    from pipelines.access import Scope, load_user
    from pipelines.documents import make_bulletin, make_quality_report, make_sample, remind_overdue

    scope = Scope.from_user(load_user(engine, USER))

    def bulletin() -> str:
        result = make_bulletin(settings, MONTH, USER, engine=engine, today=BULLETIN_DAY)
        return f"{len(result.bulletin.rows)} counties, last night {result.bulletin.last_night}"

    def quality(as_of: dt.date = NEWEST) -> str:
        result = make_quality_report(settings, as_of, USER)
        accuracy = result["accuracy"]
        return f"night {result['night']}, compared with {result['compared_with']}, accuracy {accuracy:.4%}"

    def sample(county: str) -> Callable[[], str]:
        def make() -> str:
            result = make_sample(engine, settings, scope, county, NEWEST.year, 1)
            drawn = result["drawn"]
            return (
                f"{len(drawn['villages'])} villages, {len(drawn['households'])} households, {len(drawn['fallbacks'])} fall-backs"
            )

        return make

    def remind() -> str:
        reminders = remind_overdue(engine, settings, scope, NEWEST)
        return f"{len(reminders)} counties, {sum(r.clues for r in reminders):,} overdue clues"

    return {
        "bulletin": bulletin,
        "quality (earlier night, stored to compare with)": lambda: quality(EARLIER),
        "quality": quality,
        **{f"sample {county}": sample(county) for county in counties},
        "remind": remind,
    }


def print_table(results: list[Figures]) -> None:
    header = f"{'document':50} {'runs':>4} {'median':>8} {'min':>8} {'max':>8} {'SQL':>6} {'xlsx':>6} {'PDF':>6} {'target':>7}  load before → after"
    print("\n" + header)
    print("-" * len(header))
    for f in results:
        target = next((t for name, t in TARGETS.items() if f.document.split(" ")[0] == name), None)
        over = "  OVER TARGET" if target is not None and f.median > target else ""

        def share(part: list[float], f: Figures = f) -> str:
            return f"{100 * statistics.median(part) / f.median:5.0f}%" if f.median else "    —"

        print(
            f"{f.document:50} {len(f.seconds):4} {f.median:8.2f} {min(f.seconds):8.2f} {max(f.seconds):8.2f} "
            f"{share(f.sql)} {share(f.xlsx)} {share(f.pdf)} {(f'{target:.0f} s' if target else '—'):>7}  "
            f"{f.load_before} → {f.load_after}{over}"
        )


# --- the schema ---------------------------------------------------------------------------------


def make_schema(postgres: str, name: str | None) -> str:
    schema = name or f"docbench_{int(time.time())}"
    with sa.create_engine(postgres).begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    return schema


def add_documents_data(engine: sa.Engine, seed: int) -> None:
    start = time.perf_counter()
    fill_documents(engine, seed)
    print(f"documents data: {time.perf_counter() - start:.0f} s", flush=True)
    print("\nstore sizes:")
    for name, rows, size in table_sizes(engine):
        print(f"    {name:28} {rows:>12,} rows  {size:>8}")


def measure_all(settings: Settings, engine: sa.Engine, args: argparse.Namespace, data_dir: Path) -> None:
    """Every document chosen, --runs times each; the table; plans and profiles when asked."""
    meter = Meter()
    meter.attach(engine)
    wanted = set(args.only.split(",")) if args.only else set(DOCUMENTS)
    makers = {k: v for k, v in document_makers(settings, engine, args.counties).items() if k.split(" ")[0] in wanted}
    print(f"\nmeasuring {', '.join(makers)}; {args.runs} runs each; load {load_average()}", flush=True)
    print(f"PDF fonts subset with {pdf_font_subsetter()}", flush=True)
    results, statements = [], {}
    for name, make in makers.items():
        runs = 1 if name.startswith("quality (") else args.runs
        results.append(measure(name, runs, meter, make))
        statements[name] = list(meter.statements)
    print_table(results)
    if args.explain:
        for name, seen in statements.items():
            print(f"\n=== slowest statements of {name}")
            explain(engine, seen)
    if args.profile:
        for name, make in makers.items():
            if "(" not in name:
                profiled(name.replace(" ", "_"), make, data_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", required=True, help="SQLAlchemy URL of a PostgreSQL database (a schema is made in it)")
    parser.add_argument("--persons", type=int, default=1_000_000, help="persons, and as many clues")
    parser.add_argument("--nights", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--counties", nargs="+", default=["522725", "522701", "522732"], help="counties to sample")
    parser.add_argument("--keep", action="store_true", help="keep the filled schema (its name is printed)")
    parser.add_argument("--name", help="fill a new schema of this name, and keep it")
    parser.add_argument("--schema", help="measure a schema kept by an earlier run instead of filling a new one")
    parser.add_argument("--fill-only", action="store_true", help="fill (and keep with --keep) without measuring")
    parser.add_argument("--only", help="comma-separated documents to measure: " + ",".join(DOCUMENTS))
    parser.add_argument("--profile", action="store_true", help="one more run of each document under cProfile")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest statements of each document")
    args = parser.parse_args()

    keep = args.keep or bool(args.name) or bool(args.schema)
    schema = args.schema or make_schema(args.postgres, args.name)
    url = schema_url(args.postgres, schema)
    data_dir = Path(tempfile.gettempdir()) / f"bidui-{schema}"
    data_dir.mkdir(exist_ok=True)
    print(f"schema {schema}; data dir {data_dir}; load {load_average()}", flush=True)
    try:
        settings = load_settings(environ={}, data_dir=data_dir, database_url=url, show_progress=False)
        if not args.schema:
            start = time.perf_counter()
            fill(settings, args.persons, args.nights, args.seed)
            print(
                f"fill: {time.perf_counter() - start:.0f} s ({args.persons:,} persons and clues, {args.nights} nights)",
                flush=True,
            )
        engine = store.connect(settings)
        if not has_documents_data(engine):
            add_documents_data(engine, args.seed)
        if not args.fill_only:
            measure_all(settings, engine, args, data_dir)
    finally:
        if keep:
            print(f"schema {schema} kept (data dir {data_dir}): measure it again with --schema {schema}")
        else:
            drop_schema(args.postgres, schema)
            shutil.rmtree(data_dir, ignore_errors=True)
            print(f"schema {schema} and {data_dir} dropped")


if __name__ == "__main__":
    main()
