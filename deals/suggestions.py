"""Customers a registration may name although the names differ: the ``possible`` verdict.

Candidates come from the gram index of customer names (customers.grams), so that a short name, a
shortened name or a one-character typo finds its customer through an index and never a scan;
the matcher (customers.matching) judges each candidate (deals.conflicts.customer_matches).

A suggestion is made only where it matters: the customer is a named direct account, or has an
open direct deal, or another partner's open registration with an overlapping product line. A
channel manager sees it beside the deal, turns it into a conflict or dismisses it; the partner
never learns of it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from accounts.audit import record_audit
from accounts.models import User, utcnow
from app import db
from deals.models import DealSuggestion

#: Most suggestions kept per deal, best first.
MAX_SUGGESTIONS = 5


# --- a manager's decision on a suggestion -------------------------------------------------


class SuggestionError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def open_suggestions(deal_ids: list[int]) -> dict[int, int]:
    """Open suggestions per deal (one query for a page of deals)."""
    if not deal_ids:
        return {}
    rows = db.session.execute(
        select(DealSuggestion.deal_id, func.count())
        .where(DealSuggestion.deal_id.in_(deal_ids), DealSuggestion.status == "open")
        .group_by(DealSuggestion.deal_id)
    )
    return {deal_id: count for deal_id, count in rows}


def claim_suggestion(suggestion: DealSuggestion, user: User, status: str) -> None:
    """Record a person's decision on an open suggestion, or refuse it: of two managers deciding
    the same suggestion at once, one decision wins and the other is told (the change is a
    conditional UPDATE, so the second finds nothing left to decide)."""
    now = utcnow()
    claimed = db.session.execute(
        update(DealSuggestion)
        .where(DealSuggestion.id == suggestion.id, DealSuggestion.status == "open")
        .values(status=status, decided_by_id=user.id, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise SuggestionError(_("This suggestion has already been decided."))
    db.session.refresh(suggestion)


def dismiss_suggestion(suggestion: DealSuggestion, user: User, note: str = "") -> None:
    """Not the same customer: remembered (a resubmission does not suggest it again), audited."""
    claim_suggestion(suggestion, user, "dismissed")
    record_audit(
        "suggestion_dismissed",
        suggestion,
        before={"status": "open"},
        after={"status": "dismissed", "note": note.strip()},
        summary=f"deal {suggestion.deal_id}: {suggestion.customer.name} is another customer",
    )
