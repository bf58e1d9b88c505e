"""Audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import inspect

from accounts.models import ROLES, AuditLog
from app import db

# What the audit page shows for the action and record codes stored in the log.
ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "commitment_recorded": _l("stock commitment recorded"),
    "stock_order_recorded": _l("stock order recorded"),
    "tier_changed": _l("tier changed"),
    "setting_changed": _l("threshold changed"),
    "export": _l("exported"),
    "download": _l("downloaded"),
    "import": _l("imported"),
    "import_refused": _l("import refused"),
    "conflict_opened": _l("conflict opened"),
    "conflict_resolved": _l("conflict resolved"),
}
ENTITY_LABELS = {
    "User": _l("User"),
    "ApiToken": _l("API token"),
    "Partner": _l("Partner"),
    "TierPolicy": _l("Tier policy"),
    "StockCommitment": _l("Stock commitment"),
    "StockOrder": _l("Stock order"),
    "Setting": _l("Threshold"),
    "Product": _l("Product"),
    "PriceList": _l("Price list"),
    "EndCustomer": _l("End customer"),
    "Deal": _l("Deal"),
    "Conflict": _l("Conflict"),
    "Statement": _l("Statement"),
    "Import": _l("Import"),
}

# Field names of the before/after values, shown in the reader's language (unknown ones as stored).
FIELD_LABELS = {
    "name": _l("Name"),
    "email": _l("Email"),
    "role": _l("Role"),
    "active": _l("Active"),
    "language": _l("Language"),
    "user_id": _l("User"),
    "partner_id": _l("Partner"),
    "owner_id": _l("Channel manager"),
    "owner_rep_id": _l("Direct sales rep"),
    "deal_id": _l("Deal"),
    "job_id": _l("Export job"),
    "status": _l("Status"),
    "kind": _l("Kind"),
    "tier": _l("Tier"),
    "uscc": _l("Unified social credit code"),
    "region": _l("Region"),
    "industry": _l("Industry"),
    "segment": _l("Segment"),
    "coverage": _l("Coverage"),
    "partner_type": _l("Partner type"),
    "agreement_start": _l("Agreement start"),
    "agreement_end": _l("Agreement end"),
    "notes": _l("Notes"),
    "note": _l("Note"),
    "contacts": _l("Contacts"),
    "discount_rate": _l("Tier discount"),
    "min_commitment": _l("Minimum commitment"),
    "protection_days": _l("Registration protection"),
    "approval_limit": _l("Approval limit"),
    "rebate_rate": _l("Rebate"),
    "period": _l("Period"),
    "amount": _l("Amount"),
    "total": _l("Total"),
    "lines": _l("Lines"),
    "line": _l("Line"),
    "number": _l("Order number"),
    "price": _l("Price"),
    "special_status": _l("Special price"),
    "resolution": _l("Resolution"),
    "reason": _l("Reason"),
    "scope": _l("Scope"),
    "from": _l("From"),
    "to": _l("To"),
    "lang": _l("Language"),
    "file": _l("File"),
    "rows": _l("Rows"),
    "bad_rows": _l("Rows to fix"),
    "created": _l("Created"),
    "prefix": _l("Prefix"),
    "revoked_at": _l("Revoked"),
    "value": _l("Value"),
    "sku": _l("SKU"),
    "product_line": _l("Product line"),
    "list_price": _l("List price"),
    "floor_price": _l("Floor price"),
}
# Stored codes of some fields (a deal's status, a partner's tier...), by field name: each
# package registers its own with register_audit_labels, so accounts imports none of them.
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "role": dict(ROLES),
    "active": {True: _l("yes"), False: _l("no")},
}


def register_audit_labels(
    actions: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Let a package name its own audit actions, fields and stored codes on the audit pages."""
    ACTION_LABELS.update(actions or {})
    FIELD_LABELS.update(fields or {})
    for field_name, labels in (values or {}).items():
        VALUE_LABELS.setdefault(field_name, {}).update(labels)


def english(value: Any) -> Any:
    """Lazy (translatable) strings as their English text, in dicts and lists too.

    The log is read in the reader's language, not the writer's: it keeps the English source.
    """
    if isinstance(value, LazyString):
        with force_locale("en"):
            return str(value)
    if isinstance(value, dict):
        return {k: english(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [english(v) for v in value]
    return value


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
        summary=english(summary)[:300],
        before=english(before),
        after=english(after),
        user_id=user_id,
    )
    db.session.add(entry)
    return entry
