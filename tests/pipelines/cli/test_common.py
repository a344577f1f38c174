"""Dates typed on the command line: strict YYYY-MM-DD, a Chinese error naming the option."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.cli.common import parse_date_option
from pipelines.errors import BiduiError


def test_a_typed_date_is_iso():
    assert parse_date_option("2026-11-20", "数据日期") == dt.date(2026, 11, 20)


def test_empty_is_today_only_when_asked():
    assert parse_date_option(None, "下发日期", default_today=True) == dt.date.today()
    assert parse_date_option("", "下发日期", default_today=True) == dt.date.today()
    with pytest.raises(BiduiError, match="^数据日期“None”格式不对，应为 YYYY-MM-DD$"):
        parse_date_option(None, "数据日期")


@pytest.mark.parametrize("text", ["2026/11/20", "2026年11月20日", "2026-02-30", "昨天"])
def test_only_iso_dates_are_taken_from_the_command_line(text):
    # Delivered data is read leniently (pipelines.standardise.dates.parse_date); a typed option is not.
    with pytest.raises(BiduiError, match=f"^数据日期“{text}”格式不对，应为 YYYY-MM-DD$"):
        parse_date_option(text, "数据日期")


@pytest.mark.parametrize("text", ["2026-W47-5", "20261120", "2026-11-20T00:00"])
def test_other_iso_spellings_are_not_taken_either(text):
    # Python's fromisoformat takes these; a typed data date is YYYY-MM-DD only, as the message says.
    with pytest.raises(BiduiError, match=f"^数据日期“{text}”格式不对，应为 YYYY-MM-DD$"):
        parse_date_option(text, "数据日期")


@pytest.mark.parametrize(
    "command", [["validate", "2026-13-01"], ["link", "2026-13-01"], ["demo-data", "--out", "x", "--as-of", "2026-13-01"]]
)
def test_a_command_given_a_date_that_is_no_date_says_so_in_chinese(command, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    monkeypatch.setenv("BIDUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "错误：数据日期“2026-13-01”格式不对，应为 YYYY-MM-DD" in result.output
