"""The review queue page: the newest linked night's open pairs side by side with their weights, and
the data officer's decisions stored as `bidui review decide` stores them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select

from pipelines import store
from pipelines.store.tables import review_decisions, review_queue
from pipelines.web import review as review_pages


@pytest.fixture
def queue(site_settings, site_sample):
    """The site sample with the newest night linked and one open pair (site_sample.REVIEW_PAIR)."""
    site_sample.add_review_pair(site_settings)
    return site_settings


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _decide(client, decision: str, pair: tuple[str, str, str, str], csrf: bool = True):
    fields = dict(zip(("feed", "record_key", "candidate_feed", "candidate_key"), pair, strict=True))
    if csrf:
        fields["csrf_token"] = _csrf(client.get("/review").text)  # a 403 page carries it too (the sign-out form)
    return client.post("/review/decide", data={**fields, "decision": decision}, follow_redirects=False)


def _decisions(settings) -> list[tuple]:
    with store.connect(settings).connect() as conn:
        rows = conn.execute(
            select(
                review_decisions.c.feed, review_decisions.c.record_key, review_decisions.c.decision, review_decisions.c.decided_by
            )
        )
        return [tuple(r) for r in rows]


def test_the_page_shows_each_pair_side_by_side_with_its_weights(client_for, queue):
    response = client_for("officer").get("/review")
    assert response.status_code == 200
    page = response.text
    assert "数据日期 2026-11-20 的待审核配对" in page
    assert "公安·户籍人口（hukou）" in page and "医保·城乡居民参保（medical_insurance）" in page
    name_row = page.split('<th scope="row">姓名')[1].split("</tr>")[0]
    assert "王小明" in name_row and "王晓明" in name_row and "不同" in name_row
    for title in ("姓名", "身份证号", "村（区划代码）"):
        assert re.search(rf'<tr class="differs">\s*<th scope="row">{re.escape(title)}', page)
    for title in ("性别", "出生日期"):  # one record has no such field: nothing to differ
        assert re.search(rf'<tr>\s*<th scope="row">{re.escape(title)}', page)
    id_row = page.split('<th scope="row">身份证号')[1].split("</tr>")[0]
    assert "522725199001011234" in id_row and "522725199001011243" in id_row  # the officer sees full numbers
    assert "太沟村（522725101201）" in page and "者板村（522725101202）" in page
    # The weights bidui explain shows: label, level and log2(m/u) per comparison, and the total.
    comparisons = page.split('<table class="comparisons">')[1].split("</table>")[0]
    # The name weighed with the u the linker used for it (its term frequency), log2(0.1 / 0.005).
    assert "读音相同（级别 3）" in comparisons and "+4.32" in comparisons and "+2.74" not in comparisons
    assert "相差两位（级别 1）" in comparisons and "+1.00" in comparisons
    assert "同乡镇不同村（级别 2）" in comparisons and "合计权重" in comparisons
    assert ">同一人</button>" in page and ">不是同一人</button>" in page
    assert "概率 ≥ 0.95 自动关联" in page


def test_only_the_prefecture_reviews(client_for, queue):
    for user in ("wengan", "auditor", "xinjing", "taigou", "edu"):
        client = client_for(user)
        assert client.get("/review").status_code == 403
        refused = _decide(client, "same", ("hukou", "H-0201", "medical_insurance", "MI-0201"))
        assert refused.status_code == 403 and "无权" in refused.text
    assert _decisions(queue) == []


def test_a_decision_is_stored_for_the_signed_in_officer_and_the_pair_leaves_the_queue(client_for, queue, site_sample):
    client = client_for("officer")
    response = _decide(client, "same", site_sample.REVIEW_PAIR)
    assert response.status_code == 303 and response.headers["location"] == "/review?page=1"
    assert _decisions(queue) == [("hukou", "H-0201", "same", "officer")]
    with store.connect(queue).connect() as conn:
        assert conn.execute(select(review_queue.c.status)).scalars().all() == ["decided"]
    after = client.get("/review").text
    assert "已记录" in after and "同一人" in after and "王晓明" not in after
    assert "已记录" not in client.get("/review").text  # said once


def test_a_bad_decision_or_pair_is_refused_in_chinese(client_for, queue, site_sample):
    client = client_for("officer")
    bad = _decide(client, "maybe", site_sample.REVIEW_PAIR)
    assert bad.status_code == 400 and "审核结论只能是“同一人”或“不是同一人”" in bad.text
    unknown = _decide(client, "different", ("hukou", "H-9999", "medical_insurance", "MI-0201"))
    assert unknown.status_code == 400 and "没有找到记录 hukou H-9999 的关联结果" in unknown.text
    assert _decide(client, "same", site_sample.REVIEW_PAIR, csrf=False).status_code == 403
    assert _decisions(queue) == []


def test_the_queue_is_paged_and_a_record_missing_from_the_snapshot_is_said_so(client_for, queue, site_sample, monkeypatch):
    with store.connect(queue).begin() as conn:
        conn.execute(
            insert(review_queue).values(
                delivery_date=site_sample.NIGHTS[-1],
                feed="hukou",
                record_key="H-0201",
                candidate_feed="medical_insurance",
                candidate_key="MI-0999",
                probability=0.31,
                match_weight=0.1,
                levels=None,
                status="open",
            )
        )
    monkeypatch.setattr(review_pages, "REVIEW_PAGE_SIZE", 1)
    client = client_for("officer")
    first, second = client.get("/review").text, client.get("/review?page=2").text
    assert "MI-0201" in first and "MI-0999" not in first and 'href="/review?page=2"' in first
    assert "MI-0999" in second and 'href="/review?page=3"' not in second and 'href="/review?page=1"' in second
    assert "MI-0999 在当晚的数据快照中没有找到" in second and "无法显示逐项比对" in second


def test_without_a_linked_night_the_queue_is_empty(client_for):
    response = client_for("officer").get("/review")
    assert response.status_code == 200 and "还没有关联过任何一晚的数据" in response.text


def test_a_refused_decision_shows_the_record_numbers_as_the_officer_may_see_them(client_for, queue, site_sample):
    from pipelines.access import add_user

    add_user(store.connect(queue), "officer-masked", site_sample.SITE_PASSWORD, "prefecture", "5227", full_ids=False)
    client = client_for("officer-masked")
    # A record numbered by its person's ID number, as some departments deliver them.
    refused = _decide(client, "same", ("hukou", "522725199001011234", "medical_insurance", "MI-0201"))
    assert refused.status_code == 400 and "没有找到记录" in refused.text
    assert "522725199001011234" not in refused.text and "522725********1234" in refused.text
