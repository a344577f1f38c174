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


def test_add_prompts_twice_and_stores_the_user(cli, engine, officer):
    result = cli(
        "user",
        "add",
        "wang",
        "--role",
        "county",
        "--region",
        "522725",
        "--display-name",
        "王五",
        *officer,
        input="secret123\nsecret123\n",
    )
    assert result.exit_code == 0, result.output
    assert "新密码：" in result.output and "再输入一次：" in result.output
    assert "secret123" not in result.output  # hidden input
    assert "已新建用户：wang（县，区划 522725，完整身份证号）" in result.output
    assert load_user(engine, "wang") == User("wang", "王五", "county", "522725", None, True, True)
    assert authenticate(engine, "wang", "secret123").user_name == "wang"


def test_add_refuses_two_different_passwords(cli, engine, officer):
    result = cli("user", "add", "wang", "--role", "county", "--region", "522725", *officer, input="secret123\nsecret124\n")
    assert result.exit_code == 1
    assert "错误：两次输入的密码不一致，未作更改" in result.output
    with pytest.raises(BiduiError):
        load_user(engine, "wang")


def test_add_reads_one_line_from_stdin(cli, engine, officer):
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
        *officer,
        input="secret123\n",
    )
    assert result.exit_code == 0, result.output
    assert "新密码" not in result.output
    assert "已新建用户：edu（行业部门联络员，区划 522725，部门 教育，完整身份证号）" in result.output
    assert authenticate(engine, "edu", "secret123").department == "教育"


def test_add_masks_ids_below_county_unless_told(cli, engine, officer):
    masked = cli(
        "user", "add", "tw", "--role", "township", "--region", "522725101", "--password-stdin", *officer, input="secret123\n"
    )
    full = cli(
        "user",
        "add",
        "tw2",
        "--role",
        "township",
        "--region",
        "522725101",
        "--full-ids",
        "--password-stdin",
        *officer,
        input="secret123\n",
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
def test_add_refuses_bad_fields_before_asking_for_a_password(cli, engine, officer, args, message):
    result = cli("user", "add", "wang", *args, *officer)
    assert result.exit_code == 1
    assert message in result.output
    assert "新密码" not in result.output


def test_list_shows_roles_regions_and_states(cli, engine, officer):
    add_user(engine, "wang", "secret123", "county", "522725", display_name="王五")
    add_user(engine, "li", "secret123", "village", "522725101201")
    add_user(engine, "edu", "secret123", "liaison", "522725", "教育")
    cli("user", "disable", "li", *officer)
    result = cli("user", "list", *officer)
    assert result.exit_code == 0, result.output
    rows = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert "wang 王五 县 522725 瓮安县 完整 启用" in rows
    assert "edu 行业部门联络员 522725 瓮安县 教育 完整 启用" in rows
    assert "li 村 522725101201 清平村 脱敏 停用" in rows
    assert "officer 数据管理员 市（州） 5227 完整 启用" in rows
    active = cli("user", "list", "--active-only", *officer)
    assert "li" not in [row.split(" ")[0] for row in active.output.splitlines()]
    assert "用户（3 个）" in active.output


def test_passwd_sets_a_new_password(cli, engine, officer):
    add_user(engine, "wang", "secret123", "county", "522725")
    result = cli("user", "passwd", "wang", *officer, input="new-secret\nnew-secret\n")
    assert result.exit_code == 0, result.output
    assert "已为用户 wang 设置新密码。" in result.output
    assert authenticate(engine, "wang", "new-secret").user_name == "wang"


def test_passwd_for_an_unknown_user_asks_for_nothing(cli, officer):
    result = cli("user", "passwd", "ghost", *officer)
    assert result.exit_code == 1
    assert "错误：用户“ghost”不存在" in result.output
    assert "新密码" not in result.output


def test_disable_and_enable(cli, engine, officer):
    add_user(engine, "wang", "secret123", "county", "522725")
    disabled = cli("user", "disable", "wang", *officer)
    assert "已停用用户：wang（县，区划 522725）" in disabled.output
    with pytest.raises(BiduiError, match="已停用"):
        authenticate(engine, "wang", "secret123")
    enabled = cli("user", "enable", "wang", *officer)
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


def test_add_says_when_no_region_reference_was_there_to_check_against(cli, engine, officer):
    checked = cli(
        "user", "add", "li", "--role", "county", "--region", "522725", "--password-stdin", *officer, input="secret123\n"
    )
    assert checked.exit_code == 0, checked.output
    assert "区划参照表还是空的" not in checked.output
    store.replace_region_reference(engine, REGIONS.iloc[0:0], source="测试")
    result = cli(
        "user", "add", "wang", "--role", "county", "--region", "522799", "--password-stdin", *officer, input="secret123\n"
    )
    assert result.exit_code == 0, result.output
    assert "提示：区划参照表还是空的（尚未载入交付数据），未能核对该区划代码是否存在。" in result.output


# --- who may administer users (issue 9, item 6) -------------------------------------------------


@pytest.fixture
def county_wang(engine, tmp_path) -> list[str]:
    """County user wang (522725) and the arguments that sign him in."""
    add_user(engine, "wang", "secret123", "county", "522725")
    password_file = tmp_path / "wang.password"
    password_file.write_text("secret123\n", encoding="utf-8")
    return ["--user", "wang", "--password-file", str(password_file)]


def test_passwd_without_signing_in_changes_nothing(cli, engine, officer, county_wang):
    # Used to set anyone's password with no sign-in at all. Without --user, `passwd NAME` signs NAME
    # in, so the first line of stdin is taken as wang's current password, which it is not.
    result = cli("user", "passwd", "officer", "--password-stdin", input="taken-over-1\n")
    assert (result.exit_code, result.output.splitlines()[-1]) == (1, "错误：用户名或密码不对")
    assert authenticate(engine, "officer", "officer-secret-2026").user_name == "officer"
    with pytest.raises(BiduiError, match="^用户名或密码不对$"):
        authenticate(engine, "officer", "taken-over-1")


@pytest.mark.parametrize(
    "command",
    [
        ["user", "add", "li", "--role", "county", "--region", "522725", "--password-stdin"],
        ["user", "passwd", "officer", "--password-stdin"],
        ["user", "disable", "officer"],
        ["user", "enable", "wang"],
        ["user", "list"],
    ],
)
def test_a_county_user_cannot_administer_users(cli, engine, officer, county_wang, command):
    result = cli(*command, *county_wang, input="taken-over-1\n")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == "错误：用户 wang（县 522725）无权管理用户：只有市（州）（prefecture）用户可以"
    assert [(u.user_name, u.active) for u in users.list_users(engine)] == [("officer", True), ("wang", True)]
    assert authenticate(engine, "officer", "officer-secret-2026").user_name == "officer"


def test_a_user_changes_their_own_password_by_giving_the_current_one(cli, engine, county_wang):
    wrong = cli("user", "passwd", "wang", input="secret999\nnew-secret\nnew-secret\n")
    assert (wrong.exit_code, wrong.output.splitlines()[-1]) == (1, "错误：用户名或密码不对")
    result = cli("user", "passwd", "wang", input="secret123\nnew-secret\nnew-secret\n")
    assert result.exit_code == 0, result.output
    assert "用户 wang 的密码：" in result.output and "新密码：" in result.output
    assert "已为用户 wang 设置新密码。" in result.output
    assert authenticate(engine, "wang", "new-secret").user_name == "wang"


def test_the_first_data_officer_is_made_without_signing_in_and_only_the_first(cli, engine):
    county = cli("user", "add", "wang", "--role", "county", "--region", "522725", "--password-stdin", input="secret123\n")
    assert county.exit_code == 1
    assert _squash(county.output) == _squash(
        "错误：还没有启用的市（州）数据管理员账号：请先新建一个，例如 bidui user add 用户名 --role prefecture --region 5227"
    )
    first = cli("user", "add", "boss", "--role", "prefecture", "--region", "5227", "--password-stdin", input="secret123\n")
    assert first.exit_code == 0, first.output
    assert _squash("提示：库中还没有启用的市（州）数据管理员，本次无需登录，新建第一个数据管理员账号。") in _squash(first.output)
    second = cli("user", "add", "boss2", "--role", "prefecture", "--region", "5227", "--password-stdin", input="secret123\n")
    assert (second.exit_code, _squash(second.output)) == (
        1,
        _squash("错误：管理用户须先登录：请加 --user 用户名（市（州）数据管理员）"),
    )
    assert [u.user_name for u in users.list_users(engine)] == ["boss"]


def test_the_last_data_officer_cannot_be_disabled(cli, engine, officer):
    result = cli("user", "disable", "officer", *officer)
    assert (result.exit_code, _squash(result.output)) == (1, _squash("错误：不能停用自己的账号"))
    assert load_user(engine, "officer").active


def test_an_officer_administers_only_inside_their_prefecture(cli, engine, officer):
    result = cli("user", "add", "zy", "--role", "county", "--region", "520302", "--password-stdin", *officer, input="secret123\n")
    assert (result.exit_code, _squash(result.output)) == (1, _squash("错误：区划 520302 不在用户 officer 的管辖范围（5227）内"))


def test_look_alike_names_are_refused_on_the_command_line(cli, engine, officer, county_wang):
    result = cli("user", "add", "ＷＡＮＧ", "--role", "county", "--region", "522725", "--password-stdin", *officer, input="x\n")
    assert (result.exit_code, _squash(result.output)) == (
        1,
        _squash("错误：用户名“ＷＡＮＧ”与已有用户“wang”相同或极易混淆，请换一个"),
    )


def _squash(text: str) -> str:
    return "".join(text.split())
