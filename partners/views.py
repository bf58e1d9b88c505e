"""Partner and tier policy pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from accounts.access import role_required
from accounts.audit import ACTION_LABELS, FIELD_LABELS, record_audit, register_audit_labels
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, AuditLog, User
from app import db
from clock import vendor_today
from partners.cli import refresh_order_totals_command, remember_at_risk_command
from partners.commitments import (
    CommitmentError,
    CommitmentLineInput,
    DuplicateRecord,
    OrderLineInput,
    attainments,
    product_entity,
    record_commitment,
    record_stock_order,
)
from partners.forms import CommitmentForm, PartnerForm, StockOrderForm, TierPolicyForm
from partners.models import (
    ORDER_SOURCES,
    PARTNER_STATUSES,
    PARTNER_TYPES,
    TIER_ORDER,
    TIERS,
    Partner,
    StockCommitment,
    StockOrder,
    StockOrderLine,
    TierPolicy,
)
from partners.services import (
    ContactDetails,
    PartnerDetails,
    PartnerError,
    create_partner,
    update_partner,
    update_tier_policy,
)
from partners.settings import SETTINGS, get_settings, update_settings
from partners.signals import at_risk_for
from partners.tiers import annualised, propose_tier

bp = Blueprint("partners", __name__)
bp.cli.add_command(refresh_order_totals_command)  # flask partners refresh-order-totals
bp.cli.add_command(remember_at_risk_command)  # flask partners remember-at-risk
register_audit_labels(
    values={"tier": TIERS, "status": PARTNER_STATUSES, "partner_type": PARTNER_TYPES}
)

HUNDRED = Decimal(100)


def get_partner_for_user(partner_id: int) -> Partner:
    """The partner, or 404 when it does not exist or a partner user asks for another's."""
    partner = db.get_or_404(Partner, partner_id)
    if current_user.role == PARTNER and current_user.partner_id != partner.id:
        abort(404)
    return partner


@dataclass
class PartnerFlags:
    price_only: object  # partners.signals.PriceOnlyResult
    at_risk: object  # partners.signals.AtRiskResult


