"""The pre-audit data-quality report on the hand-made store of quality_sample.py (counts worked out
in its docstring): per-county counts, accuracy, the change since a previous report, the files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from openpyxl import load_workbook

from pipelines import store
from pipelines.documents.quality import (
    PREFECTURE,
    build_quality_report,
    build_quality_sections,
    make_quality_report,
)

SAMPLE_MODULE = "bidui_tests_quality_sample"


def _load(name: str, path: Path) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sample = _load(SAMPLE_MODULE, Path(__file__).with_name("quality_sample.py"))
N1, N2, WENGAN, DUYUN = sample.N1, sample.N2, sample.WENGAN, sample.DUYUN


@pytest.fixture
def quality_settings(settings):
    sample.build_quality_store(settings)
    return settings


def _values(report, region: str) -> dict:
    frame = report.values[report.values["region_code"] == region]
    return dict(zip(frame["indicator"], frame["value"]))


def test_counts_per_county_on_the_night(quality_settings):
    report = build_quality_report(store.connect(quality_settings), quality_settings, N2)
    wengan, duyun, nowhere, total = (_values(report, r) for r in (WENGAN, DUYUN, "?", PREFECTURE))
    assert report.night == N2
    assert {k: wengan[k] for k in ("rows", "error_rows", "rejected_rows", "id_invalid", "id_mangled", "id_birth_date")} == {
        "rows": 5,
        "error_rows": 2,
        "rejected_rows": 2,
        "id_invalid": 1,
        "id_mangled": 1,
        "id_birth_date": 1,
    }
    assert wengan["accuracy"] == pytest.approx(0.2)
    assert (wengan["identity_mismatch"], wengan["contradictions"], wengan["missing_required"]) == (2, 1, 0)
    assert (wengan["link_rows"], wengan["link_id_exact"], wengan["link_review_decision"], wengan["review_open"]) == (2, 1, 1, 0)
    assert {k: duyun[k] for k in ("rows", "error_rows", "rejected_rows", "id_invalid", "id_checksum", "missing_required")} == {
        "rows": 4,
        "error_rows": 1,
        "rejected_rows": 0,
        "id_invalid": 1,
        "id_checksum": 1,
        "missing_required": 1,
    }
    assert duyun["accuracy"] == pytest.approx(0.75)
    assert (duyun["identity_mismatch"], duyun["contradictions"]) == (0, 4)
    assert (duyun["link_rows"], duyun["link_id_exact"], duyun["link_probabilistic"], duyun["review_open"]) == (4, 2, 1, 1)
    assert (nowhere["rows"], nowhere["error_rows"], nowhere["missing_required"], nowhere["link_singleton"]) == (1, 1, 2, 1)
    assert (total["rows"], total["error_rows"], total["rejected_rows"], total["id_invalid"]) == (10, 4, 2, 2)
    assert total["accuracy"] == pytest.approx(0.4)
    # A county with nothing delivered has no accuracy rather than a perfect one.
    assert report.value("522702", "rows") == 0 and report.value("522702", "accuracy") is None


def test_each_feed_validation_result_names_the_delivery_used(quality_settings):
    report = build_quality_report(store.connect(quality_settings), quality_settings, N2)
    feeds = {f["feed"]: f for f in report.feeds}
    assert sorted(feeds) == ["hukou", "medical_insurance", "poverty_members", "school_enrolment"]
    assert (feeds["hukou"]["errors"], feeds["hukou"]["warnings"], feeds["hukou"]["checks_failed"]) == (3, 1, 3)
    assert feeds["hukou"]["passed"] is False
    assert (feeds["medical_insurance"]["status"], feeds["medical_insurance"]["delivery_date"]) == ("已拒收", N2)
    assert (feeds["school_enrolment"]["night_status"], feeds["school_enrolment"]["delivery_date"]) == ("缺失", N1)
    assert feeds["school_enrolment"]["passed"] is True


def test_as_of_a_date_between_nights_reports_the_night_before(quality_settings):
    report = build_quality_report(store.connect(quality_settings), quality_settings, N1)
    wengan = _values(report, WENGAN)
    assert report.night == N1
    assert (wengan["rows"], wengan["rejected_rows"], wengan["accuracy"]) == (1, 0, 1.0)
    assert _values(report, PREFECTURE)["rows"] == 2


def test_change_since_the_previous_report_and_since(quality_settings):
    first = make_quality_report(quality_settings, N1, "officer", pdf=False)
    second = make_quality_report(quality_settings, N2, "officer", pdf=False)
    assert (first["compared_with"], second["compared_with"]) == (None, N1)
    engine = store.connect(quality_settings)
    report = build_quality_report(engine, quality_settings, N2)
    changes = next(s for s in build_quality_sections(report) if s.sheet == "与上期比较")
    row = next(r for r in changes.rows if r[0] == "瓮安县")
    by_header = dict(zip(changes.headers, row))
    assert by_header["有错误的行数变化"] == 2 and by_header["被拒收数据项的行数变化"] == 2
    assert by_header["数据准确率变化"] == pytest.approx(0.2 - 1.0)
    # --since before every stored report: nothing to compare with.
    assert build_quality_report(engine, quality_settings, N2, since=N1.replace(day=1)).compared_with is None
    # Re-making a night's report replaces it (keyed on the night).
    make_quality_report(quality_settings, N2, "officer", pdf=False)
    assert [r["report_night"] for r in store.list_quality_reports(engine, 10)] == [N2, N1]


def test_files_xlsx_values_and_pdf_with_chinese(quality_settings, tmp_path, pdf_pages):
    night_reports = quality_settings.reports_dir / N2.isoformat()
    night_reports.mkdir(parents=True, exist_ok=True)
    (night_reports / "validation.html").write_text("<html></html>", encoding="utf-8")
    result = make_quality_report(quality_settings, N2, "officer", out_dir=tmp_path / "out")
    assert result["night"] == N2 and result["accuracy"] == pytest.approx(0.4)
    printed = Path(result["html"]).read_text(encoding="utf-8")
    assert f"逐条校验结果见监测网站“当晚比对”页（{N2.isoformat()}）的“数据校验报告”" in printed
    assert str(quality_settings.data_dir) not in printed  # a server's paths mean nothing on paper
    book = load_workbook(result["xlsx"])
    assert book.sheetnames == ["说明", "各县问题", "与上期比较", "校验结果", "关联覆盖"]
    sheet = book["各县问题"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[2]
    wengan = dict(zip(header, next(r for r in rows if r[0] == "瓮安县")))
    assert (wengan["报送行数"], wengan["有错误的行数"], wengan["数据准确率"]) == (5, 2, 0.2)
    assert wengan["其中：被Excel转为科学计数法"] == 1
    total = dict(zip(header, rows[-1]))
    assert (total["县（市、区）"], total["报送行数"], total["数据准确率"]) == ("全市（州）合计", 10, 0.4)
    html = Path(result["html"]).read_text(encoding="utf-8")
    assert "数据准确率 = 1 −（有错误的行数 + 被拒收数据项的行数）÷ 报送行数" in html and "40.00%" in html
    pdf = Path(result["pdf"])
    assert pdf.read_bytes()[:4] == b"%PDF"
    text = "".join(pdf_pages(pdf))
    assert "扶贫数据质量报告" in text and "瓮安县" in text and "数据准确率" in text
    stored = store.load_quality_report(store.connect(quality_settings), N2)
    assert stored["pdf"] == str(pdf) and stored["made_by"] == "officer"


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def run_cli(sqlite_settings, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import common
    from pipelines.cli.main import app

    monkeypatch.setattr(common.console, "width", 300)
    sample.build_quality_store(sqlite_settings)
    env = {"BIDUI_DATA_DIR": str(sqlite_settings.data_dir), "BIDUI_DATABASE_URL": sqlite_settings.database_url}

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args), env=env)

    return invoke


def test_command_makes_the_report_for_the_data_officer(run_cli, sqlite_settings, make_officer):
    officer = make_officer(sqlite_settings)
    result = run_cli("quality-report", "--as-of", "2026-11-25", "--no-pdf", *officer)
    assert result.exit_code == 0, result.output
    assert "数据日期 2026-11-20" in result.output and "数据准确率 40.00%" in result.output
    assert "没有更早的报告可比较" in result.output
    # --since the night itself: the report is never compared with its own earlier making.
    again = run_cli("quality-report", "--as-of", "2026-11-25", "--since", "2026-11-20", "--no-pdf", *officer)
    assert again.exit_code == 0 and "没有更早的报告可比较" in again.output
    assert run_cli("quality-report", "--as-of", "2026-11-19", "--no-pdf", *officer).exit_code == 0
    third = run_cli("quality-report", "--as-of", "2026-11-25", "--since", "2026-11-20", "--no-pdf", *officer)
    assert "与 2026-11-19 的报告比较" in third.output
    assert store.load_quality_report(store.connect(sqlite_settings), N2)["made_by"] == "officer"


def test_command_refuses_without_sign_in_and_county_users(run_cli, sqlite_settings, cheap_passwords, tmp_path):
    from pipelines.access import add_user

    no_user = run_cli("quality-report", "--as-of", "2026-11-20")
    assert no_user.exit_code == 1 and "生成数据质量报告须先登录" in no_user.output
    add_user(store.connect(sqlite_settings), "wengan", "county-secret-1", "county", "522725")
    (tmp_path / "pw").write_text("county-secret-1\n", encoding="utf-8")
    county = run_cli("quality-report", "--as-of", "2026-11-20", "--user", "wengan", "--password-file", str(tmp_path / "pw"))
    assert county.exit_code == 1 and "错误" in county.output
    assert store.list_quality_reports(store.connect(sqlite_settings), 10) == []
    bad_date = run_cli("quality-report", "--as-of", "20261120")
    assert bad_date.exit_code == 1 and "截至日期" in bad_date.output


# --- the site ---------------------------------------------------------------------------------

site = _load("bidui_tests_site_sample", Path(__file__).resolve().parents[1] / "web" / "site_sample.py")
SITE_USERS = ("officer", "wengan", "duyun", "xinjing", "taigou", "edu", "auditor")


@pytest.fixture
def site_clients(sqlite_settings, cheap_passwords):
    from fastapi.testclient import TestClient

    from pipelines.web import create_app

    site.build_site_store(sqlite_settings)
    sample.build_quality_store(sqlite_settings, regions=False)
    make_quality_report(sqlite_settings, N1, "officer", pdf=False)
    make_quality_report(sqlite_settings, N2, "officer")
    app = create_app(sqlite_settings)
    clients = {}
    for name in SITE_USERS:
        clients[name] = TestClient(app, base_url="http://bidui.test")
        assert site.sign_in(clients[name], name).status_code == 303
    yield clients
    for client in clients.values():
        client.close()


def test_site_pages_for_prefecture_and_auditor_only(site_clients):
    urls = ["/quality-reports", "/quality-reports/2026-11-20", "/quality-reports/2026-11-20/pdf"]
    got = {(u, name): site_clients[name].get(u, follow_redirects=False).status_code for u in urls for name in SITE_USERS}
    assert got == {(u, name): 200 if name in ("officer", "auditor") else 403 for u in urls for name in SITE_USERS}


def test_site_list_report_page_and_files(site_clients):
    officer = site_clients["officer"]
    listing = officer.get("/quality-reports").text
    assert "/quality-reports/2026-11-20" in listing and "/quality-reports/2026-11-19" in listing
    assert 'href="/quality-reports"' in listing  # the menu item
    page = officer.get("/quality-reports/2026-11-20").text
    assert "全市（州）数据准确率 <strong>40.0%</strong>" in page and "与 2026-11-19 的报告比较" in page
    assert "一、各县数据质量问题" in page and "二、与上期报告相比的变化" in page and "四、人员记录关联覆盖" in page
    assert "-80.0 个百分点" in page  # 瓮安县: 100% → 20%
    pdf = officer.get("/quality-reports/2026-11-20/pdf")
    assert pdf.content[:4] == b"%PDF" and "attachment" in pdf.headers["content-disposition"]
    xlsx = officer.get("/quality-reports/2026-11-20/xlsx")
    assert xlsx.content[:2] == b"PK"
    # The 11-19 report was made without a PDF; files outside the allow-list are never served.
    assert officer.get("/quality-reports/2026-11-19/pdf").status_code == 404
    assert officer.get("/quality-reports/2026-11-20/sqlite3").status_code == 404
    assert officer.get("/quality-reports/2026-11-20/as_of").status_code == 404  # a column, not a file
    assert officer.get("/quality-reports/2026-13-40").status_code == 404
    assert officer.get("/quality-reports/2026-11-18").status_code == 404


def test_a_report_is_never_compared_with_itself(quality_settings):
    # --since on or after the report's own night: the newest earlier report, not the night's own.
    make_quality_report(quality_settings, N1, "officer", pdf=False)
    make_quality_report(quality_settings, N2, "officer", pdf=False)
    again = make_quality_report(quality_settings, N2, "officer", since=N2, pdf=False)
    assert again["compared_with"] == N1
    later = make_quality_report(quality_settings, N2, "officer", since=N2 + (N2 - N1) * 10, pdf=False)
    assert later["compared_with"] == N1
    assert store.load_quality_report(store.connect(quality_settings), N2)["compared_with"] == N1


def test_a_report_whose_store_write_fails_leaves_the_earlier_files_as_they_were(quality_settings, tmp_path, monkeypatch):
    # The files and the stored report go together: when storing the values fails, the HTML of the
    # new report must not replace the earlier one beside the earlier xlsx and stored row.
    out = tmp_path / "out"
    first = make_quality_report(quality_settings, N2, "officer", out_dir=out, pdf=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(store, "write_quality_report", broken)
    monkeypatch.setattr("pipelines.documents.render.dt", _later_clock())
    with pytest.raises(RuntimeError):
        make_quality_report(quality_settings, N2, "officer", out_dir=out, pdf=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert Path(first["html"]).read_bytes() == before[Path(first["html"]).name]


def _later_clock():
    """A datetime module whose now() is a fixed later time: a second making prints another time."""
    import datetime as real

    class Later(real.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2030, 1, 1, 8, 0, 0)

    class Clock:
        datetime = Later

    return Clock


def test_making_the_report_again_without_pdf_leaves_no_stale_pdf_beside_it(quality_settings, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / f"数据质量报告-{N2.isoformat()}.pdf").write_bytes(b"%PDF-1.7 an earlier report")
    make_quality_report(quality_settings, N2, "officer", out_dir=out, pdf=False)
    assert sorted(p.name for p in out.iterdir()) == [f"数据质量报告-{N2.isoformat()}.{kind}" for kind in ("html", "xlsx")]


def test_a_relative_out_dir_is_stored_as_the_absolute_path_the_site_serves(quality_settings, tmp_path, monkeypatch):
    # `bidui quality-report --out 报告` in the officer's folder; the site runs elsewhere.
    monkeypatch.chdir(tmp_path)
    make_quality_report(quality_settings, N2, "officer", out_dir=Path("报告"), pdf=False)
    stored = store.load_quality_report(store.connect(quality_settings), N2)
    assert stored["html"] == str(tmp_path / "报告" / f"数据质量报告-{N2.isoformat()}.html")
    assert stored["xlsx"] == str(tmp_path / "报告" / f"数据质量报告-{N2.isoformat()}.xlsx")
