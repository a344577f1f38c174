"""The ledger pages: the issued ledgers of a scope, downloading a county's workbook, uploading a
filled one (the CLI's import) and the import reports."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from sqlalchemy import select

from pipelines import store
from pipelines.access import Scope, load_user
from pipelines.ledgers import issue_ledgers
from pipelines.store.tables import clues, ledger_imports
from pipelines.web import ledgers as ledger_pages

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD = "/ledgers/522725/2026-11-20/download"
FILE_NAME = "问题台账_瓮安县_522725_2026-11-20.xlsx"
VERIFIED = {"核实结果": "属实", "核实人": "王核实", "核实日期": dt.date(2026, 11, 21)}


@pytest.fixture
def ledger(site_settings, site_sample) -> Path:
    """瓮安县's ledger of the newest night, issued by its county user (again, when the sample has)."""
    engine = store.connect(site_settings)
    scope = Scope.from_user(load_user(engine, "wengan"))
    [issued] = issue_ledgers(engine, site_settings, scope, site_sample.NIGHTS[-1], counties=["522725"])
    return Path(issued["file"])


def _fill(source: Path, rows: dict[str, dict]) -> bytes:
    """The ledger with some rows filled in as a county would (clue ID → {column: value}), as bytes."""
    book = openpyxl.load_workbook(source)
    for sheet in book.worksheets:
        top = next((r for r in range(1, 11) if "线索编号" in [c.value for c in sheet[r]]), None)
        if top is None:
            continue
        header = [c.value for c in sheet[top]]
        for cells in sheet.iter_rows(min_row=top + 1):
            for column, value in rows.get(cells[header.index("线索编号")].value, {}).items():
                cells[header.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, name: str, data: bytes, csrf: bool = True):
    token = client.get("/ledgers").text
    fields = {"csrf_token": _csrf(token)} if csrf else {}
    return client.post("/ledgers/upload", data=fields, files={"ledger": (name, data, XLSX)}, follow_redirects=False)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _status(settings, clue_id: str) -> str:
    with store.connect(settings).connect() as conn:
        return conn.execute(select(clues.c.status).where(clues.c.clue_id == clue_id)).scalar_one()


def _imports(settings) -> list[dict]:
    with store.connect(settings).connect() as conn:
        return [dict(r) for r in conn.execute(select(ledger_imports).order_by(ledger_imports.c.import_id)).mappings()]


# --- who sees what ------------------------------------------------------------------------------


def test_the_ledgers_page_lists_the_ledgers_of_the_viewers_counties(client_for, ledger):
    county = client_for("wengan").get("/ledgers")
    assert county.status_code == 200
    assert "瓮安县（522725）" in county.text and f'href="{DOWNLOAD}"' in county.text
    assert 'enctype="multipart/form-data"' in county.text and 'name="ledger"' in county.text
    other = client_for("duyun").get("/ledgers")
    assert other.status_code == 200 and DOWNLOAD not in other.text and "还没有下发过台账" in other.text
    auditor = client_for("auditor").get("/ledgers")
    assert DOWNLOAD in auditor.text and "上传并导入" not in auditor.text


@pytest.mark.parametrize("user", ["xinjing", "taigou", "edu"])
def test_users_below_county_level_cannot_open_the_ledger_pages(client_for, ledger, user):
    client = client_for(user)
    for path in ("/ledgers", DOWNLOAD):
        response = client.get(path)
        assert response.status_code == 403 and "无权访问" in response.text


# --- downloading ----------------------------------------------------------------------------------


def test_a_county_downloads_its_ledger_under_its_chinese_name(client_for, ledger):
    response = client_for("wengan").get(DOWNLOAD)
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote(FILE_NAME)}" in disposition
    assert response.content == ledger.read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert any(cell.value == "R05-000001" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row)


def test_the_prefecture_downloads_any_countys_ledger_and_other_counties_none(client_for, ledger):
    assert client_for("officer").get(DOWNLOAD).status_code == 200
    forbidden = client_for("duyun").get(DOWNLOAD)
    assert forbidden.status_code == 403 and "不在您的管辖范围内" in forbidden.text
    assert "瓮安" not in forbidden.text.split("<main>")[1]


