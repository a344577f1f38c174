"""`export_links`: the night's links as an Excel-friendly CSV, written atomically."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from pipelines import store
from pipelines.access import Scope
from pipelines.basemap.export import export_links
from pipelines.errors import BiduiError
from pipelines.link.stage import link_night
from pipelines.store.tables import links

SYSTEM = Scope.system()

EXPECTED = (
    "\ufefffeed,record_key,person_id,household_code,method,probability\r\n"
    "hukou,H1,P000000001,H5227251022030001,id_exact,1.0\r\n"
    "hukou,H2,P000000002,H5227251022030001,singleton,1.0\r\n"
    "medical_insurance,MI1,P000000001,H5227251022030001,id_exact,1.0\r\n"
    "minimum_living,ML1,P000000002,H5227251022030001,probabilistic,0.909091\r\n"
    "poverty_households,PH1,P000000001,H5227251022030001,id_exact,1.0\r\n"
    "poverty_members,PM1,P000000001,H5227251022030001,id_exact,1.0\r\n"
    "poverty_members,PM2,P000000003,H5227251022030001,singleton,1.0\r\n"
    "vehicles,V1,P000000004,,singleton,1.0\r\n"
)


def test_export_writes_one_row_per_source_row_with_a_bom(linked_night, tmp_path):
    out = tmp_path / "out" / "links.csv"
    summary = export_links(linked_night, out, SYSTEM)
    assert summary == {"path": str(out.resolve()), "delivery_date": "2026-11-20", "rows": 8}
    assert out.read_bytes().decode("utf-8") == EXPECTED
    assert [p.name for p in out.parent.iterdir()] == ["links.csv"]


def test_export_reads_in_chunks_and_picks_the_night(linked_night, night_sample, tmp_path, monkeypatch):
    later = night_sample.DAY + dt.timedelta(days=1)
    night_sample.write_snapshots(linked_night, later)
    rows = night_sample.person_rows().iloc[:3]
    result = night_sample.link_result()
    result.links = result.links.iloc[:3]
    link_night(linked_night, later, linker=night_sample.RecordingLinker(result, rows).as_linker())
    chunked = store.iter_links
    monkeypatch.setattr(
        store, "iter_links", lambda engine, day, columns, region=None: chunked(engine, day, columns, chunk_rows=3, region=region)
    )
    assert export_links(linked_night, tmp_path / "new.csv", SYSTEM)["rows"] == 3
    assert export_links(linked_night, tmp_path / "old.csv", SYSTEM, "2026-11-20")["rows"] == 8
    assert (tmp_path / "old.csv").read_bytes().decode("utf-8") == EXPECTED


def test_a_failed_export_leaves_no_file(linked_night, tmp_path, monkeypatch):
    def broken(engine, day, columns, region=None):
        yield from ()
        raise RuntimeError("数据库断开")

    monkeypatch.setattr(store, "iter_links", broken)
    out = tmp_path / "exports" / "links.csv"
    out.parent.mkdir()
    out.write_text("上一次的导出")
    with pytest.raises(RuntimeError):
        export_links(linked_night, out, SYSTEM)
    assert [p.name for p in out.parent.iterdir()] == ["links.csv"]
    assert out.read_text() == "上一次的导出"


def test_export_without_links_is_a_clear_error(linked_night, tmp_path):
    with pytest.raises(BiduiError, match="2026-11-19 没有关联结果"):
        export_links(linked_night, tmp_path / "x.csv", SYSTEM, "2026-11-19")


def test_export_on_an_empty_store_is_a_clear_error(sqlite_settings, tmp_path):
    with pytest.raises(BiduiError, match="还没有任何关联结果"):
        export_links(sqlite_settings, tmp_path / "x.csv", SYSTEM)


def test_a_key_that_is_a_formula_is_written_as_text(linked_night, tmp_path):
    with store.connect(linked_night).begin() as conn:
        conn.execute(update(links).where(links.c.record_key == "H1").values(record_key='=HYPERLINK("http://x","点我")'))
    out = tmp_path / "links.csv"
    export_links(linked_night, out, SYSTEM)
    line = out.read_bytes().decode("utf-8").splitlines()[1]
    assert line == 'hukou,"\'=HYPERLINK(""http://x"",""点我"")",P000000001,H5227251022030001,id_exact,1.0'


def test_only_prefecture_and_county_users_export_links_within_their_region(linked_night, tmp_path):
    for role, region in [("township", "522725102"), ("village", "522725102203"), ("liaison", "522725"), ("auditor", "5227")]:
        with pytest.raises(BiduiError, match="只有市（州）和县级用户可以导出关联结果"):
            export_links(linked_night, tmp_path / "x.csv", Scope("u", role, region))
    assert export_links(linked_night, tmp_path / "a.csv", Scope("a", "county", "522725"))["rows"] == 7
    assert export_links(linked_night, tmp_path / "b.csv", Scope("b", "county", "522701"))["rows"] == 0
    assert export_links(linked_night, tmp_path / "p.csv", Scope("p", "prefecture", "5227"))["rows"] == 7


def test_xlsx_has_chinese_headers_words_and_keys_as_text(linked_night, tmp_path):
    out = tmp_path / "links.xlsx"
    assert export_links(linked_night, out, SYSTEM)["rows"] == 8
    sheet = load_workbook(out).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["数据项", "数据项代码", "记录编号", "人员编号", "户编码", "关联方式", "匹配概率"]
    assert rows[1] == ["公安·户籍人口", "hukou", "H1", "P000000001", "H5227251022030001", "身份证号一致", 1.0]
    assert rows[4][5] == "概率关联" and rows[8][4] is None
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:G9"