def partner_flags(partner_ids: list[int]) -> dict[int, PartnerFlags]:
    """Price-only and at-risk results for a page of partners, in grouped queries."""
    today = vendor_today()
    price_only = current_app.extensions["price_only_signals"](partner_ids, today)
    risk = at_risk_for(partner_ids, today, get_settings()["at_risk_drop_ratio"])
    return {pid: PartnerFlags(price_only[pid], risk[pid]) for pid in partner_ids}


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
    flags = partner_flags([p.id for p in page.items])
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
        flags=flags,
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
    commitments = db.session.scalars(
        select(StockCommitment)
        .where(StockCommitment.partner_id == partner.id)
        .order_by(StockCommitment.period_start.desc())
        .limit(8)
    ).all()
    return render_template(
        "partners/detail.html",
        partner=partner,
        users=users,
        history=history,
        can_edit=may_edit_partner(current_user, partner),
        progress=attainments([partner.id], vendor_today()).get(partner.id),
        commitments=commitments,
        flags=partner_flags([partner.id])[partner.id],
        action_labels=ACTION_LABELS,
        field_labels=FIELD_LABELS,
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
            flash(_("Partner %(name)s created.", name=partner.name), "success")
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
            flash(_("Partner %(name)s saved.", name=partner.name), "success")
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
        flash(_("Tier policy %(tier)s saved.", tier=policy.label), "success")
        return redirect(url_for("partners.list_tier_policies"))
    return render_template("partners/tier_policy_form.html", form=form, policy=policy)


# --- stock commitments and orders --------------------------------------------------------


def _product_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(line and SKU targets for commitments, products for orders), via the Product mapping."""
    product = product_entity()
    rows = db.session.execute(
        select(product.id, product.sku, product.name, product.product_line)
        .where(product.active.is_(True))
        .order_by(product.product_line, product.sku)
    ).all()
    lines = sorted({row.product_line for row in rows})
    targets = [("", "—")] + [
        (f"line:{line}", _("Product line %(line)s", line=line)) for line in lines
    ]
    targets += [(f"sku:{row.id}", f"{row.sku} · {row.name}") for row in rows]
    products = [("", "—")] + [(str(row.id), f"{row.sku} · {row.name}") for row in rows]
    return targets, products


def _may_manage(partner: Partner) -> bool:
    return may_edit_partner(current_user, partner)


@bp.route("/partners/<int:partner_id>/commitments/new", methods=["GET", "POST"])
@role_required(ADMIN, MANAGER)
def new_commitment(partner_id: int):
    partner = db.get_or_404(Partner, partner_id)
    if not _may_manage(partner):
        abort(403)
    form = CommitmentForm()
    targets, _products = _product_choices()
    for entry in form.lines:
        entry.form.target.choices = targets
    if form.validate_on_submit():
        lines = []
        for entry in form.lines:
            target, quantity = (
                entry.form.target.data or "",
                (entry.form.quantity.data or "").strip(),
            )
            if not target and not quantity:
                continue
            kind, _sep, value = target.partition(":")
            lines.append(
                CommitmentLineInput(
                    quantity=quantity,
                    product_line=value if kind == "line" else None,
                    product_id=int(value) if kind == "sku" and value.isdigit() else None,
                )
            )
        try:
            record_commitment(
                partner,
                period=form.period.data,
                amount=form.amount.data,
                signed_on=form.signed_on.data,
                lines=lines,
                user=current_user,
            )
            db.session.commit()
        except (CommitmentError, DuplicateRecord) as error:
            db.session.rollback()
            _errors_to_form(form, error, {"period": form.period, "amount": form.amount})
        else:
            flash(_("Commitment %(period)s recorded.", period=form.period.data.upper()), "success")
            return redirect(url_for("partners.partner_detail", partner_id=partner.id))
    return render_template("partners/commitment_form.html", form=form, partner=partner)


def _errors_to_form(form, error, fields: dict) -> None:
    """Put service errors next to their fields ('lines[0].quantity' → that row's field)."""
    if isinstance(error, DuplicateRecord):
        first = next(iter(fields.values()))
        first.errors = list(first.errors) + [str(error)]
        return
    for key, message in error.errors.items():
        if key in fields:
            fields[key].errors = list(fields[key].errors) + [message]
            continue
        if key.startswith("lines["):
            index = int(key[6 : key.index("]")])
            name = key.split(".", 1)[1]
            name = {"sku": "product_id", "product_line": "target"}.get(name, name)
            rows = [e for e in form.lines if _row_filled(e)]
            if index < len(rows) and hasattr(rows[index].form, name):
                target = getattr(rows[index].form, name)
                if not hasattr(rows[index].form, "target") and name == "product_id":
                    target = rows[index].form.product_id
                target.errors = list(target.errors) + [message]
                continue
        flash(message, "error")


def _row_filled(entry) -> bool:
    return any((getattr(f, "data", "") or "") for f in entry.form)


@bp.route("/partners/<int:partner_id>/orders/new", methods=["GET", "POST"])
@role_required(ADMIN, MANAGER)
def new_stock_order(partner_id: int):
    partner = db.get_or_404(Partner, partner_id)
    if not _may_manage(partner):
        abort(403)
    form = StockOrderForm()
    _targets, products = _product_choices()
    for entry in form.lines:
        entry.form.product_id.choices = products
    if form.validate_on_submit():
        lines = [
            OrderLineInput(
                product_id=int(e.form.product_id.data)
                if (e.form.product_id.data or "").isdigit()
                else None,
                quantity=e.form.quantity.data or "",
                unit_price=e.form.unit_price.data or "",
            )
            for e in form.lines
            if _row_filled(e)
        ]
        try:
            record_stock_order(
                partner,
                number=form.number.data,
                order_date=form.order_date.data,
                lines=lines,
                user=current_user,
            )
            db.session.commit()
        except (CommitmentError, DuplicateRecord) as error:
            db.session.rollback()
            _errors_to_form(form, error, {"number": form.number, "date": form.order_date})
        else:
            flash(_("Stock order %(number)s recorded.", number=form.number.data), "success")
            return redirect(url_for("partners.partner_detail", partner_id=partner.id))
    return render_template("partners/order_form.html", form=form, partner=partner)


@bp.get("/partners/<int:partner_id>/orders")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def list_stock_orders(partner_id: int):
    partner = get_partner_for_user(partner_id)
    stmt = (
        select(StockOrder)
        .where(StockOrder.partner_id == partner.id)
        .options(selectinload(StockOrder.lines).selectinload(StockOrderLine.product))
        .order_by(StockOrder.order_date.desc(), StockOrder.id.desc())
    )
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    return render_template(
        "partners/orders.html", page=page, partner=partner, order_sources=ORDER_SOURCES
    )


# --- tier review ------------------------------------------------------------------------


def _tier_review_rows(partners: list[Partner]) -> list[dict]:
    today = vendor_today()
    found = attainments([p.id for p in partners], today)
    minimums = {p.tier: p.min_commitment for p in db.session.scalars(select(TierPolicy))}
    threshold = get_settings()["tier_review_min_pro_rata"]
    rows = []
    for partner in partners:
        progress = found.get(partner.id)
        annual = (
            annualised(progress.commitment.amount, progress.commitment.period) if progress else None
        )
        proposal = propose_tier(
            partner.tier,
            annual,
            progress.pro_rata_attainment if progress else None,
            minimums,
            threshold,
        )
        rows.append({"partner": partner, "progress": progress, "proposal": proposal})
    return rows


@bp.get("/tier-review")
@role_required(ADMIN, MANAGER)
def tier_review():
    stmt = select(Partner).where(Partner.status == "active").order_by(Partner.name)
    if current_user.role == MANAGER:
        stmt = stmt.where(Partner.owner_id == current_user.id)
    partners = db.session.scalars(stmt).all()
    rows = _tier_review_rows(partners)
    show = request.args.get("show", "changes")
    if show == "changes":
        rows = [r for r in rows if r["proposal"].change != "none"]
    # Proposals are computed, not stored, so "changes only" cannot be filtered in SQL: the
    # rows are paged here (attainment for all of a manager's partners is a few grouped queries).
    page = RowsPage(
        rows, request.args.get("page", 1, type=int), current_app.config["ITEMS_PER_PAGE"]
    )
    return render_template("partners/tier_review.html", rows=page.items, page=page, show=show)


class RowsPage:
    """A page of an already computed list, with what the pagination macro reads."""

    def __init__(self, rows: list, page: int, per_page: int):
        self.total = len(rows)
        self.pages = max((self.total + per_page - 1) // per_page, 1)
        self.page = min(max(page, 1), self.pages)
        self.items = rows[(self.page - 1) * per_page : self.page * per_page]
        self.has_prev, self.prev_num = self.page > 1, self.page - 1
        self.has_next, self.next_num = self.page < self.pages, self.page + 1


@bp.post("/tier-review/apply")
@role_required(ADMIN, MANAGER)
def apply_tier_changes():
    ids = [int(v) for v in request.form.getlist("partner_id") if v.isdigit()]
    stmt = select(Partner).where(Partner.id.in_(ids))
    if current_user.role == MANAGER:
        stmt = stmt.where(Partner.owner_id == current_user.id)
    partners = db.session.scalars(stmt).all()
    applied = 0
    for row in _tier_review_rows(partners):
        proposal = row["proposal"]
        if proposal.change == "none":
            continue
        partner = row["partner"]
        before = {"tier": partner.tier}
        partner.tier = proposal.proposed
        with force_locale("en"):  # the log keeps English, whoever reads it
            reason = str(proposal.reason)
        record_audit(
            "tier_changed",
            partner,
            before=before,
            after={"tier": partner.tier, "reason": reason},
            summary=f"{partner.name}: {proposal.change} ({reason})",
        )
        applied += 1
    db.session.commit()
    flash(
        ngettext("%(num)d tier change applied.", "%(num)d tier changes applied.", applied),
        "success",
    )
    return redirect(url_for("partners.tier_review"))


# --- settings ------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_settings():
    current = get_settings()
    values = {spec.key: str(current[spec.key]) for spec in SETTINGS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {spec.key: request.form.get(spec.key, "") for spec in SETTINGS}
        try:
            update_settings(values)
            db.session.commit()
        except ValueError as error:
            db.session.rollback()
            errors = error.args[0] if isinstance(error.args[0], dict) else {"": str(error)}
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("partners.edit_settings"))
    return render_template("partners/settings.html", specs=SETTINGS, values=values, errors=errors)
