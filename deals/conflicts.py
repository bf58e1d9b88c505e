"""Channel-conflict detection and resolution.

Detection runs on every submission (and on a direct deal's creation) against named direct
accounts, open direct deals, and other partners' open registrations for the same customer with an
overlapping product line. "Same customer" is decided by deals.matching.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from accounts.audit import record_audit
from accounts.models import User, utcnow
from app import db
from deals.matching import LATIN_FUZZY_MIN_LENGTH, compare_customer_names, name_search_key
from deals.models import (
    APPROVED,
    CHANNEL,
    DIRECT,
    DIRECT_DEAL,
    MORE_INFO,
    NAMED_ACCOUNT,
    OPEN_STATUSES,
    PARTNER_OVERLAP,
    REJECTED,
    RESOLUTIONS,
    SUBMITTED,
    Conflict,
    ConflictComment,
    Deal,
    DealLine,
    EndCustomer,
    english,
)
from notifications import services as notices

LATIN_KEY_RE = re.compile(r"[a-z0-9]+")


class ConflictError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _prefix_range(column, prefix: str):
    """column starts with prefix, as an index range (LIKE 'x%' uses no index on every setup)."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


def same_customers(customer: EndCustomer) -> list[tuple[EndCustomer, dict]]:
    """Customers that are the same as ``customer`` (itself included), each with its evidence.

    Candidates come from the database through indexes, never a scan: the same credit code; the
    same normalised name key in the same province (or none: names placed in different provinces
    are never the same); and for long Latin names, one letter apart at most, the keys sharing
    their first or last half. Each candidate is then judged by compare_customer_names.
    """
    key = customer.name_key or name_search_key(customer.name)
    identity = [EndCustomer.id == customer.id]
    if customer.uscc:
        identity.append(EndCustomer.uscc == customer.uscc)
    candidates = {c.id: c for c in db.session.scalars(select(EndCustomer).where(or_(*identity)))}
    if key:
        by_key = [EndCustomer.name_key == key]
        region = customer.name_region
        if region:
            by_key.append(EndCustomer.name_region.in_(("", region)))
        conditions = [and_(*by_key)]
        if LATIN_KEY_RE.fullmatch(key) and len(key) >= LATIN_FUZZY_MIN_LENGTH:
            half = len(key) // 2
            length = func.length(EndCustomer.name_key).between(len(key) - 1, len(key) + 1)
            conditions.append(and_(_prefix_range(EndCustomer.name_key, key[:half]), length))
            conditions.append(
                and_(_prefix_range(EndCustomer.name_key_reversed, key[::-1][:half]), length)
            )
        for candidate in db.session.scalars(select(EndCustomer).where(or_(*conditions))):
            candidates.setdefault(candidate.id, candidate)
    matches = []
    for candidate in candidates.values():
        if candidate.id == customer.id:
            matches.append((candidate, {"rule": "same_record", "same": True, "score": 100.0}))
            continue
        verdict = compare_customer_names(
            customer.name, candidate.name, customer.uscc, candidate.uscc
        )
        if verdict.same:
            matches.append((candidate, verdict.evidence()))
    return matches


def _product_lines(deal: Deal) -> set[str]:
    return {line.product.product_line for line in deal.lines}


def _evidence(deal: Deal, customer: EndCustomer, match: dict, **extra) -> dict:
    return {
        "customer_a": deal.customer.name,
        "customer_b": customer.name,
        "uscc_a": deal.customer.uscc,
        "uscc_b": customer.uscc,
        "match": match,
        **extra,
    }


