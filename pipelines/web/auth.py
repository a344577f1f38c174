"""Signing in to the site: sessions in signed cookies, a CSRF token per session, sign-in throttling,
and the one dependency every page uses to learn who is asking and what they may see.

- The cookie holds only the user name, when they signed in and the CSRF token, signed with the
  site's key (Starlette's SessionMiddleware, itsdangerous). It expires after `session_hours`
  without use, and after twice that in any case. Every request re-reads the user from the store,
  so a deactivated user or a changed role takes effect at once.
- Every form that changes something carries the session's CSRF token (`check_csrf`).
- A name with `MAX_NAME_FAILURES` failed sign-ins within `THROTTLE_WINDOW` (or an address with
  `MAX_ADDRESS_FAILURES`) is refused until the window has passed, before the password is checked.
- The region scope is the CLI's: `pipelines.access.Scope` (the same clue filter, the same mask).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy import Engine, delete, func, insert, select

from pipelines.access import ROLE_LABELS, Scope, User, authenticate, load_user, normalise_user_name
from pipelines.errors import BiduiError
from pipelines.store.tables import sign_in_attempts

__all__ = [
    "CSRF_FIELD",
    "MAX_ADDRESS_FAILURES",
    "MAX_NAME_FAILURES",
    "THROTTLE_WINDOW",
    "NotSignedIn",
    "PageForbidden",
    "Viewer",
    "check_csrf",
    "csrf_token",
    "login_target",
    "roles",
    "sign_in",
    "sign_out",
    "viewer",
]

MAX_NAME_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
THROTTLE_WINDOW = dt.timedelta(minutes=15)
_KEEP_ATTEMPTS = dt.timedelta(days=2)
CSRF_FIELD = "csrf_token"


class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in page, other requests get 401."""


class PageForbidden(Exception):
    """The signed-in user may not open this page or make this move (403, the same page for all)."""

    def __init__(self, why: str = "") -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the stored user and their scope (region, department, ID-number mask)."""

    user: User
    scope: Scope
    csrf: str

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.user.role, self.user.role)

    @property
    def region_code(self) -> str:
        return self.user.region_code


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _user_key(user_name: str) -> str:
    return normalise_user_name(user_name or "").casefold()[:64]


def _address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]


def _recent_failures(engine: Engine, column, value: str, since: dt.datetime) -> int:
    """Failed attempts of a name (or address) since `since` and since its last success."""
    with engine.connect() as conn:
        last_ok = conn.execute(
            select(func.max(sign_in_attempts.c.at)).where((column == value) & sign_in_attempts.c.succeeded)
        ).scalar()
        start = max(since, last_ok) if last_ok is not None else since
        return int(
            conn.execute(
                select(func.count()).where((column == value) & ~sign_in_attempts.c.succeeded & (sign_in_attempts.c.at >= start))
            ).scalar()
            or 0
        )


def _record(engine: Engine, user_key: str, address: str, succeeded: bool) -> None:
    now = _now()
    with engine.begin() as conn:
        conn.execute(insert(sign_in_attempts).values(user_key=user_key, address=address, at=now, succeeded=succeeded))
        conn.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < now - _KEEP_ATTEMPTS))


def sign_in(request: Request, engine: Engine, user_name: str, password: str) -> User:
    """Check a sign-in and start the session; BiduiError (Chinese) when refused."""
    user_key, address = _user_key(user_name), _address(request)
    since = _now() - THROTTLE_WINDOW
    minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
    if (
        _recent_failures(engine, sign_in_attempts.c.user_key, user_key, since) >= MAX_NAME_FAILURES
        or _recent_failures(engine, sign_in_attempts.c.address, address, since) >= MAX_ADDRESS_FAILURES
    ):
        _record(engine, user_key, address, False)
        raise BiduiError(f"登录失败次数过多，已暂停登录，请 {minutes} 分钟后再试；忘记密码请联系市（州）数据管理员重设")
    try:
        user = authenticate(engine, user_name, password)
    except BiduiError:
        _record(engine, user_key, address, False)
        raise
    _record(engine, user_key, address, True)
    request.session.clear()
    request.session.update(
        {"user": user.user_name, "since": _now().isoformat(), CSRF_FIELD: secrets.token_urlsafe(32)},
    )
    return user


def sign_out(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made when missing, e.g. on the sign-in page)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse a form whose CSRF token is not the session's (403)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise PageForbidden("表单已过期或来源不明（CSRF 校验未通过），请刷新页面后重试")


def _session_user(request: Request, engine: Engine, max_hours: float) -> User | None:
    name, since = request.session.get("user"), request.session.get("since")
    if not name or not since:
        return None
    try:
        started = dt.datetime.fromisoformat(since)
    except (TypeError, ValueError):
        return None
    if _now() - started > dt.timedelta(hours=2 * max_hours):
        request.session.clear()
        return None
    try:
        user = load_user(engine, name)
    except BiduiError:
        return None
    if not user.active:
        request.session.clear()
        return None
    return user


def viewer(request: Request) -> Viewer:
    """The signed-in user of this request (NotSignedIn otherwise)."""
    state = request.app.state
    user = _session_user(request, state.engine, state.settings.session_hours)
    if user is None:
        raise NotSignedIn(request.url.path)
    return Viewer(user, Scope.from_user(user), csrf_token(request))


def roles(*allowed: str):
    """A dependency: the viewer, when their role is one of `allowed` (403 otherwise)."""

    def dependency(who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if who.role not in allowed:
            raise PageForbidden(f"{who.role_label}用户无权打开此页面")
        return who

    return dependency


def login_target(path: str) -> str:
    """The sign-in page, returning to `path` afterwards."""
    return "/login?next=" + quote(path, safe="/")
