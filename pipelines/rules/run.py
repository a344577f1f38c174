"""The clue rules (contract rules.md) as data: one `.sql` file per rule in sql/rules/, run per night.

A rule file starts with a TOML header, every line prefixed `-- `, then one query in the jaffle-shop
shape. The query reads the night's views (`cur_<feed>` = the feed's effective snapshot,
`cur_links` = the night's base map, `std_<feed>` = standardised IDs and names of a feed the
header lists under `standardised`, `ref_poverty_lines`, and the shared helper tables of
`sql/rules/_*.sql`, e.g. `cur_registered`) and named parameters (`:d`, `:d_year`, and per entry of
the header's `age_ranges` the inclusive birth-date bounds `:<name>_born_from` / `:<name>_born_to`).
It returns one row per subject: subject_feed, subject_key, person_id, household_code,
household_no, village_code, evidence_feed, evidence_key and one `ev_<name>` per header `evidence`
entry. Adding a rule is adding a file.

`run_rules` runs them on one night and returns what fired; turning that into clues is
pipelines.clues.life' work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select

from pipelines import store
from pipelines.catalog.feeds import ROW_SOURCES, load_feeds
from pipelines.errors import BiduiError, read_problem
from pipelines.rules.views import NightViews, open_night_views
from pipelines.settings import Settings
from pipelines.store.tables import feed_tables, links

__all__ = ["DEFAULT_RULES_DIR", "FIRED_COLUMNS", "SUBJECTS", "Rule", "RuleRun", "load_rules", "run_rules"]

DEFAULT_RULES_DIR = Path(__file__).resolve().parents[2] / "sql" / "rules"
CATEGORIES = ("错评", "漏评", "错退", "三保障", "数据质量")
SUBJECTS = ("person", "household")
FIRED_COLUMNS = [
    "rule",
    "subject_feed",
    "subject_key",
    "person_id",
    "household_code",
    "household_no",
    "village_code",
    "department",
    "evidence",
]
# What every rule query returns besides its ev_<name> columns.
OUTPUT_COLUMNS = [
    "subject_feed",
    "subject_key",
    "person_id",
    "household_code",
    "household_no",
    "village_code",
    "evidence_feed",
    "evidence_key",
]
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,7}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_KEYS = {
    "code": str,
    "name": str,
    "category": str,
    "department": str,
    "deadline_days": int,
    "subject": str,
    "feeds": list,
    "description": str,
    "evidence": list,
    "dismiss_reasons": list,
}
_RULE_OPTIONAL = {"standardised": list, "age_ranges": dict}
_HELPER_KEYS = {"view": str, "feeds": list, "description": str}
_HELPER_OPTIONAL = {"indexes": list}
_PERSON_FEEDS = {source.feed for source in ROW_SOURCES}


@dataclass(frozen=True)
class Helper:
    """A shared table of sql/rules/_<view>.sql, built once a night as `cur_<view>`."""

    view: str
    feeds: tuple[str, ...]
    description: str
    sql: str
    path: Path
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One clue rule: its header and its query."""

    code: str
    name: str
    category: str
    department: str
    deadline_days: int
    subject: str
    feeds: tuple[str, ...]
    description: str
    evidence: tuple[str, ...]
    dismiss_reasons: tuple[str, ...]
    sql: str
    path: Path
    standardised: tuple[str, ...] = ()
    age_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    helpers: tuple[Helper, ...] = ()


@dataclass
class RuleRun:
    """One night's rule output: `fired` (FIRED_COLUMNS, one row per rule and subject) and `runs`
    (per rule: rule, status ran|skipped|failed, fired, seconds, message)."""

    day: dt.date
    fired: pd.DataFrame
    runs: list[dict]
    snapshots: dict[str, str | None] = field(default_factory=dict)


# --- loading ---------------------------------------------------------------------------------