def _already_recorded(deal: Deal, other_deal_id: int | None, account_id: int | None) -> bool:
    stmt = select(Conflict.id).where(Conflict.status == "open")
    if other_deal_id is not None:
        stmt = stmt.where(
            or_(
                (Conflict.deal_id == deal.id) & (Conflict.other_deal_id == other_deal_id),
                (Conflict.deal_id == other_deal_id) & (Conflict.other_deal_id == deal.id),
            )
        )
    else:
        stmt = stmt.where(Conflict.deal_id == deal.id, Conflict.account_id == account_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _open_deals_at(customer_ids: list[int], kind: str, exclude_deal: Deal) -> list[Deal]:
    stmt = (
        select(Deal)
        .where(
            Deal.customer_id.in_(customer_ids),
            Deal.kind == kind,
            Deal.status.in_(OPEN_STATUSES),
            Deal.id != exclude_deal.id,
        )
        .options(selectinload(Deal.lines).selectinload(DealLine.product))
    )
    now = utcnow()
    return [d for d in db.session.scalars(stmt) if d.effective_status(now) in OPEN_STATUSES]


def detect_conflicts(deal: Deal) -> list[Conflict]:
    """Record the conflicts of a just-submitted registration or a just-created direct deal."""
    matches = same_customers(deal.customer)
    by_id = {customer.id: (customer, evidence) for customer, evidence in matches}
    ids = list(by_id)
    found: list[Conflict] = []

    def add(kind, channel_deal, other_deal, account, evidence):
        other_id = other_deal.id if other_deal else None
        account_id = account.id if account else None
        if _already_recorded(channel_deal, other_id, account_id):
            return
        conflict = Conflict(
            kind=kind,
            deal=channel_deal,
            other_deal=other_deal,
            account=account,
            evidence=evidence,
        )
        db.session.add(conflict)
        found.append(conflict)

    if deal.kind == CHANNEL:
        for customer, evidence in matches:
            if customer.coverage == "direct":
                add(
                    NAMED_ACCOUNT,
                    deal,
                    None,
                    customer,
                    _evidence(deal, customer, evidence, owner_rep_id=customer.owner_rep_id),
                )
        for direct in _open_deals_at(ids, DIRECT, deal):
            customer, evidence = by_id[direct.customer_id]
            add(DIRECT_DEAL, deal, direct, None, _evidence(deal, customer, evidence))
        lines = _product_lines(deal)
        for other in _open_deals_at(ids, CHANNEL, deal):
            if other.partner_id == deal.partner_id:
                continue
            overlap = lines & _product_lines(other)
            if not overlap:
                continue
            customer, evidence = by_id[other.customer_id]
            # The earlier registration is the one whose protection counts; this one is flagged.
            add(
                PARTNER_OVERLAP,
                deal,
                other,
                None,
                _evidence(
                    deal,
                    customer,
                    evidence,
                    product_lines=sorted(overlap),
                    other_status=other.effective_status(),
                ),
            )
    else:
        for channel in _open_deals_at(ids, CHANNEL, deal):
            customer, evidence = by_id[channel.customer_id]
            add(DIRECT_DEAL, channel, deal, None, _evidence(channel, customer, evidence))
    db.session.flush()
    for conflict in found:
        record_audit(
            "conflict_opened",
            conflict,
            after={"kind": conflict.kind, "deal_id": conflict.deal_id},
            summary=f"{conflict.kind} on deal {conflict.deal_id}",
        )
    for conflict in found:  # the channel deal's manager decides it
        notices.notify(
            [conflict.deal.partner.owner_id] if conflict.deal.partner else [],
            notices.CONFLICT_OPENED,
            deal_id=conflict.deal_id,
            conflict_id=conflict.id,
            params={
                "project": conflict.deal.project_name,
                "partner": getattr(conflict.deal.partner, "name", ""),
            },
        )
    return found


def resolve_conflict(conflict: Conflict, user: User, resolution: str, note: str = "") -> Conflict:
    """A person's decision on a conflict; the registration follows it.

    channel_keeps: the registration may go on to approval. direct_keeps and rejected: the
    registration is rejected with the reason. fulfilment_partner: the partner is recorded as
    fulfilment partner and the registration may go on to approval.
    """
    from deals.workflow import record_deal_event

    if resolution not in RESOLUTIONS:
        raise ConflictError("resolution", _("Choose how the conflict is resolved."))
    if conflict.status != "open":
        raise ConflictError("resolution", _("This conflict has already been resolved."))
    conflict.status = "resolved"
    conflict.resolution = resolution
    conflict.resolution_note = note.strip()
    conflict.resolved_by_id = user.id
    conflict.resolved_at = utcnow()
    deal = conflict.deal
    if resolution in ("direct_keeps", "rejected") and deal.status in (
        SUBMITTED,
        MORE_INFO,
        APPROVED,
    ):
        before = deal.status
        deal.status = REJECTED
        deal.decided_at = utcnow()
        record_deal_event(deal, user, "rejected", before, note or english(RESOLUTIONS[resolution]))
        notices.notify_partner(
            deal.partner_id,
            notices.DEAL_REJECTED,
            deal_id=deal.id,
            params={"project": deal.project_name, "note": note.strip()},
        )
    elif resolution == "fulfilment_partner":
        deal.fulfilment_partner = True
    db.session.flush()
    record_audit(
        "conflict_resolved",
        conflict,
        before={"status": "open"},
        after={"status": "resolved", "resolution": resolution, "note": conflict.resolution_note},
        summary=f"{conflict.kind} on deal {conflict.deal_id}: {resolution}",
    )
    return conflict


def add_comment(conflict: Conflict, user: User, body: str) -> ConflictComment:
    if not body.strip():
        raise ConflictError("body", _("Write a comment."))
    comment = ConflictComment(conflict=conflict, user_id=user.id, body=body.strip())
    db.session.add(comment)
    db.session.flush()
    return comment


def conflicts_visible_to(user: User):
    """A select of the conflicts a vendor user may see (reps: those touching their own)."""
    from accounts.models import ADMIN, FINANCE, MANAGER, REP
    from partners.models import Partner

    stmt = select(Conflict)
    if user.role in (ADMIN, FINANCE):
        return stmt
    if user.role == MANAGER:
        owned = select(Partner.id).where(Partner.owner_id == user.id)
        return stmt.join(Conflict.deal).where(Deal.partner_id.in_(owned))
    if user.role == REP:
        rep_deals = select(Deal.id).where(Deal.created_by_id == user.id, Deal.kind == DIRECT)
        rep_accounts = select(EndCustomer.id).where(EndCustomer.owner_rep_id == user.id)
        return stmt.where(
            or_(Conflict.other_deal_id.in_(rep_deals), Conflict.account_id.in_(rep_accounts))
        )
    return stmt.where(False)