def test_a_missing_ledger_or_workbook_is_not_found_in_chinese(client_for, ledger):
    client = client_for("wengan")
    never = client.get("/ledgers/522725/2026-11-19/download")
    assert never.status_code == 404 and "没有找到 522725 于 2026-11-19 下发的问题台账" in never.text
    assert client.get("/ledgers/522725/..%2F..%2Fbidui.sqlite3/download").status_code == 404
    ledger.unlink()
    gone = client.get(DOWNLOAD)
    assert gone.status_code == 404 and "台账文件已不在服务器上" in gone.text
    assert "文件已不在服务器上" in client.get("/ledgers").text


# --- uploading ------------------------------------------------------------------------------------


def test_a_filled_ledger_uploaded_by_the_county_is_imported_and_reported(client_for, site_settings, ledger):
    client = client_for("wengan")
    filled = _fill(ledger, {"R05-000001": VERIFIED, "R05-000002": {**VERIFIED, "核实结果": "也许"}})
    response = _upload(client, "瓮安县台账（已填）.xlsx", filled)
    assert response.status_code == 200, response.text
    assert "台账导入结果" in response.text
    page = response.text.split("逐行结果")[1]
    applied = page.split('href="/clues/R05-000001"')[1].split("</tr>")[0]
    rejected = page.split('href="/clues/R05-000002"')[1].split("</tr>")[0]
    assert "已导入" in applied and "退回" in rejected and "核实结果“也许”无效" in rejected
    assert _status(site_settings, "R05-000001") == "confirmed"
    assert _status(site_settings, "R05-000002") == "issued"
    [done] = _imports(site_settings)
    assert (done["user_name"], done["applied"], done["rejected"]) == ("wengan", 1, 1)
    # Kept in a folder of its own named by the site (time, user), under the name it was sent with.
    [kept] = (site_settings.data_dir / "inbox" / "web").glob("*/*.xlsx")
    assert kept.read_bytes() == filled and kept.parent.name.endswith("-wengan") and kept.name == done["file_name"]
    assert f'href="/ledgers/imports/{done["import_id"]}"' in response.text


def test_a_past_import_report_is_shown_within_scope(client_for, ledger):
    client = client_for("wengan")
    _upload(client, "台账.xlsx", _fill(ledger, {"R05-000001": VERIFIED, "R05-000002": {**VERIFIED, "核实人": None}}))
    listing = client.get("/ledgers").text
    href = listing.split('<a href="/ledgers/imports/')[1].split('"')[0]
    report = client.get(f"/ledgers/imports/{href}")
    assert report.status_code == 200 and "台账导入报告" in report.text and "核实人未填写" in report.text
    assert client_for("officer").get(f"/ledgers/imports/{href}").status_code == 200
    other = client_for("duyun").get(f"/ledgers/imports/{href}")
    assert other.status_code == 404 and "核实人未填写" not in other.text
    workbook = client.get(f"/ledgers/imports/{href}/report")
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    assert "filename*=UTF-8''" + quote("导入报告_") in workbook.headers["content-disposition"]


def test_a_file_that_is_not_a_ledger_is_refused_in_chinese(client_for, site_settings, ledger):
    client = client_for("wengan")
    text = _upload(client, "台账.csv", "线索编号,核实结果\nR05-000001,属实\n".encode())
    assert text.status_code == 400 and "不是 Excel 台账文件" in text.text and "问题台账" in text.text
    book = openpyxl.Workbook()
    book.active.append(["随便什么表格"])
    out = io.BytesIO()
    book.save(out)
    other = _upload(client, "..\\..\\其他表格.xlsx", out.getvalue())
    assert other.status_code == 400 and "台账“其他表格.xlsx”未导入" in other.text
    assert _imports(site_settings) == [] and _status(site_settings, "R05-000001") == "issued"
    # Kept for the record of what was sent, the .xlsx only.
    [kept] = (site_settings.data_dir / "inbox" / "web").glob("*/*")
    assert kept.name == "其他表格.xlsx" and kept.parent.name.endswith("-wengan")


def test_an_upload_without_the_csrf_token_or_by_an_auditor_is_refused(client_for, site_settings, ledger):
    filled = _fill(ledger, {"R05-000001": VERIFIED})
    assert _upload(client_for("wengan"), "台账.xlsx", filled, csrf=False).status_code == 403
    assert _upload(client_for("auditor"), "台账.xlsx", filled).status_code == 403
    assert _imports(site_settings) == [] and _status(site_settings, "R05-000001") == "issued"


