"""The bulletin pages: the list, a bulletin and its files for prefecture, county and auditor users
(403 for the others), made on the site sample's November (瓮安县 and 都匀市)."""

from __future__ import annotations

import pytest

from pipelines import store
from pipelines.documents import make_bulletin

READERS = {"officer", "wengan", "duyun", "auditor"}
OTHERS = {"xinjing", "taigou", "edu"}
FILES = ("月通报-2026-11.html", "月通报-2026-11.pdf", "月通报-2026-11.xlsx")


@pytest.fixture
def with_bulletin(site_settings):
    make_bulletin(site_settings, "2026-11", "officer")
    return site_settings


def test_the_list_and_the_bulletin_for_readers_and_403_for_the_rest(with_bulletin, client_for):
    for user in READERS:
        client = client_for(user)
        listing = client.get("/bulletins")
        assert listing.status_code == 200 and 'href="/bulletins/2026-11"' in listing.text, user
        page = client.get("/bulletins/2026-11")
        assert page.status_code == 200, user
        assert "2026年11月月通报" in page.text and "瓮安县" in page.text and "都匀市" in page.text
        assert "月通报-2026-11.pdf" in page.text and 'href="/bulletins"' in page.text  # the menu item
    for user in OTHERS:
        client = client_for(user)
        for url in ("/bulletins", "/bulletins/2026-11", f"/bulletins/2026-11/files/{FILES[1]}"):
            assert client.get(url).status_code == 403, (user, url)


def test_the_bulletin_shows_its_stored_figures(with_bulletin, client_for):
    ranks = store.load_bulletin_ranks(store.connect(with_bulletin), "2026-11")
    # The page shows what was stored, county by county, best first.
    page = client_for("wengan").get("/bulletins/2026-11").text
    order = [page.index(f"<td>{name}</td>") for name in ("瓮安县", "都匀市")]
    codes = [r["county_code"] for r in ranks]
    assert (order[0] < order[1]) == (codes.index("522725") < codes.index("522701"))
    for r in ranks:
        assert f"{r['score']:.2f}" in page
    assert "较上月排名" in page and "得分较上月" in page
    # The site sample has no October: nothing to compare with, and the page says so.
    assert "上月没有可比较的数据" in page and "小字为较" not in page


def test_the_files_download_and_nothing_else(with_bulletin, client_for):
    client = client_for("duyun")
    pdf = client.get(f"/bulletins/2026-11/files/{FILES[1]}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    xlsx = client.get(f"/bulletins/2026-11/files/{FILES[2]}")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    html = client.get(f"/bulletins/2026-11/files/{FILES[0]}")
    assert html.status_code == 200 and "月通报" in html.text
    for url in (
        "/bulletins/2026-11/files/bidui.sqlite3",
        "/bulletins/2026-11/files/..%2F..%2Fbidui.sqlite3",
        "/bulletins/2026-10/files/" + FILES[1],
        "/bulletins/2026-13",
    ):
        assert client.get(url).status_code == 404, url
