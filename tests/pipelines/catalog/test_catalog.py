"""The feed catalogue: the one place a feed's facts live, and what a prefecture's copy may change."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipelines import store
from pipelines.catalog.feeds import (
    ATTRIBUTE_SOURCES,
    DEFAULT_FEEDS_CONFIG,
    FACT_FIELDS,
    FEEDS,
    IDENTITY_ORDER,
    LISTED_FEEDS,
    ROW_SOURCES,
    SPINE_FEED,
    load_feeds,
    record_key,
)
from pipelines.cli import app
from pipelines.errors import BiduiError
from pipelines.settings import load_settings

EXTRA_FEED = """

[feeds.land_contracts]
title = "农业·土地承包"
key = "contract_no"

[[feeds.land_contracts.fields]]
name = "contract_no"
header = "合同编号"
kind = "key"
"""


def _copy(tmp_path, text: str = "", replace: tuple[str, str] | None = None):
    """A prefecture's copy of the packaged catalogue, with `text` appended."""
    body = DEFAULT_FEEDS_CONFIG.read_text(encoding="utf-8")
    if replace:
        assert replace[0] in body
        body = body.replace(*replace)
    path = tmp_path / "feeds.toml"
    path.write_text(body + text, encoding="utf-8")
    return path


def test_person_rows_are_stacked_spine_first_and_identity_follows_the_authority_ranks():
    assert [s.feed for s in ROW_SOURCES] == [
        "hukou",
        "poverty_members",
        "poverty_households",
        "medical_insurance",
        "illness_registry",
        "school_enrolment",
        "minimum_living",
        "dangerous_housing",
        "public_payroll",
        "enterprise_registry",
        "vehicles",
    ]
    assert ROW_SOURCES[0].feed == SPINE_FEED
    assert IDENTITY_ORDER == (
        "hukou",
        "poverty_members",
        "minimum_living",
        "medical_insurance",
        "school_enrolment",
        "illness_registry",
        "poverty_households",
        "dangerous_housing",
        "public_payroll",
        "enterprise_registry",
        "vehicles",
    )
    assert all(source.key == FEEDS[source.feed].key for source in ROW_SOURCES)


def test_facts_come_from_their_own_department_in_authority_order():
    assert FACT_FIELDS["hukou"] == {"ethnicity": "ethnicity", "hukou_state": "state", "relation": "relation"}
    assert {attribute: ATTRIBUTE_SOURCES[attribute] for attribute in ("ethnicity", "hukou_state", "insured_state")} == {
        "ethnicity": ("hukou", "poverty_members"),
        "hukou_state": ("hukou",),
        "insured_state": ("medical_insurance",),
    }
    assert ATTRIBUTE_SOURCES["name"] == IDENTITY_ORDER
    assert LISTED_FEEDS == {
        "poverty_members": None,
        "poverty_households": None,
        "medical_insurance": "period",
        "illness_registry": None,
        "school_enrolment": None,
        "minimum_living": None,
        "dangerous_housing": None,
        "public_payroll": None,
    }


def test_every_feed_has_a_snapshot_table_indexed_on_its_record_key(sqlite_settings):
    inspector = sa.inspect(store.connect(sqlite_settings))
    for name, feed in FEEDS.items():
        columns = [c["name"] for c in inspector.get_columns(f"feed_{name}")]
        assert columns[:3] == ["delivery_date", "row_no", record_key(name)]
        assert set(columns) == {"delivery_date", "row_no", "extra", *feed.columns}
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes(f"feed_{name}")}
        assert indexes[f"ix_feed_{name}_key"] == ["delivery_date", feed.key]


def test_a_copy_may_respell_headers_and_keeps_the_packaged_suites(tmp_path):
    path = _copy(
        tmp_path, replace=('header = "户籍地址"\naliases = ["住址"]', 'header = "户籍地址"\naliases = ["住址", "居住地址"]')
    )
    # A copy made before suites and person rows were catalogued.
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'suite = "\w+"\n', "", text[: text.index("# --- person rows")]), encoding="utf-8")
    feeds = load_feeds(path)
    assert feeds["hukou"].field("address").aliases == ("住址", "居住地址")
    assert {name: feed.suite for name, feed in feeds.items()} == {name: name for name in FEEDS}


def test_a_feed_added_by_configuration_is_refused_when_settings_load(tmp_path):
    path = _copy(tmp_path, EXTRA_FEED)
    with pytest.raises(BiduiError, match="数据源“land_contracts”没有对应的数据表和校验规则：新增数据源需要"):
        load_settings(environ={"BIDUI_FEEDS_CONFIG": str(path)}, data_dir=tmp_path / "data")


def test_a_copy_cannot_change_a_record_key(tmp_path):
    path = _copy(
        tmp_path, replace=('key = "person_no"\noptional = false\nsuite = "hukou"', 'key = "id_number"\noptional = false')
    )
    with pytest.raises(BiduiError, match='数据源“hukou”.*以“id_number”为记录编号.*请改回 key = "person_no"'):
        load_feeds(path)


def test_a_missing_copy_is_named(tmp_path):
    with pytest.raises(BiduiError, match="数据源配置文件 .*nowhere.toml 不存在"):
        load_settings(environ={"BIDUI_FEEDS_CONFIG": str(tmp_path / "nowhere.toml")}, data_dir=tmp_path / "data")


def test_a_broken_copy_is_named_with_its_line_in_chinese(tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_text("[feeds.hukou\n", encoding="utf-8")
    with pytest.raises(BiduiError) as raised:
        load_feeds(path)
    assert "TOML 格式有误（第 1 行" in str(raised.value)
    assert "Error" not in str(raised.value) and "Invalid" not in str(raised.value)


@pytest.mark.parametrize("command", [["validate", "2026-11-20"], ["clue", "list", "--user", "审核员甲"]])
def test_the_cli_refuses_a_feed_added_by_configuration_without_a_traceback(tmp_path, command):
    env = {
        "BIDUI_DATA_DIR": str(tmp_path / "data"),
        "BIDUI_PROGRESS": "0",
        "BIDUI_FEEDS_CONFIG": str(_copy(tmp_path, EXTRA_FEED)),
    }
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    text = "".join(result.output.split())
    assert "错误：数据源“land_contracts”没有对应的数据表和校验规则" in text
    assert "Traceback" not in result.output
