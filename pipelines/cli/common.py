"""What every `bidui` command group shares: one console, Chinese errors instead of tracebacks,
dates typed on the command line, and signing a user in (`--user`, `--password-file`)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console

from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["PASSWORD_FILE", "USER", "console", "friendly_errors", "parse_date", "signed_in_scope"]

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


def parse_date(text: str | None, label: str, default_today: bool = False) -> dt.date:
    """A YYYY-MM-DD date typed by the user; today when empty and `default_today`."""
    if not text and default_today:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError as exc:
        raise BiduiError(f"{label}“{text}”格式不对，应为 YYYY-MM-DD") from exc


def signed_in_scope(settings: Settings, user: str, password_file: Path | None):
    """The region scope of a user signed in for this command (password asked unless a file gives it)."""
    from pipelines.access.scope import Scope
    from pipelines.cli.users import resolve_user

    return Scope.from_user(resolve_user(settings, user, password_file))
