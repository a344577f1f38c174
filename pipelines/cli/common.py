"""What every `bidui` command group shares: one console, Chinese errors instead of tracebacks,
dates typed on the command line, and signing a user in (`--user`, `--password-file`)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from pipelines.errors import BiduiError
from pipelines.settings import Settings

if TYPE_CHECKING:
    from pipelines.access import User

__all__ = [
    "PASSWORD_FILE",
    "USER",
    "console",
    "friendly_errors",
    "parse_date_option",
    "read_password_file",
    "resolve_user",
    "signed_in_scope",
]

console = Console()

USER = typer.Option(..., "--user", help="操作人用户名（须先用 bidui user add 建立）")
PASSWORD_FILE = typer.Option(None, "--password-file", help="密码文件（不给则提示输入）")


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """A BiduiError ends the command with its Chinese message and exit code 1."""
    try:
        yield
    except BiduiError as exc:
        console.print(f"[red]错误：[/red]{exc}", highlight=False)
        raise typer.Exit(code=1) from exc


def parse_date_option(text: str | None, label: str, default_today: bool = False) -> dt.date:
    """A YYYY-MM-DD date typed on the command line (`label` names it in the error); today when empty
    and `default_today`. Delivered data has its own, lenient reader: pipelines.standardise.dates.parse_date."""
    if not text and default_today:
        return dt.date.today()
    try:
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
        raise BiduiError(f"读不了密码文件 {path}：{exc}") from exc
    password = text.splitlines()[0] if text else ""
    if not password:
        raise BiduiError(f"密码文件 {path} 的第一行是空的")
    return password


def resolve_user(settings: Settings, user_name: str, password_file: Path | None = None) -> User:
    """Sign `user_name` in for one command: the password comes from `password_file` when given,
    else from a hidden prompt. BiduiError when the name or password is wrong or the user is disabled."""
    from pipelines.access import authenticate
    from pipelines.store import connect

    engine = connect(settings)
    if password_file is not None:
        password = read_password_file(password_file)
    else:
        password = typer.prompt(f"用户 {user_name} 的密码", hide_input=True, prompt_suffix="：")
    return authenticate(engine, user_name, password)
