"""Signing in to the site: sessions, CSRF, throttling, redirects."""

from __future__ import annotations

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
