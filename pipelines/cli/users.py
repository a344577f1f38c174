"""`bidui user …`: user accounts for the ledger chain, and how other commands sign a user in.

Signing in from other commands: a command that acts for a person takes `--user NAME` and asks for
the password with a hidden prompt; `--password-file PATH` (first line of a UTF-8 file, a BOM from
Notepad is fine) is for scheduled jobs on the office PC. There is deliberately no password option
or environment variable: both end up in shell history, process lists or shared scripts.

Accounts are kept by the prefecture's data officer (role prefecture), signed in like any other
command. Two exceptions: the very first officer of an empty store is made without signing in (there
is no one to sign in as), and anyone may change their own password by giving the current one.
"""

from __future__ import annotations

from pathlib import Path

import click
import typer
from rich.table import Table

from pipelines.access import ROLE_LABELS, ROLES, User
from pipelines.cli.common import ADMIN_USER, PASSWORD_FILE, console, resolve_user, sign_in_admin
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.errors import BiduiError
from pipelines.settings import Settings, load_settings

__all__ = ["user_app"]

user_app = typer.Typer(help="用户与权限：角色、管辖区域、密码", no_args_is_help=True)

ROLE_HELP = "、".join(f"{r}（{ROLE_LABELS[r]}）" for r in ROLES)


def _engine(settings: Settings | None = None):
    from pipelines.store import connect

    return connect(settings or load_settings())


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        # "-" is stdin, the same stream as click.get_text_stream("stdin"), which Click 8.5 deprecates.
        line = click.open_file("-").readline()
        password = line.rstrip("\r\n")
        if not password:
            raise BiduiError("标准输入里没有读到密码（应为一行）")
        return password
    first = typer.prompt("新密码", hide_input=True, prompt_suffix="：")
    second = typer.prompt("再输入一次", hide_input=True, prompt_suffix="：")
    if first != second:
        raise BiduiError("两次输入的密码不一致，未作更改")
    return first


PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="从标准输入读取密码（一行），供批量建用户的脚本使用")
MANAGE = "管理用户"


def _admin(settings: Settings, user: str | None, password_file: Path | None) -> User:
    return sign_in_admin(settings, user, password_file, MANAGE)


def _within(admin: User, region_code: str) -> None:
    """An officer keeps the accounts of their own prefecture only."""
    if not region_code.startswith(admin.region_code):
        raise BiduiError(f"区划 {region_code} 不在用户 {admin.user_name} 的管辖范围（{admin.region_code}）内")


