"""The cross-check sample pages: who sees which county's samples, the sample as a page with its
seed, rules and fall-backs, and the workbook made for the downloader's ID-number mask.

Samples (site_sample.add_cross_check_samples): 瓮安县 (522725, 太沟村, 张三 522725201003031211) and
都匀市 (522701, 松林村, 钱七), both drawn by the officer.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

USERS = ("officer", "wengan", "duyun", "xinjing", "taigou", "edu", "auditor")


@pytest.fixture
def sample_ids(site_settings, site_sample):
    return site_sample.add_cross_check_samples(site_settings)


@pytest.fixture
def clients(client_for, sample_ids, site_settings, site_sample):
    from pipelines import store
    from pipelines.access import add_user

    # A county user who sees ID numbers masked (county users see them in full by default).
    add_user(store.connect(site_settings), "masked", site_sample.SITE_PASSWORD, "county", "522725", full_ids=False)
    return {name: client_for(name) for name in (*USERS, "masked")}


def test_the_list_shows_each_user_the_samples_of_their_counties(clients, sample_ids):
    seen = {}
    for user in USERS:
        response = clients[user].get("/samples")
        seen[user] = (
            response.status_code,
            {c for c in ("瓮安县", "都匀市") if c in response.text} if response.status_code == 200 else None,
        )
    assert seen == {
        "officer": (200, {"瓮安县", "都匀市"}),
        "wengan": (200, {"瓮安县"}),
        "duyun": (200, {"都匀市"}),
        "xinjing": (403, None),
        "taigou": (403, None),
        "edu": (403, None),
        "auditor": (200, {"瓮安县", "都匀市"}),
    }
    assert f'href="/samples/{sample_ids["522725"]}"' in clients["wengan"].get("/samples").text


@pytest.mark.parametrize("suffix", ["", "/download", "/print"])
def test_a_sample_and_its_workbook_open_for_its_county_and_the_prefecture_only(clients, sample_ids, suffix):
    wengan = f"/samples/{sample_ids['522725']}{suffix}"
    got = {user: clients[user].get(wengan, follow_redirects=False).status_code for user in USERS}
    assert got == {"officer": 200, "wengan": 200, "duyun": 403, "xinjing": 403, "taigou": 403, "edu": 403, "auditor": 200}
    forbidden = clients["duyun"].get(wengan)
    assert "张三" not in forbidden.text and "太沟村" not in forbidden.text
    assert clients["officer"].get(f"/samples/9999{suffix}").status_code == 404


def test_the_sample_page_states_seed_rules_fall_backs_and_masks_ids(clients, sample_ids):
    page = clients["masked"].get(f"/samples/{sample_ids['522725']}").text
    assert "瓮安县（522725）2026年交叉检查抽样" in page
    for text in (
        "随机种子",
        "11",
        "2026-11-20",
        "安徽省2019年",
        "抽村：从 4 个不同乡镇各抽 1 个村",
        "太沟村：2023—2025年脱贫户仅 0 户（应抽 4 户），仍少 4 户",
    ):
        assert text in page, text
    assert "其中返贫户 1 户" in page and "张三" in page
    assert "522725********1211" in page and "522725201003031211" not in page
    assert f'href="/samples/{sample_ids["522725"]}/download"' in page
    assert f'<a href="/samples/{sample_ids["522725"]}/print">打印</a>' in page
    assert "522725201003031211" in clients["wengan"].get(f"/samples/{sample_ids['522725']}").text


def test_the_workbook_is_made_for_the_downloader(clients, sample_ids):
    response = clients["masked"].get(f"/samples/{sample_ids['522725']}/download")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["说明", "1-太沟村", "返贫户"]
    rows = list(book["1-太沟村"].iter_rows(min_row=4, values_only=True))
    assert [(r[3], r[4], r[5]) for r in rows] == [("HH-522725-1", "张三", "522725********1211")]
    full = openpyxl.load_workbook(io.BytesIO(clients["officer"].get(f"/samples/{sample_ids['522725']}/download").content))
    assert [r[5] for r in full["1-太沟村"].iter_rows(min_row=4, values_only=True)] == ["522725201003031211"]


def test_the_printable_copy_is_the_a4_document_made_for_the_reader(clients, sample_ids):
    url = f"/samples/{sample_ids['522725']}/print"
    page = clients["masked"].get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<title>瓮安县（522725）2026年交叉检查抽样</title>" in text and "size: A4 landscape" in text
    assert "<h2>第 1 村：某镇太沟村</h2>" in text
    assert "随机种子" in text and "太沟村：2023—2025年脱贫户仅 0 户（应抽 4 户），仍少 4 户" in text
    assert "522725********1211" in text and "522725201003031211" not in text
    assert "抽样人（签字）" in text and "考核组组长（签字）" in text
    assert "用浏览器的“打印”" in text  # on screen only: print styles hide it
    assert "522725201003031211" in clients["wengan"].get(url).text


def test_the_printable_pdf_is_made_for_the_reader(clients, sample_ids, pdf_pages, tmp_path):
    response = clients["masked"].get(f"/samples/{sample_ids['522725']}/print?format=pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert ".pdf" in response.headers["content-disposition"]
    path = tmp_path / "sample.pdf"
    path.write_bytes(response.content)
    pages = [" ".join(page.split()) for page in pdf_pages(path)]
    assert len(pages) == 2 and "第 1 村：某镇太沟村" in pages[1]
    assert "522725********1211" in pages[1] and "522725201003031211" not in " ".join(pages)
    assert clients["duyun"].get(f"/samples/{sample_ids['522725']}/print?format=pdf").status_code == 403
