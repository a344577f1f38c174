"""The monitoring site: one FastAPI application on the CLI's store.

`create_app(settings)` builds it; `bidui serve` runs it with uvicorn. Pages live in the modules
named after their users (monitor, staff, review); this module wires them together with sessions,
security headers, static files and the error pages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines.errors import BiduiError
from pipelines.settings import Settings
from pipelines.store import connect, read_or_make_secret
from pipelines.web.auth import NotSignedIn, PageForbidden, Viewer, check_csrf, csrf_token, login_target, sign_in, sign_out, viewer
from pipelines.web.pages import MONITOR_ROLES, STATIC_DIR, render

__all__ = ["MAX_FORM_BYTES", "BodyLimit", "app_from_environment", "create_app"]

log = logging.getLogger(__name__)

# Only this site's own scripts, styles, images and fonts; ECharts sets element styles from script,
# which CSP allows through the style property, but it also writes style attributes, hence
# 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A form's few fields (a clue move's longest is 2,000 characters); a filled ledger is the upload's own.
MAX_FORM_BYTES = 256 * 1024
_CHINESE = re.compile("[\u4e00-\u9fff]")
# The query and form fields a request can get wrong, as the error page names them.
FIELD_LABELS = {"page": "页码", "imports": "导入记录页码", "import_id": "导入记录编号"}


class BodyLimit:
    """A request body past its route's limit refused (413, in Chinese) as it is read: at once when
    its Content-Length says so, else once the bytes streamed in pass it. Every POST reads its form
    for the CSRF token before anyone is known, and a form's files are spooled to disk whole: this
    is what stops a body of any size, sent by anyone, from being taken in."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], tuple[int, str]]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, message = self.limit_for(scope["path"])
        try:
            declared = int(dict(scope["headers"]).get(b"content-length", b"0"))
        except ValueError:
            declared = 0
        taken = 0

        async def limited() -> Message:
            nonlocal taken
            if declared > limit:
                raise HTTPException(413, message)  # FastAPI's own: re-raised as is when a form is parsed
            event = await receive()
            taken += len(event.get("body", b""))
            if taken > limit:
                raise HTTPException(413, message)
            return event

        await self.app(scope, limited, send)


def _body_limit(path: str) -> tuple[int, str]:
    from pipelines.web import ledgers

    if path == ledgers.UPLOAD_PATH:
        return ledgers.upload_limit()
    return MAX_FORM_BYTES, f"提交的内容超过 {MAX_FORM_BYTES // 1024} KB 的上限，未处理"


def _secret(settings: Settings) -> str:
    return settings.web_secret or read_or_make_secret(settings.data_dir / "web-secret.key")


def create_app(settings: Settings) -> FastAPI:
    """The site on the store `settings` name (schema migrated on start, as every command does)."""
    from pipelines.web import bulletins, ledgers, monitor, quality, review, samples, staff

    app = FastAPI(title="bidui 比对", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = connect(settings)
    app.add_middleware(BodyLimit, limit_for=_body_limit)
    app.add_middleware(
        SessionMiddleware,
        secret_key=_secret(settings),
        session_cookie="bidui_session",
        max_age=int(settings.session_hours * 3600),
        same_site="strict",
        https_only=settings.secure_cookies,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        return _secured(request, await call_next(request))

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    _add_error_pages(app)
    _add_sign_in(app)
    for module in (monitor, staff, ledgers, review, bulletins, quality, samples):
        app.include_router(module.router)
    return app


def _secured(request: Request, response: Response) -> Response:
    """The response with the site's security headers (a page's own, when it set one, stays)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith("/static/"):
        # Pages carry personal data: not kept by the browser or a proxy.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _wants_page(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "application/json" not in request.headers.get("accept", "")


def _add_error_pages(app: FastAPI) -> None:
    def who_or_none(request: Request) -> Viewer | None:
        try:
            return viewer(request)
        except NotSignedIn:
            return None

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn):
        if _wants_page(request):
            return RedirectResponse(login_target(request.url.path), status_code=303)
        return render(request, "error.html", None, status_code=401, heading="请先登录", message="登录已过期或尚未登录。")

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden):
        # The same page whatever was asked for: nothing of the thing itself is shown.
        return render(
            request,
            "error.html",
            who_or_none(request),
            status_code=403,
            heading="无权访问",
            message=exc.why or "该页面或线索不在您的管辖范围内。",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # The site's own errors say it in Chinese; what the framework says (in English) is not shown.
        said = str(exc.detail) if isinstance(exc.detail, str) and _CHINESE.search(exc.detail) else None
        if exc.status_code == 404:
            heading, message = "没有找到", said or "没有这个页面。"
        elif exc.status_code == 405:
            heading, message = "不支持的操作", "该地址不支持这种请求方式。"
        else:
            heading, message = "请求有误", said or "提交的内容无法读取，请回到上一页刷新后重试。"
        return render(request, "error.html", who_or_none(request), status_code=exc.status_code, heading=heading, message=message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        fields = "、".join(FIELD_LABELS.get(str(name), str(name)) for name in (e.get("loc", ["?"])[-1] for e in exc.errors()))
        return render(
            request,
            "error.html",
            who_or_none(request),
            status_code=400,
            heading="请求有误",
            message=f"请检查填写的内容：{fields}",
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # Answered outside every middleware (Starlette's outermost one catches what got this far),
        # so the headers are set here.
        log.exception("page %s failed", request.url.path)
        return _secured(
            request,
            render(
                request,
                "error.html",
                who_or_none(request),
                status_code=500,
                heading="系统出错",
                message="页面处理时出错，已记录日志。请稍后重试，或联系数据管理员。",
            ),
        )


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never '//other.host' or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _add_sign_in(app: FastAPI) -> None:
    @app.get("/login")
    def login_page(request: Request, next: str = "/"):
        return render(request, "login.html", None, title="登录", next=_safe_next(next), login_csrf=csrf_token(request))

    @app.post("/login", dependencies=[Depends(check_csrf)])
    def login(
        request: Request,
        user_name: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ):
        try:
            sign_in(request, request.app.state.engine, user_name.strip(), password)
        except BiduiError as exc:
            return render(
                request,
                "login.html",
                None,
                status_code=401,
                title="登录",
                next=_safe_next(next),
                error=str(exc),
                user_name=user_name,
                login_csrf=csrf_token(request),
            )
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request):
        sign_out(request)
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(who: Annotated[Viewer, Depends(viewer)]):
        return RedirectResponse("/monitor" if who.role in MONITOR_ROLES else "/clues", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")


def app_from_environment() -> FastAPI:
    """The site on the store the environment names (BIDUI_*): uvicorn's factory in each worker."""
    from pipelines.settings import load_settings

    return create_app(load_settings())
