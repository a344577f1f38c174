"""What `bidui` prints besides its own messages: Click's and Typer's words in Chinese, tables and
long paths not cut at 80 columns when the output goes to a file or a log."""

from __future__ import annotations

import re

import pytest
from rich.table import Table
from typer.testing import CliRunner

from pipelines.cli import common
from pipelines.cli.main import app

CLICK_WORDS = re.compile(
    r"Usage|Options|OPTIONS|ARGS|COMMAND|Arguments|Commands|Show this message|Missing|No such|Invalid value|Try |for help|Error|required|Aborted"
)


def _run(*args: str, tmp_path):
    env = {"BIDUI_DATA_DIR": str(tmp_path / "data"), "BIDUI_PROGRESS": "0", "COLUMNS": "100"}
    return CliRunner().invoke(app, list(args), env=env, prog_name="bidui")


def test_help_is_chinese(tmp_path):
    result = _run("--help", tmp_path=tmp_path)
    assert result.exit_code == 0
    assert CLICK_WORDS.findall(result.output) == []
    for word in ("用法：", "选项", "命令", "显示本帮助并退出"):
        assert word in result.output


def test_an_unknown_command_is_refused_in_chinese(tmp_path):
    result = _run("nosuch", tmp_path=tmp_path)
    assert result.exit_code == 2
    assert CLICK_WORDS.findall(result.output) == []
    squashed = "".join(result.output.split())
    assert "没有这个命令：'nosuch'。" in squashed and "用法：" in squashed and "查看帮助：'bidui--help'" in squashed


def test_a_missing_argument_is_named_in_chinese(tmp_path):
    result = _run("clue", "verify", tmp_path=tmp_path)
    assert result.exit_code == 2
    assert CLICK_WORDS.findall(result.output) == []
    assert "缺少参数" in result.output and "clue_id" in result.output


def test_an_invalid_value_is_refused_in_chinese(tmp_path):
    result = _run("demo-data", "--persons", "many", "--out", str(tmp_path), tmp_path=tmp_path)
    assert result.exit_code == 2
    assert CLICK_WORDS.findall(result.output) == []
    assert "取值无效" in result.output and "--persons" in result.output


def test_a_long_path_is_printed_on_one_line_when_not_a_terminal(tmp_path, monkeypatch):
    deep = tmp_path / ("很长的目录名称" * 6) / ("another-rather-long-folder-name-" * 3)
    monkeypatch.delenv("COLUMNS", raising=False)
    result = CliRunner().invoke(
        app,
        ["demo-data", "--persons", "30", "--seed", "1", "--as-of", "2026-11-20", "--out", str(deep)],
        env={"BIDUI_DATA_DIR": str(tmp_path / "data"), "BIDUI_PROGRESS": "0"},
    )
    assert result.exit_code == 0, result.output
    expected = f"模拟交付已生成：{deep / '2026-11-20'}（真值在 {deep / '2026-11-20' / '_truth'}）"
    assert expected in result.output.splitlines()


def test_a_table_is_not_cut_when_not_a_terminal(capsys):
    assert not common.console.is_terminal
    table = Table()
    table.add_column("文件")
    table.add_column("说明")
    path = "/srv/bidui/drop/2026-11-20/" + "x" * 150 + ".csv"
    table.add_row(path, "文件无法读取：不是 CSV 或 xlsx 文件")
    common.console.print(table)
    assert any(path in line for line in capsys.readouterr().out.splitlines())


@pytest.mark.parametrize("message", ["Usage:", "Options", "Show this message and exit.", "Missing argument"])
def test_every_click_word_used_has_a_chinese_text(message):
    from pipelines.cli.text import ZH

    assert re.search(r"[\u4e00-\u9fff]", ZH[message])
