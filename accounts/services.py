"""User administration rules."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.audit import record_audit, snapshot
from accounts.models import PARTNER, ROLES, User
from app import db

USER_AUDIT_FIELDS = ("email", "name", "role", "partner_id", "active")


class UserError(ValueError):
    """A user change that breaks a rule; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _check(email: str, role: str, partner_id: int | None, user_id: int | None) -> None:
    if role not in ROLES:
        raise UserError("role", _("Unknown role %(role)s.", role=role))
    if role == PARTNER and not partner_id:
        raise UserError("partner_id", _("A partner user must belong to a partner."))
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if existing is not None and existing.id != user_id:
        raise UserError("email", _("A user with this email already exists."))


def create_user(
    *, email: str, name: str, role: str, password: str, partner_id: int | None = None
) -> User:
    """Add a user with a hashed password; raises UserError on a broken rule."""
    email = email.strip().lower()
    partner_id = partner_id if role == PARTNER else None
    _check(email, role, partner_id, None)
    if not password or len(password) < 8:
        raise UserError("password", _("At least 8 characters."))
    user = User(email=email, name=name.strip(), role=role, partner_id=partner_id, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit("create", user, after=snapshot(user, USER_AUDIT_FIELDS), summary=email)
    return user


def update_user(
    user: User,
    *,
    email: str,
    name: str,
    role: str,
    partner_id: int | None,
    active: bool,
    password: str | None = None,
) -> User:
    """Change a user's details; a new password is hashed, never logged."""
    email = email.strip().lower()
    partner_id = partner_id if role == PARTNER else None
    _check(email, role, partner_id, user.id)
    before = snapshot(user, USER_AUDIT_FIELDS)
    user.email, user.name, user.role = email, name.strip(), role
    user.partner_id, user.active = partner_id, active
    if password:
        user.set_password(password)
    db.session.flush()
    after = snapshot(user, USER_AUDIT_FIELDS)
    if password:
        before["password"], after["password"] = "(unchanged)", "(changed)"
    record_audit("update", user, before=before, after=after, summary=email)
    return user
