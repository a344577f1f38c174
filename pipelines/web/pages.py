"""What every page shares: the templates, the navigation a role sees, region names, and paging.

Pages are server-rendered Jinja2 templates in Chinese (autoescaped). A page's data that a chart
needs goes into the page as JSON (`{{ data | tojson }}` inside `<script type="application/json">`),
read by /static/bidui.js: no page loads anything from another host, and no inline script runs.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pipelines.access import ADMIN_ROLE
from pipelines.store import load_region_reference
from pipelines.web.auth import CSRF_FIELD, Viewer

__all__ = [
    "MONITOR_ROLES",
    "PAGE_SIZE",
    "STAFF_ROLES",
    "Page",
    "attachment_headers",
    "navigation",
    "region_label",
    "region_names",
    "render",
    "templates",
]

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
PAGE_SIZE = 50
# Who watches the trends (prefecture and county monitors, and auditors reading in their scope) and
# who works clues (everyone with a region; auditors read them).
MONITOR_ROLES = (ADMIN_ROLE, "county", "auditor")
STAFF_ROLES = ("prefecture", "county", "township", "village", "liaison", "auditor")
_REGION_CACHE_SECONDS = 60.0

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD


def _day(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _number(value: Any) -> str:
    return f"{int(value):,}" if value not in (None, "") else ""


def _percent(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


templates.env.filters["day"] = _day
templates.env.filters["number"] = _number
templates.env.filters["percent"] = _percent


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


def navigation(who: Viewer) -> list[NavItem]:
    """The menu of a role: monitors see the trends first, staff their clues."""
    items: list[NavItem] = []
    if who.role in MONITOR_ROLES:
        items += [
            NavItem("/monitor", "问题趋势"),
            NavItem("/monitor/closure", "销号率"),
            NavItem(f"/monitor/regions/{who.region_code}", "分级下钻"),
        ]
    items.append(NavItem("/clues", "问题线索"))
    if who.role in ("prefecture", "county", "auditor"):
        items.append(NavItem("/ledgers", "问题台账"))
        items.append(NavItem("/bulletins", "月通报"))
        items.append(NavItem("/samples", "交叉检查抽样"))
    if who.role == ADMIN_ROLE:
        items += [NavItem("/monitor/night", "当晚比对"), NavItem("/monitor/held", "熔断规则"), NavItem("/review", "候选配对审核")]
    if who.role in ("prefecture", "auditor"):
        items.append(NavItem("/quality-reports", "数据质量报告"))
    return items


def region_names(request: Request) -> dict[str, str]:
    """Region code → name from the region reference, re-read at most once a minute."""
    state = request.app.state
    cached = getattr(state, "region_cache", None)
    if cached is None or time.monotonic() - cached[0] > _REGION_CACHE_SECONDS:
        reference = load_region_reference(state.engine)
        cached = (time.monotonic(), dict(zip(reference["code"], reference["name"], strict=True)))
        state.region_cache = cached
    return cached[1]


def region_label(names: dict[str, str], code: str | None) -> str:
    """'某某县（522725）'; the code alone when the reference does not know it."""
    if not code:
        return ""
    name = names.get(code.ljust(12, "0"))
    if name is None and len(code) == 4:
        return f"市（州）{code}"
    return f"{name}（{code}）" if name else code


def attachment_headers(name: str, fallback: str | None = None) -> dict[str, str]:
    """Headers for a download under its own (Chinese) name, with an ASCII name for old browsers
    (`fallback`, else the name with every other character replaced)."""
    plain = fallback or re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("_") or "download" + Path(name).suffix
    return {"Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"}


@dataclass(frozen=True)
class Page:
    """One page of a server-paginated list: `rows`, and where the next and previous pages start."""

    rows: list
    number: int
    size: int
    total: int | None

    @property
    def has_next(self) -> bool:
        return len(self.rows) == self.size and (self.total is None or self.number * self.size < self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def render(request: Request, template: str, who: Viewer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the viewer, their menu and the CSRF token for its forms."""
    context.setdefault("title", "")
    return templates.TemplateResponse(
        request,
        template,
        {"who": who, "nav": navigation(who) if who else [], "csrf": who.csrf if who else None, **context},
        status_code=status_code,
    )
