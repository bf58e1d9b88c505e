"""End customers' pages: the list, a customer, creating and editing one (vendor staff)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from accounts.access import role_required
from accounts.models import ADMIN, FINANCE, MANAGER, REP, User
from app import db
from customers.forms import EndCustomerForm
from customers.matching import name_search_key
from customers.models import COVERAGES, SEGMENTS, EndCustomer
from customers.services import CustomerDetails, CustomerError, save_customer

bp = Blueprint("customers", __name__)


@bp.context_processor
def customer_labels() -> dict:
    """The labels the customer pages translate codes with."""
    return {"segments": SEGMENTS, "coverages": COVERAGES}


def _rep_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.role == REP, User.active.is_(True))
        .order_by(User.name)
    )
    return [(0, "—")] + [(uid, name) for uid, name in rows]


@bp.get("/customers")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def list_customers():
    q = request.args.get("q", "").strip()
    segment = request.args.get("segment", "")
    coverage = request.args.get("coverage", "")
    region = request.args.get("region", "").strip()
    stmt = (
        select(EndCustomer).options(selectinload(EndCustomer.owner_rep)).order_by(EndCustomer.name)
    )
    if q:
        key = name_search_key(q)
        conditions = [EndCustomer.name.contains(q), EndCustomer.uscc == q.upper()]
        if key:
            conditions.append(EndCustomer.name_key.contains(key))
        stmt = stmt.where(or_(*conditions))
    if segment in SEGMENTS:
        stmt = stmt.where(EndCustomer.segment == segment)
    if coverage in COVERAGES:
        stmt = stmt.where(EndCustomer.coverage == coverage)
    if region:
        stmt = stmt.where(EndCustomer.region == region)
    regions = db.session.scalars(
        select(EndCustomer.region)
        .where(EndCustomer.region != "")
        .distinct()
        .order_by(EndCustomer.region)
    ).all()
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    return render_template(
        "customers/customers.html",
        page=page,
        filters={"q": q, "segment": segment, "coverage": coverage, "region": region},
        regions=regions,
        segments=SEGMENTS,
        coverages=COVERAGES,
    )


@bp.get("/customers/<int:customer_id>")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def customer_detail(customer_id: int):
    customer = db.get_or_404(EndCustomer, customer_id)
    return render_template("customers/customer_detail.html", customer=customer)


def _save(form: EndCustomerForm, customer: EndCustomer | None):
    try:
        customer = save_customer(
            customer,
            CustomerDetails(
                name=form.name.data,
                uscc=form.uscc.data or None,
                region=(form.region.data or "").strip(),
                industry=(form.industry.data or "").strip(),
                segment=form.segment.data,
                coverage=form.coverage.data,
                owner_rep_id=form.owner_rep_id.data or None,
            ),
        )
        db.session.commit()
    except CustomerError as error:
        db.session.rollback()
        getattr(form, error.field).errors.append(error.message)
        return None
    return customer


@bp.route("/customers/new", methods=["GET", "POST"])
@role_required(ADMIN, MANAGER, REP)
def create_customer():
    form = EndCustomerForm()
    form.owner_rep_id.choices = _rep_choices()
    if request.method == "GET" and current_user.role == REP:
        form.owner_rep_id.data = current_user.id
    if form.validate_on_submit():
        customer = _save(form, None)
        if customer is not None:
            flash(_("Customer %(name)s created.", name=customer.name), "success")
            return redirect(url_for("customers.customer_detail", customer_id=customer.id))
    return render_template("customers/customer_form.html", form=form, customer=None)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN, MANAGER, REP)
def edit_customer(customer_id: int):
    customer = db.get_or_404(EndCustomer, customer_id)
    # A rep may not take over or change another rep's named account.
    if current_user.role == REP and customer.owner_rep_id not in (None, current_user.id):
        abort(403)
    form = EndCustomerForm(obj=customer)
    form.owner_rep_id.choices = _rep_choices()
    if request.method == "GET":
        form.owner_rep_id.data = customer.owner_rep_id or 0
    if form.validate_on_submit():
        if _save(form, customer) is not None:
            flash(_("Customer %(name)s saved.", name=customer.name), "success")
            return redirect(url_for("customers.customer_detail", customer_id=customer.id))
    return render_template("customers/customer_form.html", form=form, customer=customer)
