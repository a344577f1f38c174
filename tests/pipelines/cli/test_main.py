"""The linkage commands of `bidui` (typer CliRunner), on the hand-made night of
tests/pipelines/basemap_sample.py; the linker itself is replaced by that night's LinkResult."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from pipelines import store
from pipelines.access import users
from pipelines.access.users import add_user
from pipelines.cli import main as cli_module
from pipelines.cli.main import app
from pipelines.link import stage as basemap

SAMPLE_MODULE = "bidui_tests_basemap_sample"
SEED_HUKOU = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20" / "hukou.csv"


def _sample() -> types.ModuleType:
    # The same shared module tests/pipelines/conftest.py loads (importlib mode: no sys.path entry).
    if SAMPLE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, Path(__file__).parents[1] / "basemap_sample.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[SAMPLE_MODULE]


def _squash(text: str) -> str:
    """Output without whitespace, so line wrapping at the terminal width does not matter."""
    return "".join(text.split())


def _env(settings) -> dict[str, str]:
    return {"BIDUI_DATA_DIR": str(settings.data_dir), "BIDUI_DATABASE_URL": settings.database_url, "BIDUI_PROGRESS": "0"}


@pytest.fixture
def cli(settings, monkeypatch):
    """Run `bidui …` against the test store, with the hand-made night's linker."""
    sample = _sample()
    sample.write_snapshots(settings)
    monkeypatch.setattr(basemap, "default_linker", lambda: sample.RecordingLinker().as_linker())
    monkeypatch.setattr(cli_module.console, "width", 200)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=_env(settings))

    return invoke


def test_link_prints_the_base_map_counts(cli, officer):
    result = cli("link", "2026-11-20", *officer)
    assert result.exit_code == 0, result.output
    assert "关联与底图（数据日期 2026-11-20）" in result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert {"人员记录 8", "人员 4", "其中新编号 4", "户 1", "待审核配对 1", "关联方式：身份证号一致 4"} <= set(lines)


def test_link_refuses_a_bad_date(cli, officer):
    result = cli("link", "2026-13-01", *officer)
    assert (result.exit_code, _squash(result.output)) == (1, _squash("错误：数据日期“2026-13-01”格式不对，应为 YYYY-MM-DD"))


@pytest.fixture
def signed_in(settings, tmp_path, monkeypatch):
    """`--user NAME --password-file F` for users of county 522725 and its township 522725102."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    engine = store.connect(settings)
    add_user(engine, "county_a", "secret-2026", "county", "522725")
    add_user(engine, "township_a", "secret-2026", "township", "522725102")
    add_user(engine, "county_b", "secret-2026", "county", "522701")
    password_file = tmp_path / "password.txt"
    password_file.write_text("secret-2026\n", encoding="utf-8")
    return lambda user: ["--user", user, "--password-file", str(password_file)]


def test_explain_prints_weights_and_thresholds(cli, signed_in, officer):
    cli("link", "2026-11-20", *officer)
    result = cli("explain", "minimum_living", "ML1", "--date", "2026-11-20", *signed_in("county_a"))
    assert result.exit_code == 0, result.output
    assert "  合计权重：+3.322　→ 匹配概率 0.909091" in result.output.splitlines()
    assert "阈值：概率 ≥ 0.9 自动关联；0.5 ～ 0.9 之间进入人工审核；低于 0.5 不关联" in result.output.splitlines()
    missing = cli("explain", "hukou", "NOPE", *signed_in("county_a"))
    assert missing.exit_code == 1 and _squash("记录 hukou NOPE 不存在，或不在您的管辖范围内") in _squash(missing.output)


def test_explain_needs_a_signed_in_user_and_keeps_to_the_users_scope(cli, signed_in, officer):
    cli("link", "2026-11-20", *officer)
    assert cli("explain", "hukou", "H1").exit_code != 0  # no --user: refused by the command line
    county = cli("explain", "hukou", "H1", *signed_in("county_a"))
    township = cli("explain", "hukou", "H1", *signed_in("township_a"))
    assert county.exit_code == 0 and township.exit_code == 0, county.output + township.output
    assert "身份证号：522725199001011234（来源 hukou:H1）" in county.output
    assert "身份证号：522725********1234（来源 hukou:H1）" in township.output and "19900101" not in township.output
    other = cli("explain", "hukou", "H1", *signed_in("county_b"))
    assert (other.exit_code, _squash(other.output)) == (1, _squash("错误：记录 hukou H1 不存在，或不在您的管辖范围内"))


def test_export_links_writes_the_csv(cli, tmp_path, officer, signed_in):
    cli("link", "2026-11-20", *officer)
    out = tmp_path / "links.csv"
    result = cli("export", "links", "--out", str(out), *signed_in("county_a"))
    assert result.exit_code == 0, result.output
    assert _squash("已导出 2026-11-20 的关联结果 7 行") in _squash(result.output)
    assert out.read_bytes().startswith("\ufefffeed,record_key,person_id,household_code,method,probability\r\n".encode())


def test_export_links_needs_a_county_or_prefecture_user(cli, tmp_path, officer, signed_in):
    cli("link", "2026-11-20", *officer)
    out = tmp_path / "links.csv"
    assert cli("export", "links", "--out", str(out)).exit_code == 2  # no --user: refused by the command line
    township = cli("export", "links", "--out", str(out), *signed_in("township_a"))
    assert township.exit_code == 1 and "只有市（州）和县级用户可以导出关联结果" in _squash(township.output)
    assert not out.exists()


def test_review_list_then_decide(cli, officer):
    cli("link", "2026-11-20", *officer)
    listed = cli("review", "list", "--limit", "10", *officer)
    assert listed.exit_code == 0, listed.output
    assert "   1. vehicles V1 hukou H2　概率 0.5025　权重 0.01" in listed.output.splitlines()
    wrong = cli("review", "decide", "vehicles", "V1", "hukou", "H2", "maybe", *officer)
    assert wrong.exit_code == 1 and _squash("审核结论只能是 same") in _squash(wrong.output)
    unknown = cli("review", "decide", "vehicles", "V9", "hukou", "H2", "same", *officer)
    assert unknown.exit_code == 1 and _squash("没有找到记录 vehicles V9") in _squash(unknown.output)
    decided = cli("review", "decide", "vehicles", "V1", "hukou", "H2", "different", *officer)
    assert decided.exit_code == 0, decided.output
    assert _squash(decided.output).startswith(_squash("已记录：vehicles V1 与 hukou H2 不是同一人（officer，"))
    assert cli("review", "list", *officer).output.strip() == "没有待审核的配对。"


def _decisions(settings) -> list[tuple[str, str]]:
    return [(d.decision, d.decided_by) for d in store.load_review_decisions(store.connect(settings)).itertuples()]


def test_review_decide_refuses_a_made_up_or_disabled_reviewer_and_records_nothing(cli, settings, officer, signed_in, tmp_path):
    # Used to take any --user text as the reviewer and store it as the decider.
    cli("link", "2026-11-20", *officer)
    pair = ("review", "decide", "vehicles", "V1", "hukou", "H2", "same")
    made_up = cli(*pair, "--user", "审核员甲", "--password-file", officer[-1])
    assert (made_up.exit_code, _squash(made_up.output)) == (1, _squash("错误：用户名或密码不对"))
    store_engine = store.connect(settings)
    add_user(store_engine, "officer2", "officer-secret-2026", "prefecture", "5227")
    users.deactivate(store_engine, "officer2")
    disabled = cli(*pair, "--user", "officer2", "--password-file", officer[-1])
    assert (disabled.exit_code, _squash(disabled.output)) == (1, _squash("错误：用户“officer2”已停用，请联系管理员"))
    county = cli(*pair, *signed_in("county_a"))
    assert (county.exit_code, _squash(county.output)) == (
        1,
        _squash("错误：用户 county_a（县 522725）无权审核候选配对：只有市（州）（prefecture）用户可以"),
    )
    nobody = cli(*pair)
    assert (nobody.exit_code, _squash(nobody.output)) == (
        1,
        _squash("错误：审核候选配对须先登录：请加 --user 用户名（市（州）数据管理员）"),
    )
    assert _decisions(settings) == []
    assert cli("review", "list", *signed_in("county_a")).exit_code == 1
    assert "vehicles V1 hukou H2" in cli("review", "list", *officer).output


@pytest.mark.parametrize(
    "command, what",
    [
        (["link", "2026-11-20"], "运行关联"),
        (["validate", "2026-11-20"], "校验数据"),
        (["ingest", "drop/2026-11-20"], "载入交付数据"),
        (["run", "drop/2026-11-20"], "运行夜间比对"),
        (["db-upgrade"], "升级数据库结构"),
    ],
)
def test_admin_commands_need_the_data_officer(cli, settings, signed_in, command, what):
    # Used to run for anyone at the keyboard, with no sign-in at all.
    nobody = cli(*command)
    assert (nobody.exit_code, _squash(nobody.output)) == (
        1,
        _squash(f"错误：{what}须先登录：请加 --user 用户名（市（州）数据管理员）"),
    )
    county = cli(*command, *signed_in("county_a"))
    assert (county.exit_code, _squash(county.output)) == (
        1,
        _squash(f"错误：用户 county_a（县 522725）无权{what}：只有市（州）（prefecture）用户可以"),
    )
    assert store.load_links(store.connect(settings), dt.date(2026, 11, 20)).empty


def test_db_upgrade_migrates_only_after_the_data_officer_signed_in(cli, settings, officer, tmp_path, monkeypatch):
    from pipelines.store import snapshots

    migrated = []
    monkeypatch.setattr(snapshots, "migrate", lambda engine: migrated.append(engine.url.database))
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n", encoding="utf-8")
    refused = cli("db-upgrade", "--user", "officer", "--password-file", str(wrong))
    assert (refused.exit_code, migrated) == (1, [])
    assert cli("db-upgrade", *officer).exit_code == 0
    assert len(migrated) == 1


def test_evaluate_prints_a_chinese_table(cli, monkeypatch):
    import matchers.febrl

    monkeypatch.setattr(
        matchers.febrl,
        "evaluate_febrl",
        lambda name: {"dataset": name, "precision": 0.99875, "true_positives": 4990, "seconds": {"blocking": 1.234}},
    )
    import pipelines.evaluate

    monkeypatch.setattr(
        pipelines.evaluate, "evaluate_delivery", lambda settings, path: {"recall": 0.5, "exact_id": {"f1": 0.985}}
    )
    rows = lambda out: {" ".join(line.replace("│", " ").split()) for line in out.splitlines()}  # noqa: E731
    febrl = cli("evaluate", "febrl4")
    assert febrl.exit_code == 0, febrl.output
    assert {"数据集 febrl4", "精确率 0.998750", "正确关联（真阳性） 4,990", "耗时（秒） · 分块 1.23"} <= rows(febrl.output)
    delivery = cli("evaluate", "some/delivery")
    assert {"召回率 0.500000", "身份证号直接匹配（对照） · F1 0.985000"} <= rows(delivery.output)


def test_run_keeps_the_report_when_linking_fails(sqlite_settings, tmp_path, monkeypatch, make_officer):
    def broken():
        raise RuntimeError("关联模型文件损坏")

    monkeypatch.setattr(basemap, "default_linker", broken)
    delivery = tmp_path / "drop" / "2026-11-20"
    delivery.mkdir(parents=True)
    with open(SEED_HUKOU, "rb") as src, open(delivery / "hukou.csv", "wb") as dst:
        dst.writelines(line for _, line in zip(range(4), src))
    shutil.copy(SEED_HUKOU.with_name("regions.csv"), delivery)
    result = CliRunner().invoke(app, ["run", str(delivery), *make_officer(sqlite_settings)], env=_env(sqlite_settings))
    assert result.exit_code == 1
    assert _squash("关联失败（校验报告已生成）：RuntimeError: 关联模型文件损坏") in _squash(result.output)
    assert (sqlite_settings.reports_dir / "2026-11-20" / "validation.json").is_file()


# --- a data directory that cannot be written -----------------------------------------------------


def _bare(tmp_path, data_dir: Path, *args: str):
    password_file = tmp_path / "pw.txt"
    password_file.write_text("x\n", encoding="utf-8")
    env = {"BIDUI_DATA_DIR": str(data_dir), "BIDUI_DATABASE_URL": "", "BIDUI_PROGRESS": "0"}
    return CliRunner().invoke(app, list(args), env=env)


def _readonly_message(directory) -> str:
    return _squash(f"错误：目录 {directory} 不能写入（只读，或运行 bidui 的账号没有写权限）")


def test_a_read_only_data_directory_is_one_chinese_message(tmp_path):
    # A real read-only directory, through the installed command: as root (CI, containers) chmod stops
    # nobody, so the command runs as the unprivileged user `nobody`, for whom a root-owned 0555 dir is read-only.
    data = Path(tempfile.mkdtemp(prefix="bidui-readonly-"))
    (data / "pw.txt").write_text("x\n", encoding="utf-8")
    (data / "pw.txt").chmod(0o444)
    data.chmod(0o555)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    command = [*as_nobody, str(Path(sys.executable).with_name("bidui")), "clue", "list", "--user", "a"]
    env = {**os.environ, "BIDUI_DATA_DIR": str(data), "BIDUI_PROGRESS": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("BIDUI_DATABASE_URL", None)
    try:
        result = subprocess.run(
            [*command, "--password-file", str(data / "pw.txt")], check=False, env=env, capture_output=True, text=True
        )
    finally:
        data.chmod(0o755)
        shutil.rmtree(data)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    assert _squash(output).startswith(_readonly_message(data))


@pytest.mark.parametrize(
    "sqlite_says", ["attempt to write a readonly database", "unable to open database file", "database or disk is full"]
)
def test_sqlite_refusing_to_write_is_one_chinese_message(tmp_path, monkeypatch, sqlite_says):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from pipelines.store import snapshots

    def refuse(engine):
        raise OperationalError("insert into alembic_version …", {}, sqlite3.OperationalError(sqlite_says))

    monkeypatch.setattr(snapshots, "migrate", refuse)
    data = tmp_path / "data"
    result = _bare(tmp_path, data, "clue", "list", "--user", "a", "--password-file", str(tmp_path / "pw.txt"))
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    expected = _squash(f"错误：目录 {data} 所在的磁盘已满，写不进去。") if "full" in sqlite_says else _readonly_message(data)
    assert _squash(result.output).startswith(expected)


def test_a_full_disk_is_one_chinese_message_even_outside_a_commands_own_handling(tmp_path, monkeypatch):
    import errno

    from pipelines import demo

    out = tmp_path / "drop"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "2026-11-20" / "hukou.csv"))

    monkeypatch.setattr(demo, "generate_delivery", full)
    result = _bare(tmp_path, tmp_path / "data", "demo-data", "--persons", "10", "--as-of", "2026-11-20", "--out", str(out))
    assert (result.exit_code, result.exception.__class__) == (1, SystemExit)
    assert _squash(result.output) == _squash(
        f"错误：目录 {out / '2026-11-20'} 所在的磁盘已满，写不进去。请清理磁盘空间（例如过期的 reports、ledgers 子目录）后重试。"
    )


def test_a_permission_error_anywhere_in_a_command_is_caught_at_the_top(tmp_path, monkeypatch):
    import errno

    from pipelines.cli import main

    def denied():
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "data"))

    monkeypatch.setattr(main, "load_settings", denied)
    result = _bare(tmp_path, tmp_path / "data", "demo-data", "--out", str(tmp_path / "x"))
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert _squash(result.output).startswith(_readonly_message(tmp_path / "data"))


def test_a_full_disk_after_the_work_is_still_one_chinese_message(tmp_path, monkeypatch):
    # stdout redirected to a log on a full disk: the failure comes from printing, outside every
    # command's own error handling, and the message goes to stderr.
    import errno

    from pipelines import demo

    monkeypatch.setattr(demo, "generate_delivery", lambda *a, **k: tmp_path / "drop" / "2026-11-20")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli_module.console, "print", full)
    result = _bare(tmp_path, tmp_path / "data", "demo-data", "--as-of", "2026-11-20", "--out", str(tmp_path / "drop"))
    assert (result.exit_code, result.exception.__class__) == (1, SystemExit)
    assert _squash(result.output).startswith(_squash(f"错误：目录 {tmp_path / 'data'} 所在的磁盘已满"))


def test_decide_pair_checks_the_reviewer_as_stored_now(cli, settings, officer):
    from pipelines.access import User
    from pipelines.basemap import decide_pair
    from pipelines.errors import BiduiError

    cli("link", "2026-11-20", *officer)
    pair = ("vehicles", "V1", "hukou", "H2", "same")
    with pytest.raises(BiduiError, match="^用户“ghost”不存在$"):
        decide_pair(settings, *pair, User("ghost", None, "prefecture", "5227", None, True, True))
    signed_in_earlier = users.load_user(store.connect(settings), "officer")
    users.deactivate(store.connect(settings), "officer")  # disabled after signing in
    with pytest.raises(BiduiError, match="^用户“officer”已停用，请联系管理员$"):
        decide_pair(settings, *pair, signed_in_earlier)
    assert _decisions(settings) == []
