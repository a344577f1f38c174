"""Every route of the site for every role: allowed (200, or 303 after a move), forbidden (403) and not
found (404), and the same 403 page whatever was asked for. A route added to the site without a row
here fails `test_every_route_of_the_site_is_in_the_matrix`.

Users of the site sample (site_sample.py): officer (prefecture 5227), wengan (county 522725),
duyun (county 522701), xinjing (township 522725101), taigou (village 522725101201), edu (liaison
522725 教育), auditor (auditor 5227).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

USERS = ("officer", "wengan", "duyun", "xinjing", "taigou", "edu", "auditor")
MONITORS = {"officer", "wengan", "duyun", "auditor"}
OFFICER = {"officer"}
EVERYONE = set(USERS)

# (route template as the app declares it, the URL asked for, who gets 200; everyone else signed in
# gets `others`)
GET_MATRIX = [
    ("/monitor", "/monitor", MONITORS, 403),
    ("/monitor/closure", "/monitor/closure", MONITORS, 403),
    ("/monitor/regions/{code}", "/monitor/regions/5227", {"officer", "auditor"}, 403),
    ("/monitor/regions/{code}", "/monitor/regions/522725", {"officer", "wengan", "auditor"}, 403),
    ("/monitor/regions/{code}", "/monitor/regions/522701", {"officer", "duyun", "auditor"}, 403),
    ("/monitor/regions/{code}", "/monitor/regions/522725101", {"officer", "wengan", "auditor"}, 403),
    ("/monitor/regions/{code}", "/monitor/regions/522725101201", {"officer", "wengan", "auditor"}, 403),
    ("/monitor/night", "/monitor/night", OFFICER, 403),
    ("/monitor/held", "/monitor/held", OFFICER, 403),
    ("/clues", "/clues", EVERYONE, 403),
    ("/clues/{clue_id}", "/clues/R05-000001", EVERYONE - {"duyun"}, 403),  # 太沟村, 教育
    ("/clues/{clue_id}", "/clues/R06-000001", {"officer", "wengan", "xinjing", "auditor"}, 403),  # 者板村, 医保
    ("/clues/{clue_id}", "/clues/R05-000003", {"officer", "duyun", "auditor"}, 403),  # 都匀市
    ("/ledgers", "/ledgers", {"officer", "wengan", "duyun", "auditor"}, 403),
    (
        "/ledgers/{county_code}/{issue_date}/download",
        "/ledgers/522725/2026-11-20/download",
        {"officer", "wengan", "auditor"},
        403,
    ),
    ("/review", "/review", OFFICER, 403),
    ("/bulletins", "/bulletins", {"officer", "wengan", "duyun", "auditor"}, 403),
    ("/quality-reports", "/quality-reports", {"officer", "auditor"}, 403),
    ("/samples", "/samples", MONITORS, 403),
]
# Asked by a user allowed the page: not found, whatever else they may see.
NOT_FOUND = [
    ("/clues/{clue_id}", "/clues/R05-999999", EVERYONE),
    ("/monitor/regions/{code}", "/monitor/regions/52272", {"officer", "auditor"}),
    ("/monitor/reports/{date}/{name}", "/monitor/reports/2026-11-20/validation.html", OFFICER),  # no report file in the sample
    ("/monitor/reports/{date}/{name}", "/monitor/reports/2026-11-20/..%2F..%2Fbidui.sqlite3", OFFICER),
    ("/ledgers/{county_code}/{issue_date}/download", "/ledgers/522725/2026-11-19/download", {"officer", "wengan"}),
    # No bulletin in the sample: tests/pipelines/web/test_bulletins.py makes one and checks the 403s.
    ("/bulletins/{month}", "/bulletins/2026-11", {"officer", "wengan", "duyun", "auditor"}),
    ("/bulletins/{month}/files/{name}", "/bulletins/2026-11/files/x.pdf", {"officer", "wengan", "duyun", "auditor"}),
    ("/quality-reports/{report_id}", "/quality-reports/2026-11-20", {"officer", "auditor"}),
    ("/quality-reports/{report_id}/{kind}", "/quality-reports/2026-11-20/pdf", {"officer", "auditor"}),
    ("/quality-reports/{report_id}/{kind}", "/quality-reports/2026-11-20/..%2Fbidui.sqlite3", {"officer", "auditor"}),
    # No sample in the sample store: tests/pipelines/web/test_samples_pages.py stores two and checks the 403s.
    ("/samples/{sample_id}", "/samples/999", MONITORS),
    ("/samples/{sample_id}/download", "/samples/999/download", MONITORS),
    ("/samples/{sample_id}/print", "/samples/999/print", MONITORS),
    ("/no-such-page", "/no-such-page", EVERYONE),
]
# Routes reached without signing in, and those covered by other tests (moves, uploads, sign-in).
OPEN_ROUTES = {"/login", "/healthz", "/static"}
COVERED_ELSEWHERE = {
    "/logout",
    "/clues/{clue_id}/{action}",
    "/ledgers/upload",
    "/ledgers/imports/{import_id}",
    "/ledgers/imports/{import_id}/report",
    "/monitor/held/{date}/{rule}/release",
    "/review/decide",
    "/quality-reports/{report_id}",  # roles and files: tests/pipelines/documents/test_quality.py
    "/quality-reports/{report_id}/{kind}",
    "/",
}
_CLUE_DATA = ("张三", "李四", "赵六", "王五", "钱七", "孙八", "太沟村", "者板村", "松林村", "证件号码")


@pytest.fixture
def clients(client_for):
    return {name: client_for(name) for name in USERS}


def _expected(allowed: set[str], others: int, user: str) -> int:
    return 200 if user in allowed else others


@pytest.mark.parametrize(("route", "url", "allowed", "others"), GET_MATRIX, ids=[row[1] for row in GET_MATRIX])
def test_each_role_gets_the_page_it_may_see_and_403_for_the_rest(clients, route, url, allowed, others):
    got = {user: clients[user].get(url, follow_redirects=False).status_code for user in USERS}
    assert got == {user: _expected(allowed, others, user) for user in USERS}


@pytest.mark.parametrize(("route", "url", "allowed", "others"), GET_MATRIX, ids=[row[1] for row in GET_MATRIX])
def test_without_signing_in_every_page_goes_to_the_sign_in_page(client_for, route, url, allowed, others):
    response = client_for(None).get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(("route", "url", "users"), NOT_FOUND, ids=[row[1] for row in NOT_FOUND])
def test_what_does_not_exist_is_404_for_those_allowed_to_look(clients, route, url, users):
    for user in users:
        assert clients[user].get(url, follow_redirects=False).status_code == 404, user


def test_a_forbidden_clue_and_a_forbidden_page_show_the_same_page_with_nothing_of_the_clue(clients):
    forbidden_clue = clients["duyun"].get("/clues/R05-000001")
    forbidden_page = clients["duyun"].get("/review")
    assert forbidden_clue.status_code == forbidden_page.status_code == 403
    for leaked in (*_CLUE_DATA, "R05-000001", "522725101201"):
        assert leaked not in forbidden_clue.text, leaked

    def body(html: str) -> str:
        return re.sub(r"<main>.*?<h1>|</main>.*", "", html, flags=re.S)

    assert "无权访问" in body(forbidden_clue.text) and "无权访问" in body(forbidden_page.text)


def test_every_route_of_the_site_is_in_the_matrix(client_for):
    app = client_for(None).app
    declared = {getattr(route, "path", None) for route in app.routes}
    covered = {row[0] for row in GET_MATRIX} | {row[0] for row in NOT_FOUND} | OPEN_ROUTES | COVERED_ELSEWHERE
    assert declared - covered == set()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset") and value:
                self.addresses.append(value)


def _foreign(address: str) -> bool:
    """Whether an address in a page would make the browser ask another host."""
    return bool(re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*:|//)", address)) and not address.startswith(("data:", "mailto:"))


def test_no_page_loads_anything_from_another_host(clients):
    seen = 0
    for _route, url, allowed, _others in GET_MATRIX:
        user = sorted(allowed)[0]
        response = clients[user].get(url)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = _Links()
        parser.feed(response.text)
        assert [a for a in parser.addresses if _foreign(a)] == [], url
        assert "@import" not in response.text and "url(http" not in response.text
        seen += 1
    assert seen >= 10
    css = clients["officer"].get("/static/bidui.css").text
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    js = clients["officer"].get("/static/bidui.js").text
    assert "http" not in js


def test_every_response_forbids_other_hosts_by_content_security_policy(clients):
    response = clients["wengan"].get("/clues")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert response.headers["cache-control"] == "no-store"


def test_the_page_of_an_unexpected_error_is_chinese_and_kept_from_caches_and_frames(site_settings, site_sample, monkeypatch):
    from fastapi.testclient import TestClient

    from pipelines.web import create_app, staff

    def broken(*args, **kwargs):
        raise RuntimeError("the store went away")

    monkeypatch.setattr(staff, "load_clue_list", broken)
    client = TestClient(create_app(site_settings), base_url="http://bidui.test", raise_server_exceptions=False)
    assert site_sample.sign_in(client, "wengan").status_code == 303
    response = client.get("/clues")
    assert response.status_code == 500 and "系统出错" in response.text and "went away" not in response.text
    assert response.headers.get("cache-control") == "no-store"  # it names the signed-in user
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    assert response.headers.get("x-frame-options") == "DENY"
