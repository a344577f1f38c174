"""The monitors' pages: problem trends, closure rates and the drill-down for prefecture and county
monitors (and auditors) in their own region; the night's checks, its reports and the release of
held rules for the data officer.

Routes only wire: who may ask, one call into monitor_views / monitor_runs, one template. Every page
answers `?format=json` with the same data as JSON.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from pipelines.access import ADMIN_ROLE
from pipelines.clues import ALL_RULES
from pipelines.web.auth import PageForbidden, Viewer, check_csrf, roles
from pipelines.web.monitor_data import LEVEL_DIGITS, rule_titles
from pipelines.web.monitor_runs import (
    METHOD_TEXT,
    RULE_STATUS_TEXT,
    ReleaseRefused,
    load_held_rules,
    load_night_days,
    load_night_summary,
    load_releases,
    load_running_releases,
    newest_rule_night,
    parse_day,
    report_path,
    run_release,
    start_release,
)
from pipelines.web.monitor_views import build_closure_view, build_region_view, build_trend_view
from pipelines.web.pages import MONITOR_ROLES, region_names, render

__all__ = ["router"]

router = APIRouter(prefix="/monitor")
Monitor = Annotated[Viewer, Depends(roles(*MONITOR_ROLES))]
Officer = Annotated[Viewer, Depends(roles(ADMIN_ROLE))]
_REGION = re.compile(r"[0-9]+")
# How often the held page looks again while a release re-runs its night (a meta refresh: no script).
RELEASE_REFRESH_SECONDS = 5


def _answer(request: Request, who: Viewer, template: str, view: object, **context: Any) -> Response:
    """The page, or its data as JSON when asked with ?format=json."""
    if request.query_params.get("format") == "json":
        return JSONResponse(jsonable_encoder(view))
    return render(request, template, who, view=view, **context)


def _nothing_yet(request: Request, who: Viewer, title: str) -> Response:
    if request.query_params.get("format") == "json":
        return JSONResponse(None)
    return render(request, "monitor_empty.html", who, title=title)


@router.get("")
def trend(request: Request, who: Monitor, rule: str = "") -> Response:
    """Problem counts night by night: the viewer's region and each of its child regions."""
    rule = rule.strip() or ALL_RULES
    titles = rule_titles()
    if rule != ALL_RULES and rule not in titles:
        raise HTTPException(404, f"没有规则 {rule}")
    view = build_trend_view(request.app.state.engine, region_names(request), who.region_code, rule)
    if view is None:
        return _nothing_yet(request, who, "问题趋势")
    return _answer(request, who, "monitor_trend.html", view, title="问题趋势", rules=sorted(titles.items()))


@router.get("/closure")
def closure(request: Request, who: Monitor) -> Response:
    """Closure rates (销号率) of the newest night per child region and per rule, ranked."""
    view = build_closure_view(request.app.state.engine, region_names(request), who.region_code)
    if view is None:
        return _nothing_yet(request, who, "销号率")
    return _answer(request, who, "monitor_closure.html", view, title="销号率")


@router.get("/regions/{code}")
def region(request: Request, code: str, who: Monitor) -> Response:
    """One level of the drill-down, prefecture → county → township → village → clues."""
    if not _REGION.fullmatch(code) or len(code) not in LEVEL_DIGITS:
        raise HTTPException(404, "区划代码应为 4、6、9 或 12 位数字")
    if not code.startswith(who.region_code):
        raise PageForbidden("该地区不在您的管辖范围内")
    view = build_region_view(request.app.state.engine, region_names(request), who.region_code, code)
    if view is None:
        raise HTTPException(404, f"区划名录中没有 {code}，也没有它的比对结果")
    return _answer(request, who, "monitor_region.html", view, title=f"分级下钻：{view['region_name']}")


@router.get("/night")
def night(request: Request, who: Officer, date: str = "") -> Response:
    """The night's loads, linkage and rule runs (default: the newest night delivered)."""
    state = request.app.state
    days = load_night_days(state.engine)
    day = parse_day(date) if date else (days[0] if days else None)
    if date and day is None:
        raise HTTPException(404, "日期格式应为 YYYY-MM-DD")
    if day is None:
        return _nothing_yet(request, who, "当晚比对")
    if day not in days:
        raise HTTPException(404, f"没有 {day} 的数据载入记录")
    summary = load_night_summary(state.engine, state.settings, day, who.scope)
    return _answer(
        request,
        who,
        "monitor_night.html",
        summary,
        title=f"当晚比对（{day}）",
        days=days,
        methods=METHOD_TEXT,
        rule_status_text=RULE_STATUS_TEXT,
    )


@router.get("/reports/{date}/{name}")
def report(request: Request, date: str, name: str, who: Officer) -> Response:
    """A report file of a night (the allow-listed names only)."""
    found = report_path(request.app.state.settings, date, name)
    if found is None:
        raise HTTPException(404, "没有这份报告")
    path, media_type = found
    return FileResponse(path, media_type=media_type, filename=name if name.endswith(".csv") else None)


@router.get("/held")
def held(request: Request, who: Officer) -> Response:
    """The rules the circuit breaker held on the newest night, and the releases made; while one is
    re-running the night, no other release is offered and the page refreshes itself."""
    engine = request.app.state.engine
    day = newest_rule_night(engine)
    view = {
        "delivery_date": day,
        "held": load_held_rules(engine, day) if day else [],
        "running": load_running_releases(engine, day) if day else [],
        "releases": load_releases(engine),
    }
    return _answer(request, who, "monitor_held.html", view, title="熔断规则", refresh_seconds=RELEASE_REFRESH_SECONDS)


@router.post("/held/{date}/{rule}/release", dependencies=[Depends(check_csrf)])
def release(request: Request, date: str, rule: str, who: Officer, background: BackgroundTasks) -> Response:
    """Let a held rule through: recorded now, the night's clues re-run after the answer."""
    day = parse_day(date)
    if day is None:
        raise HTTPException(404, "日期格式应为 YYYY-MM-DD")
    state = request.app.state
    try:
        start_release(state.engine, day, rule, who.user.user_name)
    except ReleaseRefused as exc:
        return render(request, "error.html", who, status_code=409, heading="不能放行", message=str(exc))
    background.add_task(run_release, state.settings, state.engine, day, rule)
    return RedirectResponse("/monitor/held", status_code=303)
