"""What every `bidui` command group shares: one console, Chinese errors instead of tracebacks,
dates typed on the command line, and signing a user in (`--user`, `--password-file`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, ConsoleDimensions
from typer import _click
from typer.core import TyperGroup

from pipelines.errors import BiduiError, read_problem
from pipelines.settings import Settings

if TYPE_CHECKING:
    from pipelines.access import User

__all__ = [
    "ADMIN_USER",
    "PASSWORD_FILE",
    "USER",
    "FriendlyGroup",
    "console",
    "friendly_errors",
    "parse_date_option",
    "read_password_file",
    "resolve_user",
    "sign_in",
    "sign_in_admin",
    "signed_in_scope",
    "storage_problem",
]

PIPED_WIDTH = 1000


class _Console(Console):
    """Rich's console, as wide as a terminal when there is one; when the output goes to a file or a
    log, wide enough that no table is cut and no path split across lines (rich would assume 80, or
    take COLUMNS, which shells, CI runners and test runners export as 80 for pipes too)."""

    def __init__(self, *args, width: int | None = None, **kwargs) -> None:
        super().__init__(*args, width=width, **kwargs)
        self._asked_width = width

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self._asked_width is None and not self.is_terminal:
            return ConsoleDimensions(PIPED_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = _Console()

USER = typer.Option(..., "--user", help="操作人用户名（须先用 bidui user add 建立）")
PASSWORD_FILE = typer.Option(None, "--password-file", help="密码文件（不给则提示输入）")
# Optional on the command line so a missing sign-in is refused in Chinese, after the other
# arguments were checked, rather than by Click's English usage error.
ADMIN_USER = typer.Option(None, "--user", help="操作人用户名：须为市（州）数据管理员（prefecture）账号")


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """A BiduiError, or a data directory that cannot be written (read-only, no permission, disk
    full), ends the command with a Chinese message and exit code 1."""
    try:
        yield
    except BiduiError as exc:
        console.print(f"[red]错误：[/red]{exc}", highlight=False)
        raise typer.Exit(code=1) from exc
    except Exception as exc:
        message = storage_problem(exc)
        if message is None:
            raise
        console.print(f"[red]错误：[/red]{message}", highlight=False)
        raise typer.Exit(code=1) from exc


class FriendlyGroup(TyperGroup):
    """The `bidui` command group: whatever a command did not turn into a message itself, a data
    directory that cannot be written becomes one Chinese line on stderr and exit code 1, never a
    traceback (the one place every command passes)."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = storage_problem(exc)
            if message is None:
                raise
            # stdout itself may be the file on the full disk.
            Console(stderr=True).print(f"[red]错误：[/red]{message}", highlight=False)
            raise typer.Exit(code=1) from exc


_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_FULL = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_NOT_WRITABLE = ("attempt to write a readonly database", "unable to open database file", "readonly database")
_SQLITE_FULL = ("database or disk is full",)


def _where(exc: BaseException) -> str:
    """The directory a failed write was in: the file's own folder, else the data directory."""
    filename = getattr(exc, "filename", None)
    if filename:
        path = Path(filename)
        return str(path if path.is_dir() or not path.suffix else path.parent)
    from pipelines.settings import load_settings

    try:
        return str(load_settings().data_dir)
    except Exception:  # the settings themselves broken: still say something useful
        return "数据目录（BIDUI_DATA_DIR）"


