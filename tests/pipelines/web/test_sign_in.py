"""Signing in to the site: sessions, CSRF, throttling, redirects."""

from __future__ import annotations

import re

from pipelines.web.auth import MAX_NAME_FAILURES


def test_a_page_without_a_session_redirects_to_the_sign_in_page(client_for):
    response = client_for(None).get("/clues", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/clues"


def test_signing_in_opens_the_home_page_of_the_role(client_for):
    assert client_for("wengan").get("/", follow_redirects=False).headers["location"] == "/monitor"
    assert client_for("taigou").get("/", follow_redirects=False).headers["location"] == "/clues"


def test_a_wrong_password_is_refused_in_chinese_without_saying_which_part_was_wrong(client_for, site_sample):
    client = client_for(None)
    wrong = site_sample.sign_in(client, "wengan", "not-the-password")
    unknown = site_sample.sign_in(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不对" in wrong.text and "用户名或密码不对" in unknown.text


def test_a_form_without_the_sessions_csrf_token_is_refused(client_for, site_sample):
    client = client_for(None)
    client.get("/login")
    response = client.post("/login", data={"csrf_token": "forged", "user_name": "wengan", "password": site_sample.SITE_PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert client.get("/clues", follow_redirects=False).status_code == 303  # still not signed in


def test_repeated_failures_stop_sign_in_even_with_the_right_password(client_for, site_sample):
    client = client_for(None)
    for _ in range(MAX_NAME_FAILURES):
        assert site_sample.sign_in(client, "wengan", "guess-guess").status_code == 401
    refused = site_sample.sign_in(client, "wengan")
    assert refused.status_code == 401
    assert "登录失败次数过多" in refused.text
    assert site_sample.sign_in(client_for(None), "duyun").status_code == 303  # another name is not held


def test_signing_out_ends_the_session(client_for, site_sample):
    client = client_for("wengan")
    page = client.get("/clues")
    client.post("/logout", data={"csrf_token": site_sample.csrf_of(page.text)})
    assert client.get("/clues", follow_redirects=False).status_code == 303


def test_a_deactivated_user_is_signed_out_at_the_next_request(client_for, site_settings):
    from pipelines import store
    from pipelines.access import deactivate

    client = client_for("wengan")
    deactivate(store.connect(site_settings), "wengan")
    assert client.get("/clues", follow_redirects=False).status_code == 303


def test_the_next_address_after_sign_in_stays_on_this_site(client_for, site_sample):
    client = client_for(None)
    page = client.get("/login?next=//evil.example/x")
    assert 'value="/"' in page.text
    token = site_sample.csrf_of(page.text)
    response = client.post(
        "/login",
        data={"csrf_token": token, "user_name": "wengan", "password": site_sample.SITE_PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_csrf_token_that_is_not_ascii_is_refused_like_any_forged_one(client_for):
    client = client_for("wengan")
    response = client.post("/logout", data={"csrf_token": "令牌"})
    assert response.status_code == 403 and "CSRF" in response.text
    assert client.get("/clues", follow_redirects=False).status_code == 200  # still signed in


def test_signing_in_from_an_address_does_not_forgive_its_failures_with_other_names(client_for, site_sample):
    from pipelines.web.auth import MAX_ADDRESS_FAILURES

    # One account of one's own, signed in between guesses at everyone else's (the test clients
    # share one address): the address is held all the same once it failed often enough.
    guesser = client_for(None)
    for i in range(MAX_ADDRESS_FAILURES):
        if i % 4 == 0:
            assert site_sample.sign_in(client_for(None), "duyun").status_code == 303
        assert site_sample.sign_in(guesser, f"user-{i}", "guess-guess").status_code == 401
    refused = site_sample.sign_in(client_for(None), "wengan")
    assert refused.status_code == 401 and "登录失败次数过多" in refused.text


def test_a_session_cookie_kept_from_before_signing_out_opens_nothing(client_for, site_sample):
    client = client_for("wengan")
    kept = client.cookies.get("bidui_session")
    page = client.get("/clues")
    assert client.post("/logout", data={"csrf_token": site_sample.csrf_of(page.text)}).status_code == 200
    replay = client_for(None)
    replay.cookies.set("bidui_session", kept)
    assert replay.get("/clues", follow_redirects=False).status_code == 303
    assert site_sample.sign_in(client, "wengan").status_code == 303  # signing in again opens a new session
    assert client.get("/clues", follow_redirects=False).status_code == 200


def test_a_large_body_is_refused_before_it_is_read_even_without_signing_in(client_for):
    client = client_for(None)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login",
        data={"csrf_token": token, "user_name": "wengan", "password": "x"},
        files={"junk": ("junk.bin", b"0" * 2_000_000)},
    )
    assert response.status_code == 413 and "提交的内容超过" in response.text


def test_a_body_the_site_cannot_read_is_refused_in_chinese(client_for):
    client = client_for("wengan")
    response = client.post("/logout", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=y"})
    assert response.status_code == 400
    message = re.search(r"<p>(.*?)</p>", response.text).group(1)
    assert re.search("[\u4e00-\u9fff]", message) and not re.search("[A-Za-z]{4,}", message)
