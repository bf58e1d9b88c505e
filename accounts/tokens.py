"""API tokens: created for a user, shown once, stored only as a SHA-256 hash, revocable.

A token is 32 random bytes (``secrets.token_urlsafe``), so a plain hash is enough: there is
nothing to guess that a slow hash would protect, and a lookup by hash is a unique-index query.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select

from accounts.audit import record_audit
from accounts.models import ApiToken, User, utcnow
from app import db

TOKEN_NAME_MAX = 80
PREFIX_LENGTH = 8
# last_used_at is a hint for the user, not an audit trail: writing it at most once a minute
# keeps a busy API client from turning every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token change that breaks a rule; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the record and the plain token (shown once, never kept)."""
    name = (name or "").strip()
    if not name:
        raise TokenError("name", _("Give the token a name, e.g. the system that will use it."))
    if len(name) > TOKEN_NAME_MAX:
        raise TokenError("name", _("At most %(count)s characters.", count=TOKEN_NAME_MAX))
    if not user.active:
        raise TokenError("user", _("The user is deactivated."))
    plain = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=hash_token(plain), prefix=plain[:PREFIX_LENGTH]
    )
    db.session.add(token)
    db.session.flush()
    record_audit(
        "token_created",
        token,
        after={"user_id": user.id, "name": name, "prefix": token.prefix},
        summary=f"API token {token.prefix}… ({name}) for {user.email}",
    )
    return token, plain


def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke a token for good (a revoked token is kept, so the list shows what was revoked)."""
    if token.revoked_at is not None:
        return token
    token.revoked_at = utcnow()
    db.session.flush()
    record_audit(
        "token_revoked",
        token,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at.isoformat()},
        summary=f"API token {token.prefix}… ({token.name}) of {token.user.email}",
    )
    return token


def user_for_token(plain: str | None) -> User | None:
    """The active user holding this unrevoked token, or None; notes when the token was used.

    The caller commits (the last-used time is only written once a minute per token).
    """
    if not plain:
        return None
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.user


def tokens_of(user: User) -> Select:
    """A select of the user's tokens: unrevoked first, newest first (paginate or scalars it)."""
    return (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )
