"""What the data officer's pages read and do: a night's loads, linkage, rule runs and failed Airflow
tasks (the night page), its report files, and releasing a rule the circuit breaker held (rule_releases).

A release is recorded first ('running'), then the night's clue stage runs again with every rule
released for that night let through (`run_release`, in the background), and the record ends 'done'
or 'failed' with the reason in Chinese.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select, update

from pipelines import store
from pipelines.access.scope import Scope
from pipelines.catalog import FEEDS
from pipelines.errors import BiduiError
from pipelines.settings import Settings
from pipelines.store import lock_rows, write_transaction
from pipelines.store.failures import load_failure_days, load_task_failures
from pipelines.store.tables import deliveries, feed_loads, households, links, persons, review_queue, rule_releases, rule_runs
from pipelines.store.upsert import upsert
from pipelines.validate import STATUS_TEXT
from pipelines.web.monitor_data import rule_titles

__all__ = [
    "METHOD_TEXT",
    "REPORT_FILES",
    "RULE_STATUS_TEXT",
    "NightSummary",
    "ReleaseRefused",
    "load_held_rules",
    "load_night_days",
    "load_night_summary",
    "load_releases",
    "load_running_releases",
    "newest_rule_night",
    "parse_day",
    "report_path",
    "run_release",
    "start_release",
]

log = logging.getLogger(__name__)

# The night's report files the site serves (reports/<date>/<name>), with what each is.
REPORT_FILES = {
    "validation.html": ("数据校验报告", "text/html; charset=utf-8"),
    "validation_findings.csv": ("校验问题明细（CSV）", "text/csv; charset=utf-8"),
    "validation.json": ("校验结果（JSON）", "application/json"),
    "ingest.json": ("载入结果（JSON）", "application/json"),
    "link.json": ("关联结果（JSON）", "application/json"),
    "clues.json": ("规则与线索结果（JSON）", "application/json"),
}
RULE_STATUS_TEXT = {"ran": "已运行", "skipped": "跳过", "held": "熔断暂停", "failed": "失败"}
METHOD_TEXT = {"id_exact": "身份证号一致", "probabilistic": "概率关联", "review_decision": "人工审核", "singleton": "单独成人"}
RELEASE_STATUS_TEXT = {"running": "正在重新运行", "done": "已完成", "failed": "失败"}
# A release still 'running' after this long was cut off (the site restarted mid-run): it no longer
# stops another release of its night.
RELEASE_ABANDONED_AFTER = dt.timedelta(hours=6)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ReleaseRefused(BiduiError):
    """A release the site will not start (not the newest night, not held, one already running)."""


def parse_day(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD date, or None when `text` is not one."""
    if not text or not _DAY.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- the night page ------------------------------------------------------------------------------


@dataclass
class NightSummary:
    """One night as the data officer checks it in the morning."""

    day: dt.date
    feeds: list[dict] = field(default_factory=list)  # feed_loads rows, with title and status text
    rows: int = 0
    bad_rows: int = 0
    base_map: dict | None = None  # rows, persons, households, methods, source; None: nothing linked
    review_open: int = 0
    review_night: dt.date | None = None  # the newest linked night: only its pairs are reviewed (/review)
    rules: list[dict] = field(default_factory=list)  # rule_runs rows, with title and status text
    rule_statuses: dict[str, int] = field(default_factory=dict)
    reports: list[dict] = field(default_factory=list)  # name, title, present
    failures: list[dict] = field(default_factory=list)  # task_failures rows of the night, oldest first


def load_night_days(engine: Engine, limit: int = 60) -> list[dt.date]:
    """The nights delivered, loaded or with a failed task (a delivery that never came), newest first."""
    with engine.connect() as conn:
        days = set(conn.execute(select(deliveries.c.delivery_date)).scalars())
        days |= set(conn.execute(select(feed_loads.c.delivery_date).distinct()).scalars())
    days |= load_failure_days(engine)
    return sorted((d for d in (_as_date(day) for day in days) if d), reverse=True)[:limit]


