"""`bidui user …` and the sign-in other commands use (typer CliRunner on a small app holding
user_app, the way pipelines/cli.py registers it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from argon2 import PasswordHasher
from typer.testing import CliRunner

from pipelines import store
from pipelines.access import users
from pipelines.access.users import User, add_user, authenticate, load_user
from pipelines.cli import users as cli_users
from pipelines.cli.common import resolve_user
from pipelines.cli.users import user_app
from pipelines.errors import BiduiError
from pipelines.settings import load_settings

REGIONS = pd.DataFrame(
    [("522725000000", "瓮安县", "county"), ("522725101000", "雍阳街道", "township"), ("522725101201", "清平村", "village")],
    columns=["code", "name", "level"],
)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(user_app, name="user")

    @app.command()
    def whoami(
        user: str = typer.Option(..., "--user"),
        password_file: Path | None = typer.Option(None, "--password-file"),
    ) -> None:
        """What another command does to sign a user in."""
        with cli_users._friendly_errors():
            signed_in = resolve_user(load_settings(), user, password_file)
        typer.echo(f"signed in: {signed_in.user_name} {signed_in.role} {signed_in.region_code}")

    return app


@pytest.fixture
def engine(settings, monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    engine = store.connect(settings)
    store.replace_region_reference(engine, REGIONS, source="测试")
    return engine


@pytest.fixture
def cli(settings, engine, monkeypatch):
    monkeypatch.setattr(cli_users.console, "width", 200)
    env = {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}
    runner, app = CliRunner(), _app()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


def test_add_prompts_twice_and_stores_the_user(cli, engine):
    result = cli(
        "user", "add", "wang", "--role", "county", "--region", "522725", "--display-name", "王五", input="secret123\nsecret123\n"
    )
    assert result.exit_code == 0, result.output
    assert "新密码：" in result.output and "再输入一次：" in result.output
    assert "secret123" not in result.output  # hidden input
    assert "已新建用户：wang（县，区划 522725，完整身份证号）" in result.output
    assert load_user(engine, "wang") == User("wang", "王五", "county", "522725", None, True, True)
    assert authenticate(engine, "wang", "secret123").user_name == "wang"


def test_add_refuses_two_different_passwords(cli, engine):
    result = cli("user", "add", "wang", "--role", "county", "--region", "522725", input="secret123\nsecret124\n")
    assert result.exit_code == 1
    assert "错误：两次输入的密码不一致，未作更改" in result.output
    with pytest.raises(BiduiError):
        load_user(engine, "wang")


def test_add_reads_one_line_from_stdin(cli, engine):
    result = cli(
        "user",
        "add",
        "edu",
        "--role",
        "liaison",
        "--region",
        "522725",
        "--department",
        "教育",
        "--password-stdin",
        input="secret123\n",
    )
    assert result.exit_code == 0, result.output
    assert "新密码" not in result.output
    assert "已新建用户：edu（行业部门联络员，区划 522725，部门 教育，完整身份证号）" in result.output
    assert authenticate(engine, "edu", "secret123").department == "教育"


def test_add_masks_ids_below_county_unless_told(cli, engine):
    masked = cli("user", "add", "tw", "--role", "township", "--region", "522725101", "--password-stdin", input="secret123\n")
    full = cli(
        "user", "add", "tw2", "--role", "township", "--region", "522725101", "--full-ids", "--password-stdin", input="secret123\n"
    )
    assert "已新建用户：tw（乡镇，区划 522725101，脱敏身份证号）" in masked.output
    assert "已新建用户：tw2（乡镇，区划 522725101，完整身份证号）" in full.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "county", "--region", "5227"], "错误：县用户的区划代码应为 6 位，而“5227”是 4 位"),
        (["--role", "county", "--region", "522799"], "错误：区划代码 522799 不在区划参照表中（县级）"),
        (["--role", "liaison", "--region", "522725"], "错误：行业部门联络员须指定部门"),
        (["--role", "boss", "--region", "522725"], "错误：未知的角色“boss”"),
    ],
)
def test_add_refuses_bad_fields_before_asking_for_a_password(cli, engine, args, message):
    result = cli("user", "add", "wang", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "新密码" not in result.output


def test_list_shows_roles_regions_and_states(cli, engine):
    add_user(engine, "wang", "secret123", "county", "522725", display_name="王五")
    add_user(engine, "li", "secret123", "village", "522725101201")
    add_user(engine, "edu", "secret123", "liaison", "522725", "教育")
    cli("user", "disable", "li")
    result = cli("user", "list")
    assert result.exit_code == 0, result.output
    rows = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert "wang 王五 县 522725 瓮安县 完整 启用" in rows
    assert "edu 行业部门联络员 522725 瓮安县 教育 完整 启用" in rows
    assert "li 村 522725101201 清平村 脱敏 停用" in rows
    active = cli("user", "list", "--active-only")
    assert "li" not in [row.split(" ")[0] for row in active.output.splitlines()]
    assert "用户（2 个）" in active.output


def test_list_says_when_there_are_no_users(cli):
    result = cli("user", "list")
    assert result.exit_code == 0
    assert "还没有用户" in result.output


def test_passwd_sets_a_new_password(cli, engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    result = cli("user", "passwd", "wang", input="new-secret\nnew-secret\n")
    assert result.exit_code == 0, result.output
    assert "已为用户 wang 设置新密码。" in result.output
    assert authenticate(engine, "wang", "new-secret").user_name == "wang"


def test_passwd_for_an_unknown_user_asks_for_nothing(cli):
    result = cli("user", "passwd", "ghost")
    assert result.exit_code == 1
    assert "错误：用户“ghost”不存在" in result.output
    assert "新密码" not in result.output


def test_disable_and_enable(cli, engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    disabled = cli("user", "disable", "wang")
    assert "已停用用户：wang（县，区划 522725）" in disabled.output
    with pytest.raises(BiduiError, match="已停用"):
        authenticate(engine, "wang", "secret123")
    enabled = cli("user", "enable", "wang")
    assert "已启用用户：wang（县，区划 522725）" in enabled.output
    assert authenticate(engine, "wang", "secret123").active


def test_sign_in_prompts_for_a_hidden_password(cli, engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    result = cli("whoami", "--user", "wang", input="secret123\n")
    assert result.exit_code == 0, result.output
    assert "用户 wang 的密码：" in result.output
    assert "secret123" not in result.output
    assert "signed in: wang county 522725" in result.output


def test_sign_in_with_a_wrong_password_fails_in_chinese(cli, engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    result = cli("whoami", "--user", "wang", input="secret124\n")
    assert result.exit_code == 1
    assert "错误：用户名或密码不对" in result.output


def test_sign_in_from_a_password_file_written_by_notepad(cli, engine, tmp_path):
    add_user(engine, "wang", "secret123", "county", "522725")
    password_file = tmp_path / "wang.txt"
    password_file.write_bytes("secret123\r\n".encode("utf-8-sig"))
    result = cli("whoami", "--user", "wang", "--password-file", str(password_file))
    assert result.exit_code == 0, result.output
    assert "密码" not in result.output
    assert "signed in: wang county 522725" in result.output


@pytest.mark.parametrize("content, message", [(None, "密码文件 {path} 不存在"), (b"\n", "密码文件 {path} 的第一行是空的")])
def test_a_missing_or_empty_password_file_is_named(cli, engine, tmp_path, content, message):
    password_file = tmp_path / "pw.txt"
    if content is not None:
        password_file.write_bytes(content)
    result = cli("whoami", "--user", "wang", "--password-file", str(password_file))
    assert result.exit_code == 1
    assert message.format(path=password_file) in "".join(result.output.split("\n"))


def test_add_says_when_no_region_reference_was_there_to_check_against(cli, engine):
    checked = cli("user", "add", "li", "--role", "county", "--region", "522725", "--password-stdin", input="secret123\n")
    assert checked.exit_code == 0, checked.output
    assert "区划参照表还是空的" not in checked.output
    store.replace_region_reference(engine, REGIONS.iloc[0:0], source="测试")
    result = cli("user", "add", "wang", "--role", "county", "--region", "522799", "--password-stdin", input="secret123\n")
    assert result.exit_code == 0, result.output
    assert "提示：区划参照表还是空的（尚未载入交付数据），未能核对该区划代码是否存在。" in result.output