def parse_header(path: Path) -> tuple[dict, str]:
    """The TOML header (leading `--` lines) and the query after it; Chinese errors name the file."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    header_lines = []
    for line in lines:
        if not line.startswith("--"):
            break
        header_lines.append(line[3:] if line.startswith("-- ") else line[2:])
    body = "\n".join(lines[len(header_lines) :]).strip().rstrip(";").strip()
    try:
        header = tomllib.loads("\n".join(header_lines))
    except tomllib.TOMLDecodeError as exc:
        raise BiduiError(f"规则文件 {path} 的文件头不是合法的 TOML：{read_problem(exc)}") from exc
    if not body:
        raise BiduiError(f"规则文件 {path} 没有查询语句（文件头之后应是一条 with … select … 查询）")
    return header, body


def _check_keys(path: Path, header: dict, required: dict, optional: dict) -> None:
    missing = [key for key in required if key not in header]
    if missing:
        raise BiduiError(f"规则文件 {path} 的文件头缺少：{'、'.join(missing)}")
    unknown = [key for key in header if key not in required and key not in optional]
    if unknown:
        raise BiduiError(f"规则文件 {path} 的文件头有不认识的项：{'、'.join(unknown)}")
    for key, kind in {**required, **optional}.items():
        if key in header and (not isinstance(header[key], kind) or isinstance(header[key], bool)):
            raise BiduiError(f"规则文件 {path} 的文件头中 {key} 的类型不对（应为 {_KIND_TEXT[kind]}）")


_KIND_TEXT = {str: "文本", int: "整数", list: "列表", dict: "表"}


def _text_list(path: Path, header: dict, key: str, minimum: int = 0) -> tuple[str, ...]:
    values = header.get(key, [])
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise BiduiError(f"规则文件 {path} 的文件头中 {key} 只能是非空文本的列表")
    if len(values) < minimum:
        raise BiduiError(f"规则文件 {path} 的文件头中 {key} 至少要有 {minimum} 项，现有 {len(values)} 项")
    if len(set(values)) != len(values):
        raise BiduiError(f"规则文件 {path} 的文件头中 {key} 有重复项")
    return tuple(values)


def _feeds(path: Path, header: dict, known: set[str]) -> tuple[str, ...]:
    feeds = _text_list(path, header, "feeds", minimum=1)
    unknown = [feed for feed in feeds if feed not in known]
    if unknown:
        raise BiduiError(f"规则文件 {path} 用到未知的数据源：{'、'.join(unknown)}（见 pipelines/catalog/feeds.toml）")
    return feeds


def load_helpers(rules_dir: Path = DEFAULT_RULES_DIR) -> dict[str, Helper]:
    """The shared helper tables (`_<view>.sql`) of a rules folder, by view name."""
    known = set(feed_tables)
    helpers = {}
    for path in sorted(Path(rules_dir).glob("_*.sql")):
        header, body = parse_header(path)
        _check_keys(path, header, _HELPER_KEYS, _HELPER_OPTIONAL)
        view = header["view"]
        if not _NAME.match(view) or path.stem != f"_{view}":
            raise BiduiError(f"规则文件 {path} 的 view 应为小写英文名，并与文件名一致（_{view}.sql）")
        helpers[view] = Helper(
            view=view,
            feeds=_feeds(path, header, known),
            description=header["description"],
            sql=body,
            path=path,
            indexes=_text_list(path, header, "indexes"),
        )
    return helpers


def _age_ranges(path: Path, header: dict) -> dict[str, tuple[int, int]]:
    ranges = {}
    for name, bounds in header.get("age_ranges", {}).items():
        ok = (
            _NAME.match(name)
            and isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in bounds)
            and bounds[0] <= bounds[1]
        )
        if not ok:
            raise BiduiError(f"规则文件 {path} 的 age_ranges.{name} 应为 [最小周岁, 最大周岁] 两个整数")
        ranges[name] = (bounds[0], bounds[1])
    return ranges


def _rule(path: Path, header: dict, body: str, helpers: dict[str, Helper], known: set[str]) -> Rule:
    _check_keys(path, header, _RULE_KEYS, _RULE_OPTIONAL)
    code = header["code"]
    if not _CODE.match(code) or code != path.stem:
        raise BiduiError(f"规则文件 {path} 的 code「{code}」应与文件名一致，且为大写字母开头的编号（如 R05）")
    if header["category"] not in CATEGORIES:
        raise BiduiError(f"规则文件 {path} 的 category「{header['category']}」应为：{'、'.join(CATEGORIES)}")
    if header["subject"] not in SUBJECTS:
        raise BiduiError(f"规则文件 {path} 的 subject「{header['subject']}」应为 person 或 household")
    if header["deadline_days"] <= 0:
        raise BiduiError(f"规则文件 {path} 的 deadline_days 应为正整数")
    for key in ("name", "department", "description"):
        if not header[key].strip():
            raise BiduiError(f"规则文件 {path} 的 {key} 不能为空")
    feeds = _feeds(path, header, known)
    evidence = _text_list(path, header, "evidence", minimum=1)
    bad = [name for name in evidence if not _NAME.match(name)]
    if bad:
        raise BiduiError(f"规则文件 {path} 的 evidence 项应为小写英文列名：{'、'.join(bad)}")
    standardised = _text_list(path, header, "standardised")
    outside = [feed for feed in standardised if feed not in feeds or feed not in _PERSON_FEEDS]
    if outside:
        raise BiduiError(f"规则文件 {path} 的 standardised 只能列 feeds 中描述人员的数据源：{'、'.join(outside)}")
    used = tuple(h for name, h in helpers.items() if re.search(rf"\bcur_{name}\b", body))
    for helper in used:
        lacking = [feed for feed in helper.feeds if feed not in feeds]
        if lacking:
            raise BiduiError(f"规则文件 {path} 用到 cur_{helper.view}，其 feeds 还须列出：{'、'.join(lacking)}")
    return Rule(
        code=code,
        name=header["name"],
        category=header["category"],
        department=header["department"],
        deadline_days=header["deadline_days"],
        subject=header["subject"],
        feeds=feeds,
        description=header["description"],
        evidence=evidence,
        dismiss_reasons=_text_list(path, header, "dismiss_reasons", minimum=3),
        sql=body,
        path=path,
        standardised=standardised,
        age_ranges=_age_ranges(path, header),
        helpers=used,
    )


def load_rules(rules_dir: Path = DEFAULT_RULES_DIR) -> list[Rule]:
    """Every rule file (`*.sql` not starting with `_`) of a folder, in code order, headers checked."""
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise BiduiError(f"规则目录 {rules_dir} 不存在")
    helpers = load_helpers(rules_dir)
    known = set(feed_tables)
    rules = []
    for path in sorted(rules_dir.glob("*.sql")):
        if path.name.startswith("_"):
            continue
        header, body = parse_header(path)
        rules.append(_rule(path, header, body, helpers, known))
    if not rules:
        raise BiduiError(f"规则目录 {rules_dir} 中没有规则文件（*.sql）")
    return sorted(rules, key=lambda r: r.code)


# --- running ---------------------------------------------------------------------------------


def _feed_titles(settings: Settings) -> dict[str, str]:
    try:
        return {name: spec.title for name, spec in load_feeds(settings.feeds_config).items()}
    except Exception:
        return {}


def _evidence_value(value: object) -> object:
    # Text, so a number reads the same from SQLite and PostgreSQL.
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fired_frame(rule: Rule, frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in [*OUTPUT_COLUMNS, *(f"ev_{name}" for name in rule.evidence)] if c not in frame]
    if missing:
        raise BiduiError(f"查询结果缺少列：{'、'.join(missing)}")
    frame = frame[frame["subject_key"].notna()]
    evidence_columns = [f"ev_{name}" for name in rule.evidence]
    # Several rows of one subject: keep one, the same on every store and every run.
    order = ["subject_feed", "subject_key", "evidence_feed", "evidence_key", *evidence_columns]
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame.sort_values(order, key=lambda s: s.map(lambda v: "" if v is None else str(v)), kind="stable")
    frame = frame.drop_duplicates(["subject_feed", "subject_key"])
    evidence = [
        json.dumps(
            {
                "feed": _evidence_value(row[0]),
                "record_key": _evidence_value(row[1]),
                "fields": {name: _evidence_value(v) for name, v in zip(rule.evidence, row[2:], strict=True)},
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        for row in frame[["evidence_feed", "evidence_key", *evidence_columns]].itertuples(index=False, name=None)
    ]
    out = frame[OUTPUT_COLUMNS[:6]].copy()
    for column in OUTPUT_COLUMNS[:6]:
        out[column] = [None if v is None else str(v) for v in out[column]]
    out.insert(0, "rule", rule.code)
    out["department"] = rule.department
    out["evidence"] = evidence
    return out[FIRED_COLUMNS]


def _night_has_links(engine: Engine, day: dt.date) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(func.count()).select_from(
                    select(links.c.record_key).where(links.c.delivery_date == day).limit(1).subquery()
                )
            ).scalar_one()
            > 0
        )


def run_rules(
    engine: Engine,
    settings: Settings,
    day: dt.date | str,
    rules: list[Rule] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> RuleRun:
    """Run `rules` (default: every rule of sql/rules) on the night `day`'s base map.

    A rule needing a feed that was never delivered by that night is skipped; a rule whose query
    fails is `failed` with the error, and the others still run. Nothing is written.
    """
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    rules = load_rules() if rules is None else list(rules)
    if not _night_has_links(engine, day):
        raise BiduiError(f"{day} 还没有底图（人员关联结果），请先运行 bidui link {day}")
    feeds = sorted({feed for rule in rules for feed in rule.feeds})
    snapshots = {feed: store.effective_date(engine, feed, day) for feed in feeds}
    titles = _feed_titles(settings)
    runnable = [rule for rule in rules if all(snapshots[feed] for feed in rule.feeds)]
    runs: dict[str, dict] = {}
    for rule in rules:
        if rule not in runnable:
            absent = [f"{feed}（{titles.get(feed, feed)}）" for feed in rule.feeds if not snapshots[feed]]
            runs[rule.code] = {
                "rule": rule.code,
                "status": "skipped",
                "fired": None,
                "seconds": 0.0,
                "message": f"缺少数据源，截至 {day} 从未交付：{'、'.join(absent)}，本规则未运行",
            }
    frames = []
    delivered = {feed: snapshot for feed, snapshot in snapshots.items() if snapshot is not None}
    with open_night_views(engine, day, delivered, runnable) as night:
        for index, rule in enumerate(runnable):
            if progress:
                progress(f"规则 {rule.code} {rule.name}", index / max(len(runnable), 1))
            run, frame = _run_one(night, rule)
            runs[rule.code] = run
            if frame is not None:
                frames.append(frame)
    fired = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FIRED_COLUMNS)
    fired = fired.sort_values(["rule", "subject_feed", "subject_key"], kind="stable").reset_index(drop=True)
    return RuleRun(
        day=day,
        fired=fired[FIRED_COLUMNS],
        runs=[runs[rule.code] for rule in rules],
        snapshots={feed: (d.isoformat() if d else None) for feed, d in snapshots.items()},
    )


def _run_one(night: NightViews, rule: Rule) -> tuple[dict, pd.DataFrame | None]:
    started = time.perf_counter()
    try:
        problem = night.problem_for(rule)
        if problem:
            raise BiduiError(problem)
        frame = _fired_frame(rule, night.query(rule))
    except Exception as exc:
        night.recover()
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {
            "rule": rule.code,
            "status": "failed",
            "fired": None,
            "seconds": round(time.perf_counter() - started, 3),
            "message": f"规则执行出错：{message}",
        }, None
    return {
        "rule": rule.code,
        "status": "ran",
        "fired": len(frame),
        "seconds": round(time.perf_counter() - started, 3),
        "message": None,
    }, frame
