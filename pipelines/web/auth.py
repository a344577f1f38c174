"""Signing in to the site: sessions in signed cookies, a CSRF token per session, sign-in throttling,
and the one dependency every page uses to learn who is asking and what they may see.

- The cookie holds only the user name, the session's id, when they signed in and the CSRF token,
  signed with the site's key (Starlette's SessionMiddleware, itsdangerous). It expires after
  `session_hours` without use, and after twice that in any case. Every request re-reads the user
  from the store, so a deactivated user or a changed role takes effect at once.
- Signing out records the session's id (signed_out_sessions): the cookie is signed, not stored, so
  a copy of it kept from before would otherwise go on opening pages until it expired.
- Every form that changes something carries the session's CSRF token (`check_csrf`).
- A name with `MAX_NAME_FAILURES` failed sign-ins within `THROTTLE_WINDOW` (or an address with
  `MAX_ADDRESS_FAILURES`) is refused until the window has passed, before the password is checked.
  A name's own success forgives its failures; an address's is never forgiven by a success, or one
  account of one's own, signed in between guesses, would let an address guess at every other name.
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
from pipelines.store.tables import sign_in_attempts, signed_out_sessions
from pipelines.store.upsert import upsert

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


def _recent_failures(engine: Engine, column, value: str, since: dt.datetime, forgiven_by_success: bool) -> int:
    """Failed attempts of a name (or address) since `since` (and since its last success, when
    `forgiven_by_success`)."""
    with engine.connect() as conn:
        last_ok = None
        if forgiven_by_success:
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
        _recent_failures(engine, sign_in_attempts.c.user_key, user_key, since, True) >= MAX_NAME_FAILURES
        or _recent_failures(engine, sign_in_attempts.c.address, address, since, False) >= MAX_ADDRESS_FAILURES
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
        {
            "user": user.user_name,
            "session": secrets.token_urlsafe(32),
            "since": _now().isoformat(),
            CSRF_FIELD: secrets.token_urlsafe(32),
        },
    )
    return user


def _started(request: Request) -> dt.datetime | None:
    """When the session's user signed in (None for a session without a readable time)."""
    since = request.session.get("since")
    try:
        return dt.datetime.fromisoformat(since) if isinstance(since, str) else None
    except ValueError:
        return None


def sign_out(request: Request) -> None:
    """End the session: its id recorded as signed out until it would have expired anyway."""
    session_id = request.session.get("session")
    if isinstance(session_id, str) and session_id:
        now = _now()
        lasts = dt.timedelta(hours=2 * request.app.state.settings.session_hours)
        until = (_started(request) or now) + lasts
        with request.app.state.engine.begin() as conn:
            upsert(conn, signed_out_sessions, {"session_id": session_id[:64], "until": until}, update=())
            conn.execute(delete(signed_out_sessions).where(signed_out_sessions.c.until < now))
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
    # Compared as bytes: compare_digest refuses str with anything but ASCII (a TypeError, a 500).
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise PageForbidden("表单已过期或来源不明（CSRF 校验未通过），请刷新页面后重试")


def _signed_out(engine: Engine, session_id: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(select(signed_out_sessions.c.session_id).where(signed_out_sessions.c.session_id == session_id))
        return found.first() is not None


def _session_user(request: Request, engine: Engine, max_hours: float) -> User | None:
    name, session_id, started = request.session.get("user"), request.session.get("session"), _started(request)
    if not name or not isinstance(session_id, str) or not session_id or started is None:
        return None
    if _now() - started > dt.timedelta(hours=2 * max_hours) or _signed_out(engine, session_id[:64]):
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
