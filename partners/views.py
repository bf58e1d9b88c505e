"""Partner and tier policy pages."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from accounts.access import role_required
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, AuditLog, User
from app import db
from partners.forms import PartnerForm, TierPolicyForm
from partners.models import PARTNER_STATUSES, TIER_ORDER, TIERS, Partner, TierPolicy
from partners.services import (
    ContactDetails,
    PartnerDetails,
    PartnerError,
    create_partner,
    update_partner,
    update_tier_policy,
)

bp = Blueprint("partners", __name__)

HUNDRED = Decimal(100)


def get_partner_for_user(partner_id: int) -> Partner:
    """The partner, or 404 when it does not exist or a partner user asks for another's."""
    partner = db.get_or_404(Partner, partner_id)
    if current_user.role == PARTNER and current_user.partner_id != partner.id:
        abort(404)
    return partner


def may_edit_partner(user: User, partner: Partner | None) -> bool:
    if user.role == ADMIN:
        return True
    return user.role == MANAGER and (partner is None or partner.owner_id in (None, user.id))


def _manager_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.role.in_((MANAGER, ADMIN)), User.active.is_(True))
        .order_by(User.name)
    )
    return [(0, "—")] + [(uid, name) for uid, name in rows]


@bp.get("/partners")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def list_partners():
    q = request.args.get("q", "").strip()
    tier = request.args.get("tier", "")
    status = request.args.get("status", "")
    region = request.args.get("region", "").strip()
    owner = request.args.get("owner", "")
    stmt = select(Partner).options(selectinload(Partner.owner)).order_by(Partner.name)
    if q:
        stmt = stmt.where(or_(Partner.name.contains(q), Partner.uscc.contains(q.upper())))
    if tier in TIERS:
        stmt = stmt.where(Partner.tier == tier)
    if status in PARTNER_STATUSES:
        stmt = stmt.where(Partner.status == status)
    if region:
        stmt = stmt.where(Partner.region == region)
    if owner == "me":
        stmt = stmt.where(Partner.owner_id == current_user.id)
    elif owner.isdigit():
        stmt = stmt.where(Partner.owner_id == int(owner))
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    regions = db.session.scalars(
        select(Partner.region).where(Partner.region != "").distinct().order_by(Partner.region)
    ).all()
    owners = _manager_choices()[1:]
    return render_template(
        "partners/list.html",
        page=page,
        filters={"q": q, "tier": tier, "status": status, "region": region, "owner": owner},
        regions=regions,
        owners=owners,
        tiers=TIERS,
        statuses=PARTNER_STATUSES,
        can_create=may_edit_partner(current_user, None),
    )


@bp.get("/partners/<int:partner_id>")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def partner_detail(partner_id: int):
    partner = get_partner_for_user(partner_id)
    users = db.session.scalars(select(User).where(User.partner_id == partner.id)).all()
    history = []
    if current_user.role != PARTNER:
        history = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity_type == "Partner", AuditLog.entity_id == partner.id)
            .options(selectinload(AuditLog.user))
            .order_by(AuditLog.at.desc())
            .limit(20)
        ).all()
    return render_template(
        "partners/detail.html",
        partner=partner,
        users=users,
        history=history,
        can_edit=may_edit_partner(current_user, partner),
    )


@bp.get("/my-company")
@role_required(PARTNER)
def my_partner():
    return redirect(url_for("partners.partner_detail", partner_id=current_user.partner_id))


def _details_from_form(form: PartnerForm) -> PartnerDetails:
    return PartnerDetails(
        name=form.name.data.strip(),
        uscc=form.uscc.data,
        tier=form.tier.data,
        region=(form.region.data or "").strip(),
        partner_type=form.partner_type.data,
        status=form.status.data,
        owner_id=form.owner_id.data or None,
        agreement_start=form.agreement_start.data,
        agreement_end=form.agreement_end.data,
        notes=form.notes.data or "",
        contacts=[
            ContactDetails(
                name=(c.form.name.data or "").strip(),
                title=c.form.title.data or "",
                phone=c.form.phone.data or "",
                email=c.form.email.data or "",
            )
            for c in form.contacts
        ],
    )


def _save_partner(form: PartnerForm, partner: Partner | None):
    """Validate and save in one transaction; on a rule error the form shows it by its field."""
    try:
        details = _details_from_form(form)
        if partner is None:
            partner = create_partner(details)
        else:
            update_partner(partner, details)
        db.session.commit()
    except PartnerError as error:
        db.session.rollback()
        getattr(form, error.field).errors.append(error.message)
        return None
    return partner


@bp.route("/partners/new", methods=["GET", "POST"])
@role_required(ADMIN, MANAGER)
def create_partner_view():
    form = PartnerForm()
    form.owner_id.choices = _manager_choices()
    if request.method == "GET":
        form.tier.data = "registered"
        form.owner_id.data = current_user.id if current_user.role == MANAGER else 0
        while len(form.contacts) < 2:
            form.contacts.append_entry()
    if form.validate_on_submit():
        partner = _save_partner(form, None)
        if partner is not None:
            flash(f"Partner {partner.name} created.", "success")
            return redirect(url_for("partners.partner_detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=None)


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN, MANAGER)
def edit_partner(partner_id: int):
    partner = db.get_or_404(Partner, partner_id)
    if not may_edit_partner(current_user, partner):
        abort(403)
    form = PartnerForm(obj=partner)
    form.owner_id.choices = _manager_choices()
    if request.method == "GET":
        form.owner_id.data = partner.owner_id or 0
        form.contacts.append_entry()
    if form.validate_on_submit():
        if _save_partner(form, partner) is not None:
            flash(f"Partner {partner.name} saved.", "success")
            return redirect(url_for("partners.partner_detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner)


@bp.get("/tier-policies")
@role_required(ADMIN, MANAGER, FINANCE)
def list_tier_policies():
    policies = {p.tier: p for p in db.session.scalars(select(TierPolicy))}
    counts = dict(
        db.session.execute(select(Partner.tier, func.count()).group_by(Partner.tier)).all()
    )
    ordered = [policies[t] for t in TIER_ORDER if t in policies]
    return render_template("partners/tier_policies.html", policies=ordered, counts=counts)


@bp.route("/tier-policies/<tier>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_tier_policy(tier: str):
    policy = db.get_or_404(TierPolicy, tier)
    form = TierPolicyForm()
    if request.method == "GET":
        form.discount_percent.data = policy.discount_rate * HUNDRED
        form.min_commitment.data = policy.min_commitment
        form.protection_days.data = policy.protection_days
        form.approval_limit_percent.data = policy.approval_limit * HUNDRED
        form.rebate_percent.data = policy.rebate_rate * HUNDRED
    if form.validate_on_submit():
        update_tier_policy(
            policy,
            discount_rate=form.discount_percent.data / HUNDRED,
            min_commitment=form.min_commitment.data,
            protection_days=form.protection_days.data,
            approval_limit=form.approval_limit_percent.data / HUNDRED,
            rebate_rate=form.rebate_percent.data / HUNDRED,
        )
        db.session.commit()
        flash(f"Tier policy {policy.label} saved.", "success")
        return redirect(url_for("partners.list_tier_policies"))
    return render_template("partners/tier_policy_form.html", form=form, policy=policy)
