"""Audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_login import current_user
from sqlalchemy import inspect

from accounts.models import AuditLog
from app import db


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict:
    """The column values of a model instance as JSON-safe plain values."""
    if fields is None:
        fields = [c.key for c in inspect(obj).mapper.column_attrs]
    return {name: _plain(getattr(obj, name)) for name in fields}


def record_audit(
    action: str,
    entity: Any,
    *,
    before: dict | None = None,
    after: dict | None = None,
    summary: str = "",
    user_id: int | None = None,
) -> AuditLog:
    """Add an audit entry in the current transaction (the caller commits)."""
    if user_id is None and current_user and current_user.is_authenticated:
        user_id = current_user.id
    if before is not None and after is not None:
        # Keep only what changed, so the log reads as a diff.
        changed = {k for k in after if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    entry = AuditLog(
        action=action,
        entity_type=type(entity).__name__ if not isinstance(entity, str) else entity,
        entity_id=getattr(entity, "id", None),
        summary=summary[:300],
        before=before,
        after=after,
        user_id=user_id,
    )
    db.session.add(entry)
    return entry