@user_app.command("add")
def add(
    name: str = typer.Argument(..., help="用户名（登录用，不含空格）"),
    role: str = typer.Option(..., "--role", help=f"角色：{ROLE_HELP}"),
    region: str = typer.Option(
        ..., "--region", help="管辖区划代码：市州 4 位、县 6 位、乡镇 9 位、村 12 位；联络员为所在县 6 位"
    ),
    department: str | None = typer.Option(None, "--department", help="行业部门联络员的部门，例如 教育、公安"),
    display_name: str | None = typer.Option(None, "--display-name", help="姓名（显示用）"),
    full_ids: bool | None = typer.Option(
        None,
        "--full-ids/--masked-ids",
        help="能否查看完整身份证号（默认：市州、县、联络员、审计可以；乡镇、村只看脱敏号码）",
    ),
    password_stdin: bool = PASSWORD_STDIN,
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """新建用户（不给 --password-stdin 时提示输入两次密码）。须以市（州）数据管理员身份登录（--user）；
    例外：库中还没有启用的市（州）数据管理员时，可不登录新建第一个数据管理员（--role prefecture）。"""
    from pipelines.access import ADMIN_ROLE, add_user, check_new_user, has_active_admin
    from pipelines.store import load_region_reference

    with _friendly_errors():
        settings = load_settings()
        engine = _engine(settings)
        first_officer = user is None and not has_active_admin(engine)
        if first_officer and role != ADMIN_ROLE:
            raise BiduiError(
                "还没有启用的市（州）数据管理员账号：请先新建一个，例如 bidui user add 用户名 --role prefecture --region 5227"
            )
        if not first_officer:
            _within(_admin(settings, user, password_file), region)
        check_new_user(engine, name, role, region, department)
        password = _new_password(password_stdin)
        if first_officer:
            console.print("[yellow]提示：[/yellow]库中还没有启用的市（州）数据管理员，本次无需登录，新建第一个数据管理员账号。")
        new = add_user(engine, name, password, role, region, department, display_name, full_ids, first_officer)
    ids = "完整身份证号" if new.full_ids else "脱敏身份证号"
    console.print(f"已新建用户：{new.user_name}（{_describe(new)}，{ids}）", highlight=False)
    if load_region_reference(engine).empty:
        console.print("[yellow]提示：[/yellow]区划参照表还是空的（尚未载入交付数据），未能核对该区划代码是否存在。")


@user_app.command("list")
def list_(
    active_only: bool = typer.Option(False, "--active-only", help="只列出启用中的用户"),
    user: str | None = ADMIN_USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """列出用户：角色、管辖区域、部门、能否看完整身份证号、是否启用（须以市（州）数据管理员身份登录）。"""
    from pipelines.access import list_users, region_names

    with _friendly_errors():
        settings = load_settings()
        admin = _admin(settings, user, password_file)
        engine = _engine(settings)
        people = list_users(engine, admin, include_inactive=not active_only)
        names = region_names(engine, [u.region_code for u in people])
    table = Table(title=f"用户（{len(people)} 个）")
    for header in ("用户名", "姓名", "角色", "管辖区域", "部门", "身份证号", "状态"):
        table.add_column(header)
    for u in people:
        region = f"{u.region_code} {names[u.region_code]}" if u.region_code in names else u.region_code
        table.add_row(
            u.user_name,
            u.display_name or "",
            ROLE_LABELS.get(u.role, u.role),
            region,
            u.department or "",
            "完整" if u.full_ids else "脱敏",
            "启用" if u.active else "停用",
        )
    console.print(table)


@user_app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="用户名"),
    password_stdin: bool = PASSWORD_STDIN,
    user: str | None = typer.Option(
        None, "--user", help="操作人（默认即该用户本人，先输入其当前密码；为他人设置须为市（州）数据管理员）"
    ),
    password_file: Path | None = typer.Option(None, "--password-file", help="操作人的密码文件（不给则提示输入）"),
) -> None:
    """设置新密码：本人修改须先输入当前密码；市（州）数据管理员可为管辖范围内的其他用户重设（不需要其旧密码）。"""
    from pipelines.access import ADMIN_ROLE, load_user, require_role, set_password

    with _friendly_errors():
        settings = load_settings()
        engine = _engine(settings)
        # Without --user the account signs itself in: its current password is what is asked first.
        operator = resolve_user(settings, user or name, password_file)
        target = load_user(engine, name)  # an unknown name is refused before a new password is typed
        if target.user_name != operator.user_name:
            require_role(operator, (ADMIN_ROLE,), MANAGE)
            _within(operator, target.region_code)
        set_password(engine, target.user_name, _new_password(password_stdin))
    console.print(f"已为用户 {target.user_name} 设置新密码。", highlight=False)


@user_app.command("disable")
def disable(
    name: str = typer.Argument(..., help="用户名"), user: str | None = ADMIN_USER, password_file: Path | None = PASSWORD_FILE
) -> None:
    """停用用户：不能再登录；已有的核实、签字记录保持不变（须以市（州）数据管理员身份登录，不能停用自己）。"""
    from pipelines.access import deactivate, load_user

    with _friendly_errors():
        settings = load_settings()
        admin = _admin(settings, user, password_file)
        engine = _engine(settings)
        target = load_user(engine, name)
        _within(admin, target.region_code)
        # Keeps one active officer signed in here, so the no-sign-in first-officer door stays shut.
        if target.user_name == admin.user_name:
            raise BiduiError("不能停用自己的账号")
        done = deactivate(engine, target.user_name)
    console.print(f"已停用用户：{done.user_name}（{_describe(done)}）", highlight=False)


@user_app.command("enable")
def enable(
    name: str = typer.Argument(..., help="用户名"), user: str | None = ADMIN_USER, password_file: Path | None = PASSWORD_FILE
) -> None:
    """重新启用已停用的用户（须以市（州）数据管理员身份登录）。"""
    from pipelines.access import load_user, reactivate

    with _friendly_errors():
        settings = load_settings()
        admin = _admin(settings, user, password_file)
        engine = _engine(settings)
        _within(admin, load_user(engine, name).region_code)
        done = reactivate(engine, name)
    console.print(f"已启用用户：{done.user_name}（{_describe(done)}）", highlight=False)


def _describe(user: User) -> str:
    text = f"{ROLE_LABELS.get(user.role, user.role)}，区划 {user.region_code}"
    return f"{text}，部门 {user.department}" if user.department else text
