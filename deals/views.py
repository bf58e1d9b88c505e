"""End customer, deal decision and conflict pages (deal entry forms: registration_views)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from accounts.access import role_required
from accounts.audit import register_audit_labels
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, User, utcnow
from app import db
from customers.models import COVERAGES, SEGMENTS, EndCustomer
from deals.access import deal_visible_to, visible_deal
from deals.conflicts import (
    ConflictError,
    add_comment,
    conflicts_visible_to,
    convert_suggestion,
    protected_by,
)
from deals.conflicts import resolve_conflict as resolve_conflict_service
from deals.models import (
    APPROVED,
    CHANNEL,
    CONFLICT_KINDS,
    CONFLICT_STATUSES,
    CONTACT_ROLES,
    DEAL_KINDS,
    DEAL_STATUSES,
    DRAFT,
    EVENT_ACTIONS,
    EXPIRED,
    FUNDING_SOURCES,
    LOST_REASONS,
    RESOLUTIONS,
    SPECIAL_STATUSES,
    STAGES,
    SUBMITTED,
    SUGGESTION_STATUSES,
    Conflict,
    Deal,
    DealLine,
    DealSuggestion,
)
from deals.pages import (
    APPROVERS,
    EVIDENCE_FIELDS,
    MATCH_RULES,
    PRICING_FLAGS,
    event_note,
    line_checks,
    open_conflict_deal_ids,
    partner_record,
    pricing_flags,
)
from deals.partner_stats import price_only_for
from deals.sla import is_overdue
from deals.special_prices import SpecialPriceRefused, may_decide_line, special_price_offer
from deals.special_prices import decide_special_price as decide_special_price_service
from deals.suggestions import SuggestionError, dismiss_suggestion, open_suggestions
from deals.workflow import (
    DealError,
    StaleDecision,
    approve_deal,
    extend_protection,
    mark_strategic_exception,
    reject_deal,
    request_information,
)
from deals.workflow import close_deal as close_deal_service
from i18n import day
from partners.models import TIERS, Partner

bp = Blueprint("deals", __name__)
register_audit_labels(
    actions=EVENT_ACTIONS,
    values={
        "status": {**DEAL_STATUSES, **CONFLICT_STATUSES},
        "kind": {**DEAL_KINDS, **CONFLICT_KINDS},
        "special_status": SPECIAL_STATUSES,
        "resolution": RESOLUTIONS,
        "segment": SEGMENTS,
        "coverage": COVERAGES,
    },
)


@bp.context_processor
def deal_labels() -> dict:
    """The labels the deal and conflict pages translate codes with."""
    return {
        "pricing_flags": PRICING_FLAGS,
        "approvers": APPROVERS,
        "match_rules": MATCH_RULES,
        "evidence_fields": EVIDENCE_FIELDS,
        "conflict_statuses": CONFLICT_STATUSES,
        "segments": SEGMENTS,
        "deal_statuses": DEAL_STATUSES,
        "coverages": COVERAGES,
        "event_note": event_note,
    }


# --- deals: list, detail, queue, decisions -------------------------------------------


def partner_facing_status(deal: Deal, overlapping: bool) -> str:
    """What a partner is told: never who the other party is, only that an overlap is reviewed."""
    if overlapping and deal.effective_status() == SUBMITTED:
        return _("Possible overlap, under review")
    return str(deal.status_label)


def get_deal_for_user(deal_id: int) -> Deal:
    """The deal, or 404 when it does not exist or the user may not see it (deals.access)."""
    deal = visible_deal(current_user, deal_id)
    if deal is None:
        abort(404)
    return deal


def may_decide(user: User, deal: Deal) -> bool:
    if deal.kind != CHANNEL:
        return False
    if user.role == ADMIN:
        return True
    return user.role == MANAGER and deal.partner is not None and deal.partner.owner_id == user.id


@bp.get("/deals")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def list_deals():
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    partner_id = request.args.get("partner", "")
    now = utcnow()
    stmt = (
        select(Deal)
        .join(Deal.customer)
        .where(deal_visible_to(current_user))
        .options(selectinload(Deal.customer), selectinload(Deal.partner))
        .order_by(Deal.created_at.desc(), Deal.id.desc())
    )
    if q:
        stmt = stmt.where(or_(Deal.project_name.contains(q), EndCustomer.name.contains(q)))
    if status == "open":  # still claiming the customer, as the dashboards count them
        stmt = stmt.where(Deal.open_sql(now))
    elif status == EXPIRED:
        stmt = stmt.where(
            or_(
                Deal.status == EXPIRED,
                and_(Deal.status == APPROVED, Deal.protection_expires_at <= now),
            )
        )
    elif status == APPROVED:
        stmt = stmt.where(
            Deal.status == APPROVED,
            or_(Deal.protection_expires_at.is_(None), Deal.protection_expires_at > now),
        )
    elif status in DEAL_STATUSES and status != DRAFT:
        stmt = stmt.where(Deal.status == status)
    else:
        status = ""
    if kind in DEAL_KINDS:
        stmt = stmt.where(Deal.kind == kind)
    if partner_id.isdigit():
        stmt = stmt.where(Deal.partner_id == int(partner_id))
    # The dashboards' pipeline figures link here: by stage, by the partner's tier, own partners.
    stage = request.args.get("stage", "")
    tier = request.args.get("tier", "")
    owner = request.args.get("owner", "")
    if stage in STAGES:
        stmt = stmt.where(Deal.stage == stage)
    if tier in TIERS or owner == "me":
        partners = select(Partner.id)
        if tier in TIERS:
            partners = partners.where(Partner.tier == tier)
        if owner == "me":
            partners = partners.where(Partner.owner_id == current_user.id)
        stmt = stmt.where(Deal.partner_id.in_(partners))
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    flagged = open_conflict_deal_ids([d.id for d in page.items])
    return render_template(
        "deals/deals.html",
        page=page,
        flagged=flagged,
        filters={
            "q": q,
            "status": status,
            "kind": kind,
            "partner": partner_id,
            "stage": stage,
            "tier": tier,
            "owner": owner,
        },
        statuses={
            "open": _l("Open (claiming the customer)"),
            **{code: label for code, label in DEAL_STATUSES.items() if code != DRAFT},
        },
        kinds=DEAL_KINDS,
        stages=STAGES,
        tiers=TIERS,
        partner=db.session.get(Partner, int(partner_id)) if partner_id.isdigit() else None,
    )


@bp.get("/deals/<int:deal_id>")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def deal_detail(deal_id: int):
    deal = get_deal_for_user(deal_id)
    partner = deal.partner
    # Reps do not read partners' tier discounts or tier prices: their lines go against list.
    show_tier_terms = current_user.role != REP
    checks = line_checks(deal, partner if show_tier_terms else None)
    overlapping = bool(open_conflict_deal_ids([deal.id]))
    context = {
        "lost_reasons": LOST_REASONS,
        "special_statuses": SPECIAL_STATUSES,
        "deal": deal,
        "partner": partner,
        "checks": checks,
        "overlapping": overlapping,
        "status_text": deal.status_label,
        "deal_statuses": DEAL_STATUSES,
        "stages": STAGES,
        "funding_sources": FUNDING_SOURCES,
        "contact_roles": CONTACT_ROLES,
        "resolutions": RESOLUTIONS,
        "kinds": CONFLICT_KINDS,
        "now": utcnow(),
        "show_tier_terms": show_tier_terms,
    }
    if current_user.role == PARTNER:
        context["status_text"] = partner_facing_status(deal, overlapping)
        return render_template("deals/deal_partner.html", **context)
    # Only the conflicts this user may see at all (reps: those they are party to).
    conflicts = db.session.scalars(
        conflicts_visible_to(current_user)
        .where(or_(Conflict.deal_id == deal.id, Conflict.other_deal_id == deal.id))
        .options(
            selectinload(Conflict.deal).selectinload(Deal.partner),
            selectinload(Conflict.other_deal).selectinload(Deal.partner),
            selectinload(Conflict.account),
        )
        .order_by(Conflict.status.desc(), Conflict.created_at)
    ).all()
    # Possible matches are the vendor's own review: managers and admins see them, reps do not
    # (they name other partners' customers).
    suggestions = []
    if current_user.role in (ADMIN, MANAGER):
        suggestions = db.session.scalars(
            select(DealSuggestion)
            .where(DealSuggestion.deal_id == deal.id)
            .options(selectinload(DealSuggestion.customer), selectinload(DealSuggestion.decided_by))
            .order_by(DealSuggestion.score.desc(), DealSuggestion.id)
        ).all()
    context.update(
        conflicts=conflicts,
        suggestions=suggestions,
        suggestion_statuses=SUGGESTION_STATUSES,
        protected=protected_by(deal) if deal.kind == CHANNEL else None,
        overlapping=any(c.status == "open" for c in conflicts),
        record=partner_record(partner.id, deal_visible_to(current_user)) if partner else {},
        can_decide=may_decide(current_user, deal),
        pricing=pricing_flags(checks) if show_tier_terms else set(),
        sla_overdue=deal.status == SUBMITTED and is_overdue(deal.sla_due_at, utcnow()),
        offer=special_price_offer(deal) if partner is not None and show_tier_terms else None,
        may_decide_line=lambda check: may_decide_line(current_user, check),
    )
    return render_template("deals/deal_vendor.html", **context)


@bp.get("/queue")
@role_required(ADMIN, MANAGER)
def approval_queue():
    stmt = (
        select(Deal)
        .where(Deal.kind == CHANNEL, Deal.status == SUBMITTED)
        .options(
            selectinload(Deal.customer),
            selectinload(Deal.partner).selectinload(Partner.tier_policy),
            selectinload(Deal.lines).selectinload(DealLine.product),
        )
        .order_by(Deal.sla_due_at, Deal.id)
    )
    if current_user.role == MANAGER:
        stmt = stmt.join(Deal.partner).where(Partner.owner_id == current_user.id)
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    flagged = open_conflict_deal_ids([d.id for d in page.items])
    suggested = open_suggestions([d.id for d in page.items])
    price_only = price_only_for(list({d.partner_id for d in page.items}))
    now = utcnow()
    rows = [
        {
            "deal": deal,
            "overdue": is_overdue(deal.sla_due_at, now),
            "conflict": deal.id in flagged,
            "suggestions": suggested.get(deal.id, 0),
            "pricing": sorted(pricing_flags(line_checks(deal, deal.partner))),
            "price_only": price_only[deal.partner_id],
        }
        for deal in page.items
    ]
    return render_template("deals/queue.html", page=page, rows=rows)


DECISIONS = {
    "approve": _l("Deal approved; protection runs until %(expiry)s."),
    "reject": _l("Deal rejected."),
    "request_info": _l("More information requested from the partner."),
    "strategic": _l("Strategic exception updated."),
    "extend": _l("Protection extended until %(expiry)s."),
}


@bp.post("/deals/<int:deal_id>/decide")
@role_required(ADMIN, MANAGER)
def decide(deal_id: int):
    deal = get_deal_for_user(deal_id)
    if not may_decide(current_user, deal):
        abort(403)
    action = request.form.get("action", "")
    note = request.form.get("note", "")
    version = request.form.get("version", type=int)
    try:
        if action == "approve":
            approve_deal(deal, current_user, version, note)
        elif action == "reject":
            reject_deal(deal, current_user, version, note)
        elif action == "request_info":
            request_information(deal, current_user, version, note)
        elif action == "strategic":
            mark_strategic_exception(
                deal, current_user, version, request.form.get("strategic") == "1", note
            )
        elif action == "extend":
            extend_protection(deal, current_user, version, request.form.get("days", type=int), note)
        else:
            abort(400)
        db.session.commit()
    except (DealError, StaleDataError) as error:
        db.session.rollback()
        if isinstance(error, StaleDataError):
            db.session.refresh(deal)
            error = StaleDecision(deal)
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("deals.deal_detail", deal_id=deal.id))
    expiry = day(deal.protection_expires_at) if deal.protection_expires_at else ""
    flash(str(DECISIONS[action]) % {"expiry": expiry}, "success")
    return redirect(url_for("deals.deal_detail", deal_id=deal.id))


# --- possible matches: a manager turns one into a conflict or dismisses it --------------


def _suggestion_for(deal_id: int, suggestion_id: int) -> DealSuggestion:
    deal = get_deal_for_user(deal_id)
    if not may_decide(current_user, deal):
        abort(403)
    suggestion = db.get_or_404(DealSuggestion, suggestion_id)
    if suggestion.deal_id != deal.id:
        abort(404)
    return suggestion


@bp.post("/deals/<int:deal_id>/suggestions/<int:suggestion_id>/<any(convert, dismiss):action>")
@role_required(ADMIN, MANAGER)
def decide_suggestion(deal_id: int, suggestion_id: int, action: str):
    suggestion = _suggestion_for(deal_id, suggestion_id)
    note = request.form.get("note", "")
    try:
        if action == "convert":
            convert_suggestion(suggestion, current_user, note)
        else:
            dismiss_suggestion(suggestion, current_user, note)
        db.session.commit()
    except (ConflictError, SuggestionError) as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        if action == "convert":
            flash(_("Same customer: a conflict is open on this deal."), "success")
        else:
            flash(_("Suggestion dismissed: another customer."), "success")
    return redirect(url_for("deals.deal_detail", deal_id=deal_id) + "#suggestions")


# --- conflicts -------------------------------------------------------------------------


def get_conflict_for_user(conflict_id: int) -> Conflict:
    conflict = db.session.scalar(
        conflicts_visible_to(current_user).where(Conflict.id == conflict_id)
    )
    if conflict is None:
        abort(404)
    return conflict


@bp.get("/conflicts")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def list_conflicts():
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    stmt = conflicts_visible_to(current_user).options(
        selectinload(Conflict.deal).selectinload(Deal.partner),
        selectinload(Conflict.deal).selectinload(Deal.customer),
        selectinload(Conflict.other_deal).selectinload(Deal.partner),
        selectinload(Conflict.other_deal).selectinload(Deal.customer),
        selectinload(Conflict.account),
    )
    if status in ("open", "resolved"):
        stmt = stmt.where(Conflict.status == status)
    if kind in CONFLICT_KINDS:
        stmt = stmt.where(Conflict.kind == kind)
    # Open conflicts first ("open" sorts after "resolved"), oldest first within each.
    stmt = stmt.order_by(Conflict.status.desc(), Conflict.created_at)
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    return render_template(
        "deals/conflicts.html",
        page=page,
        filters={"status": status, "kind": kind},
        kinds=CONFLICT_KINDS,
        resolutions=RESOLUTIONS,
    )


@bp.get("/conflicts/<int:conflict_id>")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def conflict_detail(conflict_id: int):
    conflict = get_conflict_for_user(conflict_id)
    return render_template(
        "deals/conflict_detail.html",
        conflict=conflict,
        kinds=CONFLICT_KINDS,
        resolutions=RESOLUTIONS,
        can_resolve=current_user.role in (ADMIN, MANAGER) and conflict.status == "open",
        can_comment=current_user.role in (ADMIN, MANAGER, REP),
    )


@bp.post("/conflicts/<int:conflict_id>/resolve")
@role_required(ADMIN, MANAGER)
def resolve_conflict(conflict_id: int):
    conflict = get_conflict_for_user(conflict_id)
    try:
        resolve_conflict_service(
            conflict,
            current_user,
            request.form.get("resolution", ""),
            request.form.get("note", ""),
        )
        db.session.commit()
    except (ConflictError, StaleDataError) as error:
        db.session.rollback()
        message = getattr(error, "message", None) or _(
            "The deal changed meanwhile; review it again."
        )
        flash(message, "error")
    else:
        flash(
            _("Conflict resolved: %(resolution)s.", resolution=RESOLUTIONS[conflict.resolution]),
            "success",
        )
    return redirect(url_for("deals.conflict_detail", conflict_id=conflict_id))


@bp.post("/conflicts/<int:conflict_id>/comments")
@role_required(ADMIN, MANAGER, REP)
def comment_conflict(conflict_id: int):
    conflict = get_conflict_for_user(conflict_id)
    try:
        add_comment(conflict, current_user, request.form.get("body", ""))
        db.session.commit()
    except ConflictError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Comment added."), "success")
    return redirect(url_for("deals.conflict_detail", conflict_id=conflict_id))


@bp.post("/deals/<int:deal_id>/lines/<int:line_id>/special")
@role_required(ADMIN, MANAGER)
def decide_special_price(deal_id: int, line_id: int):
    deal = get_deal_for_user(deal_id)
    if not may_decide(current_user, deal):
        abort(403)
    line = db.get_or_404(DealLine, line_id)
    if line.deal_id != deal.id:
        abort(404)
    approve = request.form.get("decision") == "approve"
    try:
        decide_special_price_service(
            deal, line, current_user, approve=approve, note=request.form.get("note", "")
        )
        db.session.commit()
    except SpecialPriceRefused as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        message = (
            _("Special price for %(sku)s approved.", sku=line.product.sku)
            if approve
            else _("Special price for %(sku)s refused.", sku=line.product.sku)
        )
        flash(message, "success")
    return redirect(url_for("deals.deal_detail", deal_id=deal.id))


@bp.post("/deals/<int:deal_id>/close")
@role_required(ADMIN, MANAGER, PARTNER)
def close_deal(deal_id: int):
    deal = get_deal_for_user(deal_id)
    if current_user.role == MANAGER and not may_decide(current_user, deal):
        abort(403)
    try:
        close_deal_service(
            deal,
            current_user,
            request.form.get("outcome", ""),
            request.form.get("lost_reason") or None,
        )
        db.session.commit()
    except DealError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
    else:
        flash(_("Deal closed as %(status)s.", status=DEAL_STATUSES[deal.status]), "success")
    return redirect(url_for("deals.deal_detail", deal_id=deal.id))
