"""Channel-conflict detection and resolution.

Detection runs on every submission (and on a direct deal's creation) against named direct
accounts, open direct deals, and other partners' open registrations for the same customer with an
overlapping product line. "Same customer" is decided by customers.matching.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from accounts.audit import record_audit
from accounts.models import User, utcnow
from app import db
from customers.grams import gram_candidates
from customers.identity import lock_customer_identity
from customers.matching import LATIN_FUZZY_MIN_LENGTH, compare_customer_names, name_search_key
from customers.models import EndCustomer
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
    DealSuggestion,
    english,
)
from deals.suggestions import MAX_SUGGESTIONS, claim_suggestion
from notifications import services as notices
from pricing.models import Product

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


def _open_overlap_on(deal: Deal) -> Conflict | None:
    return db.session.scalar(
        select(Conflict)
        .where(
            Conflict.status == "open",
            Conflict.kind == PARTNER_OVERLAP,
            Conflict.deal_id == deal.id,
        )
        .limit(1)
    )


def _open_deals_at(
    customer_ids: list[int],
    kind: str | None,
    exclude_deal: Deal,
    prefetched: list[Deal] | None = None,
) -> list[Deal]:
    """Open deals (of ``kind``, or both kinds) at these customers, other than ``exclude_deal``,
    with their lines; from ``prefetched`` when the caller loaded them already."""
    if not customer_ids:
        return []
    if prefetched is not None:
        wanted = set(customer_ids)
        return [
            d for d in prefetched if d.customer_id in wanted and (kind is None or d.kind == kind)
        ]
    stmt = (
        select(Deal)
        .where(
            Deal.customer_id.in_(customer_ids),
            Deal.status.in_(OPEN_STATUSES),
            Deal.id != exclude_deal.id,
        )
        .options(selectinload(Deal.lines).selectinload(DealLine.product))
    )
    if kind is not None:
        stmt = stmt.where(Deal.kind == kind)
    now = utcnow()
    return [d for d in db.session.scalars(stmt) if d.effective_status(now) in OPEN_STATUSES]


def registered_at(deal: Deal):
    """When a registration came in, for first registrant first: its first submission (a
    resubmission keeps its place), else its last, else its creation."""
    return deal.first_submitted_at or deal.submitted_at or deal.created_at


#: registered_at in SQL, for queries over many deals.
REGISTERED_AT_SQL = func.coalesce(Deal.first_submitted_at, Deal.submitted_at, Deal.created_at)


def registered_before(earlier: Deal, later: Deal) -> bool:
    """First registrant first: ``earlier`` registered the customer before ``later`` (the lower
    id breaks a tie)."""
    return (registered_at(earlier), earlier.id) < (registered_at(later), later.id)


def customer_matches(
    customer: EndCustomer,
) -> tuple[list[tuple[EndCustomer, dict]], list[tuple[EndCustomer, dict]]]:
    """The customers that are ``customer`` (itself included) and those that may be, each with
    the matcher's evidence; candidates through indexes only (the name key, the credit code,
    the gram index)."""
    same = same_customers(customer)
    seen = {c.id for c, _ in same} | {customer.id}
    possible = []
    for candidate in gram_candidates(
        customer.name, exclude_id=customer.id, region=customer.region or ""
    ):
        if candidate.id in seen:
            continue
        seen.add(candidate.id)
        verdict = compare_customer_names(
            customer.name, candidate.name, customer.uscc, candidate.uscc
        )
        if verdict.same:
            same.append((candidate, verdict.evidence()))
        elif verdict.possible:
            possible.append((candidate, verdict.evidence()))
    # Best first: the customer's own region (when the registration gives one), then the score.
    region = customer.region or ""
    possible.sort(
        key=lambda pair: (
            not (region and pair[0].region == region),
            -pair[1]["score"],
            pair[0].name,
            pair[0].id,
        )
    )
    return same, possible


def _conflicts_at(
    deal: Deal,
    matches: list[tuple[EndCustomer, dict]],
    prefetched: list[Deal] | None = None,
    **extra,
) -> list[Conflict]:
    """Record the conflicts of ``deal`` with what stands at these customers (not yet recorded).

    A channel registration: every named direct account among them, every open direct deal at
    them, and ONE conflict with the other partners' open registrations of overlapping product
    lines that were registered before it (the first registrant's registration is never held
    by a later one; the later one lists them all). A direct deal: one conflict on each open
    channel registration at them (a person resolves it before that registration is approved).
    """
    by_id = {customer.id: (customer, evidence) for customer, evidence in matches}
    ids = list(by_id)
    found: list[Conflict] = []

    def add(kind, channel_deal, other_deal, account, evidence):
        other_id = other_deal.id if other_deal else None
        account_id = account.id if account else None
        if _already_recorded(channel_deal, other_id, account_id):
            return
        conflict = Conflict(
            kind=kind, deal=channel_deal, other_deal=other_deal, account=account, evidence=evidence
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
                    _evidence(
                        deal, customer, evidence, owner_rep_id=customer.owner_rep_id, **extra
                    ),
                )
        for direct in _open_deals_at(ids, DIRECT, deal, prefetched):
            customer, evidence = by_id[direct.customer_id]
            add(DIRECT_DEAL, deal, direct, None, _evidence(deal, customer, evidence, **extra))
        earlier = _earlier_overlaps(deal, ids, prefetched)
        if earlier and _open_overlap_on(deal) is None:
            first = earlier[0]
            customer, evidence = by_id[first.customer_id]
            add(
                PARTNER_OVERLAP,
                deal,
                first,
                None,
                _evidence(
                    deal,
                    customer,
                    evidence,
                    product_lines=sorted(_product_lines(deal) & _product_lines(first)),
                    other_status=first.effective_status(),
                    others=[
                        {
                            "deal_id": other.id,
                            "customer": by_id[other.customer_id][0].name,
                            "product_lines": sorted(_product_lines(deal) & _product_lines(other)),
                            "status": other.effective_status(),
                        }
                        for other in earlier
                    ],
                    **extra,
                ),
            )
    else:
        for channel in _open_deals_at(ids, CHANNEL, deal, prefetched):
            customer, evidence = by_id[channel.customer_id]
            add(DIRECT_DEAL, channel, deal, None, _evidence(channel, customer, evidence, **extra))
    db.session.flush()
    return found


def _earlier_overlaps(
    deal: Deal, customer_ids: list[int], prefetched: list[Deal] | None = None
) -> list[Deal]:
    """Other partners' open registrations at these customers, with a product line in common with
    ``deal``, registered before it: first registrant first."""
    lines = _product_lines(deal)
    others = [
        other
        for other in _open_deals_at(customer_ids, CHANNEL, deal, prefetched)
        if other.partner_id != deal.partner_id
        and lines & _product_lines(other)
        and registered_before(other, deal)
    ]
    return sorted(others, key=lambda d: (registered_at(d), d.id))


def _announce(found: list[Conflict]) -> None:
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


def _customers_that_matter(deal: Deal, customer_ids: list[int]) -> set[int]:
    """Of these customers, those that would put ``deal`` in conflict were they its customer: an
    open direct deal there, or another partner's open registration with a product line in
    common registered before it (named direct accounts are known from the customer itself).
    One query answering with customer ids only: a short name can match customers with hundreds
    of deals, which are not loaded."""
    if not customer_ids:
        return set()
    lines = sorted(_product_lines(deal))
    mine = registered_at(deal)
    earlier_overlap = and_(
        Deal.kind == CHANNEL,
        Deal.partner_id != deal.partner_id,
        or_(REGISTERED_AT_SQL < mine, and_(REGISTERED_AT_SQL == mine, Deal.id < deal.id)),
        # correlated: read the lines of the few deals at these customers, not every line
        exists()
        .where(DealLine.deal_id == Deal.id, Product.id == DealLine.product_id)
        .where(Product.product_line.in_(lines)),
    )
    return set(
        db.session.scalars(
            select(Deal.customer_id)
            .where(
                Deal.customer_id.in_(customer_ids),
                Deal.id != deal.id,
                Deal.open_sql(utcnow()),
                or_(Deal.kind == DIRECT, earlier_overlap),
            )
            .distinct()
        )
    )


def _suggest(deal: Deal, possible: list[tuple[EndCustomer, dict]]) -> list[DealSuggestion]:
    """Keep the best possible matches that matter as suggestions for the deal's manager; a
    customer already suggested for this deal (decided or not) is not suggested again."""
    if not possible:
        return []
    known = set(
        db.session.scalars(
            select(DealSuggestion.customer_id).where(DealSuggestion.deal_id == deal.id)
        )
    )
    fresh = [(c, evidence) for c, evidence in possible if c.id not in known]
    matter = _customers_that_matter(deal, [c.id for c, _ in fresh if c.coverage != "direct"])
    made = []
    for customer, evidence in fresh:
        if len(made) >= MAX_SUGGESTIONS:
            break
        if customer.coverage != "direct" and customer.id not in matter:
            continue
        suggestion = DealSuggestion(
            deal_id=deal.id,
            customer_id=customer.id,
            rule=evidence["rule"][:40],
            score=Decimal(str(round(evidence["score"], 1))),
            evidence=_evidence(deal, customer, evidence),
        )
        db.session.add(suggestion)
        made.append(suggestion)
    if made:
        db.session.flush()
    return made


def detect_conflicts(deal: Deal) -> list[Conflict]:
    """Record the conflicts of a just-submitted registration or a just-created direct deal, and
    the possible matches a manager should look at.

    Takes the customer's lock first (customers.identity), so of two submissions for one customer
    at the same moment the second always sees the first.
    """
    lock_customer_identity(deal.customer.name, deal.customer.uscc)
    same, possible = customer_matches(deal.customer)
    # The open deals at the customers it names, loaded once (both kinds).
    prefetched = _open_deals_at([c.id for c, _ in same], None, deal)
    found = _conflicts_at(deal, same, prefetched)
    if deal.kind == CHANNEL:
        _suggest(deal, possible)
    _announce(found)
    return found


def convert_suggestion(suggestion: DealSuggestion, user: User, note: str = "") -> list[Conflict]:
    """A manager confirms that the suggested customer is the deal's: the conflicts follow as if
    the matcher had said ``same`` (evidence: the matcher's, and who confirmed it)."""
    claim_suggestion(suggestion, user, "converted")
    deal = suggestion.deal
    confirmed = {"confirmed_by": user.email, "confirmed_at": utcnow().isoformat()}
    match = dict(suggestion.evidence.get("match", {}))
    found = _conflicts_at(deal, [(suggestion.customer, match)], **confirmed)
    # An overlap already on the deal now also stands for this customer.
    conflict = found[0] if found else _open_overlap_on(deal)
    if conflict is None:
        raise ConflictError(
            "suggestion",
            _("Nothing at that customer conflicts with this deal any more: dismiss it instead."),
        )
    suggestion.conflict_id = conflict.id
    db.session.flush()
    record_audit(
        "suggestion_converted",
        suggestion,
        before={"status": "open"},
        after={"status": "converted", "conflict_id": suggestion.conflict_id, "note": note.strip()},
        summary=f"deal {deal.id}: {suggestion.customer.name} is the same customer",
    )
    _announce(found)
    return found


def protected_by(deal: Deal) -> Deal | None:
    """The earlier registration whose protection holds the customer this later registration
    names (an approved one among those its open partner overlap lists), or None."""
    conflict = _open_overlap_on(deal)
    if conflict is None:
        return None
    ids = [o["deal_id"] for o in conflict.evidence.get("others", [])] or [conflict.other_deal_id]
    now = utcnow()
    approved = db.session.scalars(
        select(Deal)
        .where(Deal.id.in_(ids), Deal.status == APPROVED, Deal.protection_expires_at > now)
        .order_by(Deal.protection_expires_at.desc())
    ).first()
    return approved


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