def storage_problem(exc: BaseException) -> str | None:
    """A Chinese message for a data directory that is read-only, not ours or full (OSError, or
    SQLite saying so through SQLAlchemy); None for any other error."""
    if isinstance(exc, OSError) and exc.errno in _NOT_WRITABLE:
        kind = "not_writable"
    elif isinstance(exc, OSError) and exc.errno in _FULL:
        kind = "full"
    elif type(exc).__name__ == "OperationalError":  # sqlalchemy.exc or sqlite3, without importing either here
        text = str(getattr(exc, "orig", None) or exc).lower()
        if any(m in text for m in _SQLITE_FULL):
            kind = "full"
        elif any(m in text for m in _SQLITE_NOT_WRITABLE):
            kind = "not_writable"
        else:
            return None
    else:
        return None
    where = _where(exc)
    if kind == "full":
        return f"目录 {where} 所在的磁盘已满，写不进去。请清理磁盘空间（例如过期的 reports、ledgers 子目录）后重试。"
    return (
        f"目录 {where} 不能写入（只读，或运行 bidui 的账号没有写权限）。"
        "请让管理员给该目录写权限，或用环境变量 BIDUI_DATA_DIR 指向一个可写的数据目录后重试。"
    )


def parse_date_option(text: str | None, label: str, default_today: bool = False) -> dt.date:
    """A YYYY-MM-DD date typed on the command line (`label` names it in the error); today when empty
    and `default_today`. Delivered data has its own, lenient reader: pipelines.standardise.dates.parse_date."""
    if not text and default_today:
        return dt.date.today()
    # fromisoformat alone would also take 20261120 and week dates (2026-W47-5), not what the message asks for.
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
            raise ValueError(text)
        return dt.date.fromisoformat(text or "")
    except ValueError as exc:
        raise BiduiError(f"{label}“{text}”格式不对，应为 YYYY-MM-DD") from exc


def signed_in_scope(settings: Settings, user: str, password_file: Path | None):
    """The region scope of a user signed in for this command (password asked unless a file gives it)."""
    from pipelines.access import Scope

    return Scope.from_user(resolve_user(settings, user, password_file))


def read_password_file(path: Path) -> str:
    """The password on the first line of `path` (UTF-8, with or without BOM)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise BiduiError(f"密码文件 {path} 不存在") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BiduiError(f"读不了密码文件 {path}：{read_problem(exc)}") from exc
    password = text.splitlines()[0] if text else ""
    if not password:
        raise BiduiError(f"密码文件 {path} 的第一行是空的")
    return password


def resolve_user(settings: Settings, user_name: str, password_file: Path | None = None, migrate_schema: bool = True) -> User:
    """Sign `user_name` in for one command: the password comes from `password_file` when given,
    else from a hidden prompt. The name is looked up as stored (NFKC, so 'ｗａｎｇ' is 'wang').
    BiduiError when the name or password is wrong or the user is disabled."""
    from pipelines.access import authenticate
    from pipelines.store import connect

    engine = connect(settings, migrate_schema)
    if password_file is not None:
        password = read_password_file(password_file)
    else:
        password = typer.prompt(f"用户 {user_name} 的密码", hide_input=True, prompt_suffix="：")
    return authenticate(engine, user_name, password)


def sign_in(
    settings: Settings,
    user_name: str | None,
    password_file: Path | None,
    roles: tuple[str, ...],
    what: str,
    migrate_schema: bool = True,
) -> User:
    """Sign the operator in and check their role may do `what` ('运行夜间比对'); BiduiError when no
    --user was given, the sign-in fails, or the role is not one of `roles`."""
    from pipelines.access import ADMIN_ROLE, ROLE_LABELS, require_role

    if not user_name:
        who = "市（州）数据管理员" if roles == (ADMIN_ROLE,) else "、".join(ROLE_LABELS.get(r, r) for r in roles) + "用户"
        raise BiduiError(f"{what}须先登录：请加 --user 用户名（{who}）")
    user = resolve_user(settings, user_name, password_file, migrate_schema)
    require_role(user, roles, what)
    return user


def sign_in_admin(
    settings: Settings, user_name: str | None, password_file: Path | None, what: str, migrate_schema: bool = True
) -> User:
    """Sign in the prefecture's data officer, the one role that runs nights and keeps accounts."""
    from pipelines.access import ADMIN_ROLE

    return sign_in(settings, user_name, password_file, (ADMIN_ROLE,), what, migrate_schema)