def _base_map(engine: Engine, settings: Settings, day: dt.date) -> dict | None:
    with engine.connect() as conn:
        if conn.execute(select(links.c.delivery_date).where(links.c.delivery_date == day).limit(1)).first() is None:
            return None
    # The link stage's own summary of the night: the same counts as the links, without reading
    # millions of them for a page.
    try:
        summary = json.loads((settings.reports_dir / day.isoformat() / "link.json").read_text(encoding="utf-8"))
        counts = summary["counts"]
        return {
            "rows": int(counts["rows"]),
            "persons": int(counts["persons"]),
            "households": int(counts["households"]),
            "methods": {str(k): int(v) for k, v in summary["methods"].items()},
            "source": "link.json",
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    # No summary file (deleted, or a night linked before it was written): the base map's persons
    # and households seen that night, without counting or grouping millions of links for a page.
    with engine.connect() as conn:
        persons_seen = conn.execute(select(func.count()).where(persons.c.last_seen == day)).scalar()
        households_seen = conn.execute(select(func.count()).where(households.c.last_seen == day)).scalar()
    return {
        "rows": None,
        "persons": int(persons_seen or 0),
        "households": int(households_seen or 0),
        "methods": {},
        "source": "底图（未找到当晚关联摘要 link.json，记录数与关联方式未统计）",
    }


def load_night_summary(engine: Engine, settings: Settings, day: dt.date, scope: Scope) -> NightSummary:
    """The night's feeds loaded or rejected, its base map and linkage methods, its open review
    pairs, its rule runs and its failed Airflow tasks (their messages with ID numbers as `scope`
    may see them: the JSON twin carries them too); the report files present."""
    summary = NightSummary(day)
    titles = rule_titles()
    with engine.connect() as conn:
        loads = conn.execute(select(feed_loads).where(feed_loads.c.delivery_date == day).order_by(feed_loads.c.feed)).mappings()
        for row in loads:
            spec = FEEDS.get(row["feed"])
            summary.feeds.append(
                {
                    **row,
                    "title": spec.title if spec else row["feed"],
                    "status_text": STATUS_TEXT.get(row["status"], row["status"]),
                }
            )
        summary.review_open = int(
            conn.execute(
                select(func.count()).where((review_queue.c.delivery_date == day) & (review_queue.c.status == "open"))
            ).scalar()
            or 0
        )
        runs = conn.execute(select(rule_runs).where(rule_runs.c.delivery_date == day).order_by(rule_runs.c.rule)).mappings()
        for row in runs:
            summary.rules.append(
                {
                    **row,
                    "title": titles.get(row["rule"], ""),
                    "status_text": RULE_STATUS_TEXT.get(row["status"], row["status"]),
                }
            )
    summary.review_night = _as_date(store.latest_link_date(engine))
    summary.rows = sum(int(f["rows"] or 0) for f in summary.feeds)
    summary.bad_rows = sum(int(f["bad_rows"] or 0) for f in summary.feeds)
    for run in summary.rules:
        summary.rule_statuses[run["status"]] = summary.rule_statuses.get(run["status"], 0) + 1
    summary.base_map = _base_map(engine, settings, day)
    summary.failures = [{**f, "message": scope.mask_text(f["message"])} for f in load_task_failures(engine, day)]
    folder = settings.reports_dir / day.isoformat()
    summary.reports = [
        {"name": name, "title": title, "present": (folder / name).is_file()} for name, (title, _media) in REPORT_FILES.items()
    ]
    return summary


def report_path(settings: Settings, day_text: str, name: str) -> tuple[Path, str] | None:
    """(file, media type) of a night's report, or None: only the allow-listed names, only a
    YYYY-MM-DD folder, only a file that is there."""
    day = parse_day(day_text)
    if day is None or name not in REPORT_FILES:
        return None
    path = settings.reports_dir / day.isoformat() / name
    return (path, REPORT_FILES[name][1]) if path.is_file() else None


# --- held rules and their release ----------------------------------------------------------------


def newest_rule_night(engine: Engine) -> dt.date | None:
    """The newest night the rules ran on (only its held rules can be released)."""
    with engine.connect() as conn:
        return _as_date(conn.execute(select(func.max(rule_runs.c.delivery_date))).scalar())


def load_held_rules(engine: Engine, day: dt.date) -> list[dict]:
    """The rules the circuit breaker held on `day`, with how many they fired and how many before."""
    titles = rule_titles()
    with engine.connect() as conn:
        rows = conn.execute(
            select(rule_runs)
            .where((rule_runs.c.delivery_date == day) & (rule_runs.c.status == "held"))
            .order_by(rule_runs.c.rule)
        ).mappings()
        return [{**row, "title": titles.get(row["rule"], "")} for row in rows]


def _abandoned(released_at, now: dt.datetime) -> bool:
    return released_at is not None and now - released_at > RELEASE_ABANDONED_AFTER


def load_releases(engine: Engine, limit: int = 30) -> list[dict]:
    """The newest releases first, each with the rule's status on its night now."""
    titles = rule_titles()
    now = dt.datetime.now()
    statement = (
        select(rule_releases, rule_runs.c.status.label("rule_status"), rule_runs.c.new.label("rule_new"))
        .join(
            rule_runs,
            (rule_runs.c.delivery_date == rule_releases.c.delivery_date) & (rule_runs.c.rule == rule_releases.c.rule),
            isouter=True,
        )
        .order_by(rule_releases.c.released_at.desc(), rule_releases.c.rule)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(statement).mappings().all()
    return [
        {
            **row,
            "title": titles.get(row["rule"], ""),
            "status_text": RELEASE_STATUS_TEXT.get(row["status"], row["status"]),
            "rule_status_text": RULE_STATUS_TEXT.get(row["rule_status"], row["rule_status"] or ""),
            "abandoned": row["status"] == "running" and _abandoned(row["released_at"], now),
        }
        for row in rows
    ]


def _running_releases(conn, day: dt.date, now: dt.datetime) -> list[str]:
    """The rules of the night whose release is still running (not cut off long ago)."""
    running = conn.execute(
        select(rule_releases.c.rule, rule_releases.c.released_at).where(
            (rule_releases.c.delivery_date == day) & (rule_releases.c.status == "running")
        )
    ).all()
    return [rule for rule, at in running if not _abandoned(at, now)]


def load_running_releases(engine: Engine, day: dt.date) -> list[str]:
    """The rules of `day` whose release is re-running the night now (the held page offers no other
    release of that night meanwhile, and refreshes itself until they end)."""
    with engine.connect() as conn:
        return sorted(_running_releases(conn, day, dt.datetime.now()))


def start_release(engine: Engine, day: dt.date, rule: str, user_name: str, now: dt.datetime | None = None) -> None:
    """Record the data officer's release of a held rule ('running'); ReleaseRefused (Chinese)
    unless `day` is the newest rule night, the rule is held on it and no release of it is running."""
    now = now or dt.datetime.now().replace(microsecond=0)
    with write_transaction(engine) as conn:
        newest = _as_date(conn.execute(select(func.max(rule_runs.c.delivery_date))).scalar())
        if newest != day:
            raise ReleaseRefused(
                f"只能放行最新一晚（{newest or '无'}）被熔断暂停的规则，{day} 的线索已由之后的夜间比对接续"
                if newest
                else "还没有运行过规则，没有可放行的规则"
            )
        # The night's rule runs locked until this release is recorded (on SQLite the write
        # transaction holds the whole store): two releases of one night at once, a double click or
        # two officers, are decided one after the other, and the second finds the first running.
        night = select(rule_runs.c.rule, rule_runs.c.status).where(rule_runs.c.delivery_date == day)
        status = dict(conn.execute(lock_rows(conn, night, rule_runs)).all()).get(rule)
        if status != "held":
            now_text = RULE_STATUS_TEXT.get(status, status) if status else "未运行"
            raise ReleaseRefused(f"规则 {rule} 在 {day} 没有被熔断暂停（当前：{now_text}），无需放行")
        busy = _running_releases(conn, day, now)
        if busy:
            raise ReleaseRefused(f"{day} 正在按放行规则 {'、'.join(busy)} 重新运行线索，请等它完成后再放行其他规则")
        upsert(
            conn,
            rule_releases,
            {
                "delivery_date": day,
                "rule": rule,
                "released_by": user_name,
                "released_at": now,
                "status": "running",
                "message": None,
            },
        )


def _finish(engine: Engine, day: dt.date, status: str, messages: dict[str, str]) -> None:
    """End the night's unfinished release records of these rules (rule → message)."""
    with engine.begin() as conn:
        for rule, message in messages.items():
            conn.execute(
                update(rule_releases)
                .where(
                    (rule_releases.c.delivery_date == day) & (rule_releases.c.rule == rule) & (rule_releases.c.status != "done")
                )
                .values(status=status, message=message)
            )


def run_release(settings: Settings, engine: Engine, day: dt.date, rule: str) -> None:
    """Run the night's clue stage again with every rule released for it let through; the release
    records end 'done', or this one 'failed' with the reason (never raises: it runs in the
    background, after the page has answered)."""
    from pipelines.clues import run_clue_night

    with engine.connect() as conn:
        released = sorted(conn.execute(select(rule_releases.c.rule).where(rule_releases.c.delivery_date == day)).scalars())
    try:
        night = run_clue_night(settings, day, release=released)
    except BiduiError as exc:
        _finish(engine, day, "failed", {rule: f"重新运行线索失败：{exc}"})
        return
    except Exception as exc:
        log.exception("release of %s on %s failed", rule, day)
        _finish(engine, day, "failed", {rule: f"重新运行线索时系统出错（{type(exc).__name__}），详见服务日志"})
        return
    # Every rule released for the night went through this run, the ones whose own run failed too.
    runs = {r["rule"]: r for r in night.rules}
    messages = {}
    for name in released:
        run = runs.get(name, {})
        outcome = RULE_STATUS_TEXT.get(run.get("status", ""), run.get("status") or "未运行")
        messages[name] = f"已重新运行：规则 {name} {outcome}，新增线索 {run.get('new', 0)} 条"
    _finish(engine, day, "done", messages)
