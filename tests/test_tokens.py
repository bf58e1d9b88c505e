"""API tokens: created on the command line or the profile page, stored hashed, revocable."""

import hashlib

from sqlalchemy import func, select

from accounts.models import ApiToken, AuditLog
from app import db
from tests.conftest import csrf_from


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def create_on_profile(client, name):
    """Create a token through the profile page's form (CSRF token from the page)."""
    page = client.get("/profile")
    assert page.status_code == 200
    return client.post("/profile/tokens", data={"csrf_token": csrf_from(page.text), "name": name})


def revoke_on_profile(client, token_id):
    page = client.get("/profile")
    return client.post(
        f"/profile/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page.text)}
    )


def shown_token(html: str) -> str:
    marker = 'id="new-token-value">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)]


# --- command line ----------------------------------------------------------------------


def test_cli_prints_only_a_working_token_on_its_first_line(runner, client, make_user):
    user = make_user("finance", email="ops@test.example.com")
    result = runner.invoke(args=["users", "token", "OPS@test.example.com", "--name", "ERP"])
    assert result.exit_code == 0, result.output
    plain = result.stdout.splitlines()[0]
    assert len(plain) >= 40 and " " not in plain
    response = client.get("/api/v1/me", headers=bearer(plain))
    assert response.status_code == 200
    assert response.json == {"email": user.email, "role": "finance", "partner_id": None}
    token = db.session.scalar(select(ApiToken))
    assert token.name == "ERP" and token.user_id == user.id


def test_only_the_hash_of_a_token_is_stored(runner, make_user):
    make_user("admin", email="root@test.example.com")
    plain = runner.invoke(args=["users", "token", "root@test.example.com"]).stdout.splitlines()[0]
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain[:8]
    stored = [token.name, token.token_hash, token.prefix]
    assert all(plain not in value for value in stored)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "token_created"))
    assert entry is not None and plain not in str(entry.after) + entry.summary


def test_cli_refuses_an_unknown_email(runner):
    result = runner.invoke(args=["users", "token", "nobody@test.example.com"])
    assert result.exit_code != 0
    assert "no user with email" in result.output
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_cli_refuses_a_deactivated_user(runner, make_user):
    user = make_user("rep")
    user.active = False
    db.session.commit()
    result = runner.invoke(args=["users", "token", user.email])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


# --- profile page ------------------------------------------------------------------------


def test_profile_creates_a_token_shown_once(client, login_as):
    user = login_as("partner")
    response = create_on_profile(client, "Our CRM")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    plain = shown_token(response.text)
    assert "Copy it now" in response.text
    me = client.get("/api/v1/me", headers=bearer(plain))
    assert me.status_code == 200 and me.json["partner_id"] == user.partner_id
    token = db.session.scalar(select(ApiToken))
    assert token.user_id == user.id and token.name == "Our CRM"
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    again = client.get("/profile").text
    assert plain not in again
    assert "Our CRM" in again and f"{plain[:8]}…" in again


def test_profile_create_needs_a_name(client, login_as):
    login_as("manager")
    response = create_on_profile(client, "   ")
    assert response.status_code == 200
    assert "Give the token a name" in response.text
    assert 'id="new-token"' not in response.text
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_profile_create_without_csrf_is_refused(client, login_as):
    login_as("rep")
    assert client.post("/profile/tokens", data={"name": "x"}).status_code == 400
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_revoking_through_the_profile_closes_the_api(client, login_as):
    login_as("rep")
    plain = shown_token(create_on_profile(client, "Script").text)
    token = db.session.scalar(select(ApiToken))
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    response = revoke_on_profile(client, token.id)
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile")
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401
    db.session.refresh(token)
    assert token.revoked_at is not None
    page = client.get("/profile").text
    assert "revoked" in page and "Revoke token Script" not in page
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["token_created", "token_revoked"]


def test_cannot_revoke_someone_elses_token(client, login_as, make_user):
    from accounts.tokens import create_token

    other = make_user("finance")
    token, plain = create_token(other, "Theirs")
    db.session.commit()
    login_as("admin")  # even an admin revokes only its own tokens on the profile page
    assert revoke_on_profile(client, token.id).status_code == 404
    assert revoke_on_profile(client, 999999).status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200


def test_profile_shows_when_a_token_was_last_used(client, login_as):
    login_as("finance")
    plain = shown_token(create_on_profile(client, "BI").text)
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(plain))
    db.session.refresh(token)
    assert token.last_used_at is not None
    assert "never" not in client.get("/profile").text


def test_token_of_a_deactivated_user_is_refused(client, make_user):
    from accounts.tokens import create_token

    user = make_user("manager")
    _token, plain = create_token(user, "Old")
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401
