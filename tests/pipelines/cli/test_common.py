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