def test_a_file_over_the_size_limit_is_refused_in_chinese(client_for, site_settings, ledger, monkeypatch):
    monkeypatch.setattr(ledger_pages, "MAX_UPLOAD_BYTES", 10_000)
    client = client_for("wengan")
    for size in (20_000, 200_000):  # over the limit: found once read, and said so by the request's length
        response = _upload(client, "台账.xlsx", b"PK\x03\x04" + b"0" * size)
        assert response.status_code == 413 and "文件超过 9.77 KB 的上限，未导入" in response.text
    assert _imports(site_settings) == []


def test_an_upload_sent_without_its_length_is_cut_off_at_the_limit_not_read_whole(site_settings, monkeypatch):
    import asyncio

    from pipelines.web import create_app

    monkeypatch.setattr(ledger_pages, "MAX_UPLOAD_BYTES", 10_000)
    app = create_app(site_settings)
    chunk, chunks = b"0" * 65_536, 200  # 13 MB streamed (chunked: no Content-Length), nobody signed in
    head = b'--b\r\nContent-Disposition: form-data; name="ledger"; filename="a.xlsx"\r\n\r\nPK\x03\x04'
    pulled, sent = [0], []

    async def receive():
        pulled[0] += 1
        if pulled[0] == 1:
            return {"type": "http.request", "body": head, "more_body": True}
        last = pulled[0] > chunks
        return {"type": "http.request", "body": b"\r\n--b--\r\n" if last else chunk, "more_body": not last}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/ledgers/upload",
        "raw_path": b"/ledgers/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bidui.test"), (b"content-type", b"multipart/form-data; boundary=b")],
        "client": ("127.0.0.1", 50000),
        "server": ("bidui.test", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()
    assert start["status"] == 413 and "文件超过 9.77 KB 的上限" in body
    assert pulled[0] * len(chunk) < 10_000 + 64 * 1024 + 2 * len(chunk)  # read no further than the limit


def test_an_import_number_that_is_not_one_is_refused_in_chinese(client_for, ledger):
    response = client_for("wengan").get("/ledgers/imports/abc")
    assert response.status_code == 400 and "导入记录编号" in response.text and "import_id" not in response.text


def test_an_id_number_in_an_uploaded_files_name_is_masked_for_a_user_who_sees_masked_ids(
    client_for, site_settings, site_sample, ledger
):
    from pipelines.access import add_user

    add_user(store.connect(site_settings), "wengan-masked", site_sample.SITE_PASSWORD, "county", "522725", full_ids=False)
    _upload(client_for("wengan"), "张三 522725199001011234 的台账.xlsx", _fill(ledger, {"R05-000001": VERIFIED}))
    [done] = _imports(site_settings)
    masked = client_for("wengan-masked")
    for path in ("/ledgers", f"/ledgers/imports/{done['import_id']}"):
        page = masked.get(path)
        assert page.status_code == 200 and "张三" in page.text, path
        assert "522725199001011234" not in page.text and "522725********1234" in page.text, path


def test_an_upload_is_recorded_and_cited_under_the_name_it_was_sent_with(client_for, site_settings, ledger):
    client = client_for("wengan")
    _upload(client, "瓮安县台账（已填）.xlsx", _fill(ledger, {"R05-000001": VERIFIED}))
    [done] = _imports(site_settings)
    assert done["file_name"] == "瓮安县台账（已填）.xlsx"
    assert "<td>瓮安县台账（已填）.xlsx</td>" in client.get("/ledgers").text
    assert "<dd>瓮安县台账（已填）.xlsx</dd>" in client.get(f"/ledgers/imports/{done['import_id']}").text
    history = client.get("/clues/R05-000001").text.split('<table class="events">')[1]
    assert "台账 瓮安县台账（已填）.xlsx「" in history and "-wengan-" not in history


def test_the_pages_speak_to_county_staff_without_command_lines(client_for, ledger):
    for path in ("/ledgers", "/login"):
        main = client_for("wengan" if path == "/ledgers" else None).get(path).text.split("<main>")[1].split("</main>")[0]
        assert "<code>" not in main and "bidui" not in main, path


def test_a_damaged_workbook_is_refused_in_chinese_only(client_for, site_settings, ledger):
    response = _upload(client_for("wengan"), "台账.xlsx", b"PK\x03\x04" + b"\x00" * 200)
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text).group(1)
    assert response.status_code == 400 and "无法打开" in error
    assert not re.search("[A-Za-z]{3,}", error.replace(".xlsx", "").replace("Excel", "")), error  # no zipfile words
