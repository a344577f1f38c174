"""The staff clue pages: the list in each user's scope (filters, search, pages, masking, overdue), the
clue page (404 and 403 apart), and every move made through the forms as `bidui clue` makes it.

Site sample (site_sample.py): 瓮安县's clues R05-000001, R05-000002 (教育) and R13-000001 in 太沟村,
R06-000001 (医保) in 者板村, issued on 2026-11-20 (R05's deadline 2026-12-05); 都匀市's R05-000003 and
R06-000002 in 松林村, still 待下发.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from pipelines import store
from pipelines.store.tables import clue_events, clues

WENGAN = ["R05-000001", "R05-000002", "R06-000001", "R13-000001"]
DUYUN = ["R05-000003", "R06-000002"]
TODAY = dt.date(2026, 12, 7)  # R05's deadline (2026-12-05) has passed, the others' (2026-12-20) not
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_LISTED = re.compile(r'<a href="/clues/([A-Z][0-9]{2}-[0-9]{6})">')


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    from pipelines.web import staff

    monkeypatch.setattr(staff, "today", lambda: TODAY, raising=False)


def main_of(html: str) -> str:
    """The page without its header (which names the signed-in user and their own region)."""
    return html.split("<main>", 1)[1]


def listed(html: str) -> list[str]:
    return _LISTED.findall(html)


def clue_row(engine, clue_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(clues).where(clues.c.clue_id == clue_id)).mappings().one())


def move(client, site_sample, clue_id: str, action: str, **fields):
    """Post a move's form as the browser would, with the session's CSRF token."""
    token = site_sample.csrf_of(client.get(f"/clues/{clue_id}").text)
    return client.post(f"/clues/{clue_id}/{action}", data={"csrf_token": token, **fields}, follow_redirects=False)


@pytest.fixture
def engine(site_settings):
    return store.connect(site_settings)


# --- the list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("officer", sorted(WENGAN + DUYUN)),
        ("auditor", sorted(WENGAN + DUYUN)),
        ("wengan", WENGAN),
        ("duyun", DUYUN),
        ("xinjing", WENGAN),  # both villages are in 新井镇
        ("taigou", ["R05-000001", "R05-000002", "R13-000001"]),
        ("edu", ["R05-000001", "R05-000002"]),  # 教育's clues of 瓮安县 only
    ],
)
def test_the_list_shows_the_clues_of_the_scope_and_no_other(client_for, user, expected):
    response = client_for(user).get("/clues")
    assert response.status_code == 200
    assert listed(response.text) == expected
    assert f"共 {len(expected)} 条线索" in response.text


def test_the_list_names_rule_person_village_department_state_and_dates(client_for):
    html = client_for("wengan").get("/clues").text
    row = re.search(r'<tr class="overdue">.*?R05-000001.*?</tr>', html, re.S).group(0)
    for shown in ("R05 义务教育阶段疑似失学辍学", "张三", "新井镇太沟村", "教育", "已下发待核实", "2026-11-18", "2026-12-05"):
        assert shown in row, shown


@pytest.mark.parametrize(
    ("user", "query", "expected"),
    [
        ("wengan", "rule=R05", ["R05-000001", "R05-000002"]),
        ("wengan", "rule=r13", ["R13-000001"]),
        ("officer", "status=new", DUYUN),
        ("officer", "status=issued&rule=R06", ["R06-000001"]),
        ("officer", "village=522725101202", ["R06-000001"]),  # a village
        ("officer", "village=522725101", WENGAN),  # a township
        ("officer", "village=522701", DUYUN),  # a county
        ("taigou", "village=522725101202", []),  # a village outside the scope finds nothing
        ("officer", "overdue=1", ["R05-000001", "R05-000002"]),
        ("officer", "overdue=1&village=522701", []),
        ("wengan", "q=张三", ["R05-000001"]),
        ("wengan", "q=李四", ["R05-000002"]),
        ("wengan", "q=李", []),  # one character: a whole name, not how names start
        ("wengan", "q=r05-000002", ["R05-000002"]),  # a clue number, any case
        ("wengan", "q=R05-000003", []),  # 都匀市's
        ("wengan", "q=钱七", []),  # 都匀市's
        ("duyun", "q=钱七", ["R05-000003"]),
        ("wengan", "q=三", []),  # names are found from their start
    ],
)
def test_filters_and_search(client_for, user, query, expected):
    response = client_for(user).get(f"/clues?{query}")
    assert response.status_code == 200
    assert listed(response.text) == expected
    if not expected:
        assert "没有符合条件的线索" in response.text


def test_names_are_found_by_how_they_start(client_for, monkeypatch):
    from pipelines.web import staff_queries

    monkeypatch.setattr(staff_queries, "NAME_PREFIX_MIN", 1)
    assert listed(client_for("wengan").get("/clues?q=李").text) == ["R05-000002"]
    assert listed(client_for("wengan").get("/clues?q=%").text) == []  # not a wildcard


def test_a_bad_filter_is_told_in_chinese_and_kept_in_the_form(client_for):
    response = client_for("officer").get("/clues?village=52272&rule=R05")
    assert response.status_code == 400
    assert "区划代码“52272”应为 6 位（县）、9 位（乡镇）或 12 位（村）数字" in response.text
    assert 'name="village" value="52272"' in response.text
    assert '<option value="R05" selected>' in response.text
    assert listed(response.text) == []


def test_overdue_clues_are_highlighted_and_the_others_not(client_for, monkeypatch):
    from pipelines.web import staff

    client = client_for("wengan")
    html = client.get("/clues").text
    overdue_rows = re.findall(r'<tr class="overdue">\s*<td><a href="/clues/([A-Z0-9-]+)">', html)
    assert overdue_rows == ["R05-000001", "R05-000002"]
    assert html.count("已逾期</span>") == 2
    assert "已逾期" in client.get("/clues/R05-000001").text
    assert "已逾期" not in client.get("/clues/R06-000001").text
    monkeypatch.setattr(staff, "today", lambda: dt.date(2026, 12, 5))  # the deadline day itself
    assert 'class="overdue"' not in client.get("/clues").text
    assert listed(client.get("/clues?overdue=1").text) == []


def test_the_list_comes_in_pages_that_keep_the_filters(client_for, monkeypatch):
    from pipelines.web import staff

    monkeypatch.setattr(staff, "PAGE_SIZE", 4)
    client = client_for("officer")
    first = client.get("/clues")
    assert listed(first.text) == ["R05-000001", "R05-000002", "R05-000003", "R06-000001"]
    assert "共 6 条线索，第 1 页" in first.text
    assert '<a href="/clues?page=2">下一页</a>' in first.text
    assert "上一页</span>" in first.text  # shown, not a link
    second = client.get("/clues?page=2")
    assert listed(second.text) == ["R06-000002", "R13-000001"]
    assert '<a href="/clues?page=1">上一页</a>' in second.text
    assert "下一页</span>" in second.text
    monkeypatch.setattr(staff, "PAGE_SIZE", 1)
    filtered = client.get("/clues?status=issued&q=")
    assert listed(filtered.text) == ["R05-000001"]
    assert '<a href="/clues?status=issued&amp;page=2">下一页</a>' in filtered.text
    assert listed(client.get("/clues?status=issued&page=4").text) == ["R13-000001"]
    beyond = client.get("/clues?status=issued&page=9")
    assert listed(beyond.text) == [] and "共 4 条线索" in beyond.text


def test_a_count_past_the_cap_is_not_counted_to_the_end(client_for, monkeypatch):
    from pipelines.web import staff, staff_queries

    monkeypatch.setattr(staff, "PAGE_SIZE", 2)
    monkeypatch.setattr(staff_queries, "COUNT_CAP", 3)
    html = client_for("officer").get("/clues").text
    assert "符合条件的线索超过 3 条" in html
    assert listed(html) == ["R05-000001", "R05-000002"]


# --- ID numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["taigou", "xinjing"])
def test_township_and_village_users_see_no_full_id_number_anywhere(client_for, site_sample, user):
    client = client_for(user)
    pages = [client.get("/clues").text, client.get("/clues/R05-000001").text, client.get("/clues?q=张三").text]
    for html in pages:
        assert FULL_ID.findall(html) == []
    assert "522725********1211" in pages[0] and "522725********1211" in pages[1]


def test_a_county_user_sees_full_id_numbers(client_for):
    client = client_for("wengan")
    assert "522725201003031211" in client.get("/clues").text
    assert "522725201003031211" in client.get("/clues/R05-000001").text


def test_id_numbers_typed_into_notes_are_masked_for_the_village(client_for, site_sample):
    taigou, xinjing, wengan = client_for("taigou"), client_for("xinjing"), client_for("wengan")
    move(taigou, site_sample, "R05-000001", "verify", verdict="属实", verified_on="2026-12-01")
    move(taigou, site_sample, "R05-000001", "rectify", rectification="已劝返 522725201003031211 入学", rectified_on="2026-12-02")
    rectified = xinjing.get("/clues/R05-000001").text
    assert "已劝返 522725********1211 入学" in rectified and FULL_ID.findall(rectified) == []
    move(xinjing, site_sample, "R05-000001", "sign", signed_on="2026-12-03")
    sent = move(wengan, site_sample, "R05-000001", "send_back", note="证件 5227 2520 1003 0312 11 的学籍请再核")
    assert sent.status_code == 303
    html = taigou.get("/clues/R05-000001").text
    assert "证件 522725********1211 的学籍请再核" in html
    assert FULL_ID.findall(html) == []
    assert "证件 5227 2520 1003 0312 11 的学籍请再核" in wengan.get("/clues/R05-000001").text


# --- the clue page -------------------------------------------------------------------------------


def test_the_clue_page_shows_the_clue_its_person_and_its_history(client_for):
    response = client_for("wengan").get("/clues/r05-000001")  # any case
    assert response.status_code == 200
    html = response.text
    for shown in (
        "<h1>线索 R05-000001</h1>",
        "R05 义务教育阶段疑似失学辍学",
        "已下发待核实",
        "2026-12-05",
        "教育",
        "太沟村（522725101201）",
        "新井镇（522725101）",
        "瓮安县（522725）",
        "扶贫·家庭成员（记录 PM-0001）：姓名 张三",  # the evidence
        '<th scope="row">姓名</th><td>张三</td>',  # the base map's person
        "比对发现",
        "待下发 → 已下发待核实",
        "问题台账",  # the source
    ):
        assert shown in html, shown


def test_a_clue_that_does_not_exist_is_404_in_chinese(client_for):
    response = client_for("wengan").get("/clues/R05-999999")
    assert response.status_code == 404
    assert "线索 R05-999999 不存在" in response.text


@pytest.mark.parametrize(("user", "clue_id"), [("duyun", "R05-000001"), ("taigou", "R06-000001"), ("edu", "R13-000001")])
def test_a_clue_outside_the_scope_is_403_and_shows_nothing_of_it(client_for, user, clue_id):
    response = client_for(user).get(f"/clues/{clue_id}")
    assert response.status_code == 403
    assert "无权访问" in response.text
    for leaked in (clue_id, "张三", "王五", "赵六", "太沟村", "者板村", "522725101", "证件", "PM-00"):
        assert leaked not in main_of(response.text), leaked


def forms_of(client, clue_id: str) -> list[str]:
    """The moves the clue page offers, by their forms."""
    return re.findall(rf'<form method="post" action="/clues/{clue_id}/([a-z_]+)"', client.get(f"/clues/{clue_id}").text)


def test_the_forms_are_those_of_the_viewers_role_in_the_clues_state(client_for):
    def forms(user: str, clue_id: str) -> list[str]:
        return forms_of(client_for(user), clue_id)

    assert forms("taigou", "R05-000001") == ["verify"]
    assert forms("edu", "R05-000001") == ["verify"]
    assert forms("xinjing", "R05-000001") == []  # the township signs, after the village verified
    assert forms("wengan", "R05-000001") == []
    assert forms("auditor", "R05-000001") == []
    assert forms("officer", "R05-000001") == []
    assert forms("duyun", "R05-000003") == []  # 待下发: issued with the ledger, not here


def test_the_township_sends_back_what_it_would_sign_and_the_county_what_it_would_close(client_for, site_sample, engine):
    taigou, xinjing, wengan = client_for("taigou"), client_for("xinjing"), client_for("wengan")
    move(taigou, site_sample, "R05-000001", "verify", verdict="不属实", dismiss_reason="已死亡")
    assert forms_of(xinjing, "R05-000001") == ["sign", "send_back"]
    assert forms_of(wengan, "R05-000001") == []
    move(xinjing, site_sample, "R05-000001", "sign")
    assert forms_of(xinjing, "R05-000001") == []
    assert forms_of(wengan, "R05-000001") == ["send_back", "approve"]
    late = move(xinjing, site_sample, "R05-000001", "send_back", note="再核")
    assert late.status_code == 409
    assert "乡镇只能退回待签字的核实" in late.text
    assert clue_row(engine, "R05-000001")["status"] == "signed"


# --- moves ---------------------------------------------------------------------------------------


def test_every_move_through_the_pages(client_for, site_sample, engine):
    taigou, xinjing, wengan, officer = (client_for(u) for u in ("taigou", "xinjing", "wengan", "officer"))
    clue_id = "R05-000002"

    def step(client, action, expected_status, done, **fields):
        response = move(client, site_sample, clue_id, action, **fields)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/clues/{clue_id}?done={action}"
        page = client.get(response.headers["location"]).text
        assert done in page
        assert clue_row(engine, clue_id)["status"] == expected_status

    step(taigou, "verify", "confirmed", "核实完成", verdict="属实", verified_on="2026-12-01", note="入户核实")
    row = clue_row(engine, clue_id)
    assert (row["verdict"], row["verified_by"], row["verified_on"]) == ("属实", "taigou用户", dt.date(2026, 12, 1))
    step(taigou, "rectify", "rectified", "整改完成", rectification="已劝返入学", rectified_on="2026-12-02")
    step(xinjing, "send_back", "issued", "退回完成", note="整改佐证不足")
    step(taigou, "verify", "rectified", "核实完成", verdict="不属实", dismiss_reason="在外省就读", verified_by="村支书")
    assert clue_row(engine, clue_id)["dismiss_reason"] == "在外省就读"
    assert clue_row(engine, clue_id)["verified_on"] == TODAY  # left empty: today
    step(xinjing, "sign", "signed", "签字背书完成", signed_by="镇长", signed_on="2026-12-06")
    step(wengan, "send_back", "issued", "退回完成", note="请补充就读证明")
    step(taigou, "verify", "rectified", "核实完成", verdict="不属实", dismiss_reason="在外省就读", verified_on="2026-12-06")
    step(xinjing, "sign", "signed", "签字背书完成", signed_on="2026-12-06")
    step(wengan, "approve", "closed", "销号完成")
    step(officer, "file", "filed", "备案完成", note="年度备案")
    step(officer, "reopen", "issued", "重新打开完成", note="抽查发现仍未入学")
    assert clue_row(engine, clue_id)["reopen_count"] == 1
    history = wengan.get(f"/clues/{clue_id}").text
    assert history.count("<td>网页</td>") == 11
    assert "抽查发现仍未入学" in history and "年度备案" in history


def test_web_moves_keep_the_audit_chain_and_name_the_signed_in_users(client_for, site_sample, engine):
    clue_id = "R05-000001"
    assert (
        move(client_for("taigou"), site_sample, clue_id, "verify", verdict="不属实", dismiss_reason="送教上门").status_code == 303
    )
    assert move(client_for("xinjing"), site_sample, clue_id, "sign").status_code == 303
    assert move(client_for("wengan"), site_sample, clue_id, "approve").status_code == 303
    with engine.connect() as conn:
        check = store.verify_chain(conn)
        moved = conn.execute(
            select(clue_events.c.user_name, clue_events.c.role, clue_events.c.action, clue_events.c.source)
            .where((clue_events.c.clue_id == clue_id) & (clue_events.c.source == "web"))
            .order_by(clue_events.c.event_id)
        ).all()
    assert check.intact, check.broken
    assert [tuple(r) for r in moved] == [
        ("taigou", "village", "verify", "web"),
        ("xinjing", "township", "sign", "web"),
        ("wengan", "county", "approve", "web"),
    ]
    assert clue_row(engine, clue_id)["status"] == "closed"


def test_a_move_the_state_does_not_allow_is_409_in_chinese(client_for, site_sample, engine):
    response = move(client_for("xinjing"), site_sample, "R05-000001", "sign", signed_by="镇长")
    assert response.status_code == 409
    assert "线索 R05-000001 当前状态为“已下发待核实”，不能执行“签字背书”" in response.text
    assert clue_row(engine, "R05-000001")["status"] == "issued"


def test_a_double_submit_gets_the_conflict_not_a_crash(client_for, site_sample, engine):
    client = client_for("taigou")
    token = site_sample.csrf_of(client.get("/clues/R05-000001").text)
    form = {"csrf_token": token, "verdict": "属实", "verified_on": "2026-12-01"}
    first = client.post("/clues/R05-000001/verify", data=form, follow_redirects=False)
    second = client.post("/clues/R05-000001/verify", data=form, follow_redirects=False)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "当前状态为“核实属实待整改”，不能执行“核实”" in second.text
    assert "系统出错" not in second.text
    with engine.connect() as conn:
        verifications = conn.execute(
            select(clue_events.c.event_id).where((clue_events.c.clue_id == "R05-000001") & (clue_events.c.action == "verify"))
        ).all()
    assert len(verifications) == 1


def test_a_bad_input_is_400_with_the_typed_values_kept(client_for, site_sample, engine):
    client = client_for("taigou")
    no_reason = move(client, site_sample, "R05-000001", "verify", verdict="不属实", verified_by="村会计", note="家访两次")
    assert no_reason.status_code == 400
    assert "核实不属实须选择不属实原因" in no_reason.text
    assert 'value="村会计"' in no_reason.text and "家访两次</textarea>" in no_reason.text
    assert 'value="不属实" checked' in no_reason.text
    bad_date = move(client, site_sample, "R05-000001", "verify", verdict="属实", verified_on="2026/12/01")
    assert bad_date.status_code == 400
    assert "核实日期“2026/12/01”格式不对，应为 YYYY-MM-DD" in bad_date.text
    assert 'value="2026/12/01"' in bad_date.text
    no_verdict = move(client, site_sample, "R05-000001", "verify", verified_on="2026-12-01")
    assert no_verdict.status_code == 400 and "缺少核实结果" in no_verdict.text
    assert clue_row(engine, "R05-000001")["status"] == "issued"


def test_a_send_back_needs_its_reason(client_for, site_sample, engine):
    move(client_for("taigou"), site_sample, "R05-000001", "verify", verdict="不属实", dismiss_reason="已死亡")
    response = move(client_for("xinjing"), site_sample, "R05-000001", "send_back", note="  ")
    assert response.status_code == 400
    assert "缺少说明/理由" in response.text
    assert clue_row(engine, "R05-000001")["status"] == "rectified"


def test_a_form_without_its_csrf_token_is_refused(client_for, engine):
    response = client_for("taigou").post("/clues/R05-000001/verify", data={"verdict": "属实"}, follow_redirects=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert clue_row(engine, "R05-000001")["status"] == "issued"


@pytest.mark.parametrize(
    ("user", "clue_id", "action", "status"),
    [
        ("wengan", "R05-000001", "verify", 403),  # the county does not verify
        ("auditor", "R05-000001", "verify", 403),
        ("edu", "R13-000001", "verify", 403),  # 公安 + 乡镇's clue: outside the liaison's scope
        ("taigou", "R06-000001", "verify", 403),  # 者板村's clue
        ("duyun", "R05-000001", "approve", 403),  # 瓮安县's clue
        ("taigou", "R05-999999", "verify", 404),
        ("taigou", "R05-000001", "destroy", 404),
        ("taigou", "R05-000001", "issue", 404),  # issuing is the ledgers'
    ],
)
def test_moves_outside_role_scope_or_catalogue_are_refused(client_for, site_sample, engine, user, clue_id, action, status):
    client = client_for(user)
    token = site_sample.csrf_of(client.get("/clues").text)
    response = client.post(f"/clues/{clue_id}/{action}", data={"csrf_token": token, "verdict": "属实"}, follow_redirects=False)
    assert response.status_code == status
    if status == 403:
        assert "张三" not in main_of(response.text) and "太沟村" not in main_of(response.text)
    if clue_id != "R05-999999":
        assert clue_row(engine, clue_id)["status"] == "issued"


# --- on both databases ---------------------------------------------------------------------------


@pytest.fixture
def either_client_for(site_settings_any, site_sample):
    """client_for on the site sample in SQLite and in PostgreSQL (the index ranges, the row locks)."""
    from fastapi.testclient import TestClient

    from pipelines.web import create_app

    app = create_app(site_settings_any)
    made: list[TestClient] = []

    def make(user_name: str) -> TestClient:
        client = TestClient(app, base_url="http://bidui.test")
        made.append(client)
        assert site_sample.sign_in(client, user_name).status_code == 303
        return client

    yield make, store.connect(site_settings_any)
    for client in made:
        client.close()


def test_the_list_and_the_moves_on_either_database(either_client_for, site_sample):
    client_for, engine = either_client_for
    wengan = client_for("wengan")
    for query, expected in [
        ("", WENGAN),
        ("q=张三", ["R05-000001"]),
        ("q=r13-000001", ["R13-000001"]),
        ("rule=R05&overdue=1", ["R05-000001", "R05-000002"]),
        ("village=522725101", WENGAN),
        ("village=522725101202&status=issued", ["R06-000001"]),
    ]:
        assert listed(wengan.get(f"/clues?{query}").text) == expected, query
    assert listed(client_for("taigou").get("/clues").text) == ["R05-000001", "R05-000002", "R13-000001"]
    assert listed(client_for("edu").get("/clues").text) == ["R05-000001", "R05-000002"]
    taigou = client_for("taigou")
    form = {"verdict": "不属实", "dismiss_reason": "送教上门"}
    assert move(taigou, site_sample, "R05-000001", "verify", **form).status_code == 303
    assert move(taigou, site_sample, "R05-000001", "verify", **form).status_code == 409
    assert move(client_for("xinjing"), site_sample, "R05-000001", "sign").status_code == 303
    assert move(wengan, site_sample, "R05-000001", "approve").status_code == 303
    with engine.connect() as conn:
        assert store.verify_chain(conn).intact
    assert clue_row(engine, "R05-000001")["status"] == "closed"


# --- as users meet them (review R2) ---------------------------------------------------------------


def test_the_history_names_the_nightly_run_in_chinese(client_for):
    html = client_for("taigou").get("/clues/R05-000001").text
    events = html.split('<table class="events">')[1].split("</table>")[0]
    found = next(row for row in events.split("<tr>") if "比对发现" in row)
    assert ">system<" not in events and "<td>系统</td>" in found


def test_the_printed_clue_page_carries_the_lines_people_sign_on(client_for):
    html = client_for("xinjing").get("/clues/R05-000001").text
    block = html.split('class="print-only signatures"')[1].split("</section>")[0]
    for line in ("核实人（签字）", "乡镇审核人（签字）", "日期", "盖章", "打印人：xinjing用户", "仅供核实使用"):
        assert line in block, line
    css = client_for(None).get("/static/staff.css").text
    screen, printed = css.split("@media print")
    assert ".print-only { display: none" in screen.replace("\n", " ") and ".print-only { display: block" in printed


def test_a_page_past_the_last_says_so_instead_of_finding_nothing(client_for):
    beyond = client_for("wengan").get("/clues?status=issued&page=9")
    assert beyond.status_code == 200 and listed(beyond.text) == []
    said = main_of(beyond.text)
    assert "没有符合条件的线索" not in said
    assert "第 9 页没有线索：共 4 条，只有 1 页" in said and 'href="/clues?status=issued"' in said


def test_a_one_character_search_that_finds_nothing_says_how_names_are_found(client_for):
    surname = client_for("wengan").get("/clues?q=张")
    assert listed(surname.text) == [] and "至少输入姓名的前两个字" in main_of(surname.text)
    whole = client_for("wengan").get("/clues?q=张三")
    assert listed(whole.text) == ["R05-000001"] and "至少输入姓名的前两个字" not in main_of(whole.text)
