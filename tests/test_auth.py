"""Logging in and out, safe redirects, the login rate limit, hashed passwords."""

import pytest

from tests.conftest import PASSWORD, csrf_from, login


def test_login_with_right_password_reaches_home(client, make_user):
    user = make_user("manager", name="王经理")
    response = login(client, user.email)
    assert response.status_code == 302
    home = client.get("/")
    assert "王经理" in home.text
    assert "Partners" in home.text


def test_wrong_password_is_refused_and_email_is_kept(client, make_user):
    user = make_user("finance")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": "wrong", "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 200
    assert "Email or password is not correct." in response.text
    assert f'value="{user.email}"' in response.text
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(client, make_user, app):
    from app import db

    user = make_user("manager")
    user.active = False
    db.session.commit()
    response = login(client, user.email)
    assert response.status_code == 200
    assert "Email or password is not correct." in response.text


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user("manager")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_password_is_stored_hashed(make_user):
    user = make_user("admin")
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_next_redirects_only_within_the_site(client, make_user):
    user = make_user("manager")
    response = login(client, user.email, next_url="/partners")
    assert response.headers["Location"] == "/partners"


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/", "//evil.example.com/x", "/\\evil.example.com"]
)
def test_next_to_another_site_is_ignored(client, make_user, target):
    user = make_user("manager")
    response = login(client, user.email, next_url=target)
    assert response.headers["Location"] == "/"


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/partners")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_ends_the_session(client, login_as):
    login_as("manager")
    page = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert client.get("/partners").status_code == 302


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}]
)
def test_repeated_failed_logins_are_rate_limited(client, make_user, app_config):
    user = make_user("manager")
    responses = []
    for _ in range(5):
        page = client.get("/login")
        responses.append(
            client.post(
                "/login",
                data={"email": user.email, "password": "bad", "csrf_token": csrf_from(page.text)},
            )
        )
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert "Too many attempts" in responses[-1].text
    # Even the right password waits until the minute is over.
    assert login(client, user.email).status_code == 429
