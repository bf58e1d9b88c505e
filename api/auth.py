"""Bearer-token authentication for the JSON API.

API views never look at the session cookie: a browser session does not open the API (the API is
exempt from CSRF, which is only safe because nothing a browser sends by itself is accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from accounts.models import User
from accounts.tokens import user_for_token
from app import db, login_manager


def _error(status: int, message: str, **headers):
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_api_user() -> User:
    """The user whose token authenticated this API request (inside an api_roles_required view)."""
    return g.api_user


def api_roles_required(*roles: str) -> Callable:
    """Authenticate the Bearer token, then allow only ``roles``.

    401 with ``WWW-Authenticate: Bearer`` when the token is missing, unknown, revoked or its
    user is deactivated; 403 when the user's role may not use the view. The allowed roles are
    kept on the view, like role_required, for the access-matrix test.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = bearer_token()
            if token is None:
                return _error(
                    401,
                    "Send an API token: Authorization: Bearer <token>.",
                    **{"WWW-Authenticate": 'Bearer realm="api"'},
                )
            user = user_for_token(token)
            if user is None:
                db.session.rollback()
                return _error(
                    401,
                    "The API token is not valid (unknown or revoked).",
                    **{"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
                )
            db.session.commit()  # the token's last-used time; the view has its own transaction
            g.api_user = user
            # Flask-Login's current_user for this request only (nothing goes into the session):
            # services that record who acted (accounts.audit.record_audit) read current_user.
            login_manager._update_request_context_with_user(user)
            if user.role not in roles:
                return _error(403, "Your role may not use this part of the API.")
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator
