"""Deal entry pages: a partner's registrations and a direct rep's deals.

Thin views over deals.workflow: the form is parsed leniently into a DealInput, the service
decides, and its DealError messages are put back next to the fields they are about.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError
from stdnum.cn import uscc as uscc_rule
from wtforms import FieldList, FormField

from accounts.access import role_required
from accounts.models import ADMIN, MANAGER, PARTNER, REP, utcnow
from app import db
from clock import vendor_today
from customers.matching import name_search_key
from customers.models import COVERAGES, SEGMENTS, EndCustomer
from customers.services import customer_visible_to, visible_customer
from deals.models import APPROVED, CHANNEL, DEAL_STATUSES, DIRECT, DRAFT, EXPIRED, MORE_INFO, Deal
from deals.pages import open_conflict_deal_ids
from deals.registration_forms import DealForm, optional_int
from deals.workflow import (
    ContactInput,
    DealError,
    DealInput,
    LineInput,
    NewCustomerInput,
    answer_information_request,
    check_registration,
    has_open_conflict,
    save_direct_deal,
    save_registration,
)
from pricing.models import Product

bp = Blueprint("registrations", __name__)

CUSTOMER_SEARCH_LIMIT = 10
OVERLAP_LABEL = _l("Possible overlap, under review")
_ROW_KEY = re.compile(r"^(lines|contacts)-(\d+)-(\w+)$")


# --- lists -----------------------------------------------------------------------------


def _filter_by_status(stmt, status: str):
    """Filter on the status the user sees (Deal.effective_status), in SQL."""
    now = utcnow()
    protection_passed = and_(
        Deal.status == APPROVED,
        Deal.protection_expires_at.is_not(None),
        Deal.protection_expires_at <= now,
    )
    if status == EXPIRED:
        return stmt.where(or_(Deal.status == EXPIRED, protection_passed))
    if status == APPROVED:
        return stmt.where(
            Deal.status == APPROVED,
            or_(Deal.protection_expires_at.is_(None), Deal.protection_expires_at > now),
        )
    if status in DEAL_STATUSES:
        return stmt.where(Deal.status == status)
    return stmt


def _deal_list(stmt, template: str, **context):
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    stmt = stmt.join(Deal.customer).options(contains_eager(Deal.customer))
    if q:
        stmt = stmt.where(
            or_(
                Deal.project_name.contains(q, autoescape=True),
                EndCustomer.name.contains(q, autoescape=True),
            )
        )
    stmt = _filter_by_status(stmt, status).order_by(Deal.created_at.desc(), Deal.id.desc())
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    return render_template(
        template,
        page=page,
        filters={"q": q, "status": status},
        statuses=DEAL_STATUSES,
        open_conflicts=open_conflict_deal_ids([deal.id for deal in page.items]),
        overlap_label=OVERLAP_LABEL,
        **context,
    )


@bp.get("/registrations")
@role_required(PARTNER)
def list_registrations():
    stmt = select(Deal).where(Deal.kind == CHANNEL, Deal.partner_id == current_user.partner_id)
    return _deal_list(stmt, "registrations/list.html")


@bp.get("/direct-deals")
@role_required(REP)
def list_direct_deals():
    stmt = select(Deal).where(Deal.kind == DIRECT, Deal.created_by_id == current_user.id)
    return _deal_list(stmt, "registrations/direct_list.html")


# --- customer search (the form's type-ahead) -------------------------------------------


@bp.get("/registrations/customers.json")
@role_required(ADMIN, MANAGER, REP, PARTNER)
def customer_search():
    q = request.args.get("q", "").strip()[:200]
    if len(q) < 2:
        return jsonify(customers=[])
    conditions = [EndCustomer.name.contains(q, autoescape=True), EndCustomer.uscc == q.upper()]
    key = name_search_key(q)
    if key:
        conditions.append(EndCustomer.name_key.contains(key, autoescape=True))
    customers = db.session.scalars(
        select(EndCustomer)
        .where(or_(*conditions), customer_visible_to(current_user))
        .order_by(EndCustomer.name, EndCustomer.id)
        .limit(CUSTOMER_SEARCH_LIMIT)
    )
    found = []
    for customer in customers:
        item = {
            "id": customer.id,
            "name": customer.name,
            "region": customer.region,
            "industry": customer.industry,
        }
        # Coverage and segment are the vendor's account planning: never shown to partners.
        if current_user.role != PARTNER:
            item["segment"] = str(SEGMENTS.get(customer.segment, customer.segment))
            item["coverage"] = str(COVERAGES.get(customer.coverage, customer.coverage))
        found.append(item)
    return jsonify(customers=found)


# --- the deal form ---------------------------------------------------------------------


def _active_products() -> list[Product]:
    return list(
        db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku))
    )


def _leaf_fields(form) -> dict:
    """Every input of the form by its submitted name (``lines-2-quantity``, ...)."""
    fields = {}
    for field in form:
        if isinstance(field, FieldList):
            for entry in field:
                fields.update(_leaf_fields(entry.form))
        elif isinstance(field, FormField):
            fields.update(_leaf_fields(field.form))
        else:
            fields[field.name] = field
    return fields


class FormState:
    """The form plus what the page shows above fields (general and line-level messages)."""

    def __init__(self, form: DealForm):
        self.form = form
        self.general_errors: list[str] = []
        self.lines_errors: list[str] = []
        self.line_rows: list[int] = []  # form row of each line passed to the service
        self.contact_rows: list[int] = []

    def deal_input(self) -> DealInput:
        form = self.form
        self.line_rows = [i for i, entry in enumerate(form.lines) if not entry.form.is_blank()]
        self.contact_rows = [
            i for i, entry in enumerate(form.contacts) if not entry.form.is_blank()
        ]
        customer_id = optional_int(form.customer_id.data)
        new_customer = None
        if customer_id is None:
            fields = form.new_customer.form
            # Typed into the search box and picked nothing: that text is the new customer's name.
            name = (fields.name.data or "").strip() or (form.customer_query.data or "").strip()
            if name or not fields.is_blank():
                new_customer = NewCustomerInput(
                    name=name,
                    uscc=uscc_rule.compact(fields.uscc.data or ""),
                    region=(fields.region.data or "").strip(),
                    industry=(fields.industry.data or "").strip(),
                )
        return DealInput(
            project_name=form.project_name.data or "",
            estimated_value=(form.estimated_value.data or "").strip(),
            expected_close_date=form.expected_close_date.data,
            stage=form.stage.data or "",
            funding_source=form.funding_source.data or "",
            customer_id=customer_id,
            new_customer=new_customer,
            competitors=form.competitors.data or "",
            lines=[
                LineInput(
                    product_id=form.lines[i].form.product_id.data,
                    quantity=(form.lines[i].form.quantity.data or "").strip(),
                    unit_price=(form.lines[i].form.unit_price.data or "").strip(),
                )
                for i in self.line_rows
            ],
            contacts=[
                ContactInput(
                    name=form.contacts[i].form.name.data or "",
                    role=form.contacts[i].form.role.data or "",
                    title=form.contacts[i].form.title.data or "",
                )
                for i in self.contact_rows
            ],
        )

    def add_errors(self, errors: dict[str, str], only_where_none: bool = False) -> None:
        """Put the service's messages on the fields they name (its row numbers → form rows)."""
        fields = _leaf_fields(self.form)
        for key, message in errors.items():
            name = "customer_query" if key == "customer_id" else key
            match = _ROW_KEY.match(key)
            if match:
                kind, index, part = match.group(1), int(match.group(2)), match.group(3)
                rows = self.line_rows if kind == "lines" else self.contact_rows
                if index < len(rows):
                    name = f"{kind}-{rows[index]}-{part}"
            field = fields.get(name)
            if key == "lines":
                self.lines_errors.append(message)
            elif field is None:
                self.general_errors.append(message)
            elif not (only_where_none and field.errors):
                field.errors = [*field.errors, message]

    def has_field_errors(self) -> bool:
        return any(field.errors for field in _leaf_fields(self.form).values())


def _save_form(state: FormState, save: Callable[[DealInput], Deal]) -> Deal | None:
    """Validate, save and commit; on any problem roll back and leave the messages on ``state``."""
    form = state.form
    form.validate()
    data = state.deal_input()
    if data.customer_id is not None:
        # A picked customer: whatever sits in the new-customer fieldset is not used.
        for field in form.new_customer.form:
            field.errors = []
    if form.csrf_token.errors:
        state.general_errors.append(_("The form had expired. Check it and send it again."))
    if state.has_field_errors() or state.general_errors:
        # Show the rules' messages too, so every problem is answered in one go.
        state.add_errors(check_registration(data, vendor_today()), only_where_none=True)
        return None
    try:
        deal = save(data)
        db.session.commit()
    except DealError as error:
        db.session.rollback()
        state.add_errors(error.errors)
        return None
    except IntegrityError:
        # Someone recorded the same new customer (credit code) at the same moment.
        db.session.rollback()
        state.general_errors.append(
            _("Someone else saved the same customer at the same moment. Send the form again.")
        )
        return None
    return deal


def _render_form(state: FormState, *, title: str, deal: Deal | None, buttons, cancel_url: str):
    form = state.form
    picked = None
    customer_id = optional_int(form.customer_id.data)
    if customer_id is not None:
        picked = visible_customer(current_user, customer_id)
        if picked is None and deal is not None and deal.customer_id == customer_id:
            picked = deal.customer  # the deal's own customer, even one the user may not pick
        if picked is None:
            form.customer_id.data = ""
        elif not (form.customer_query.data or "").strip():
            form.customer_query.data = picked.name
    return render_template(
        "registrations/form.html",
        state=state,
        form=form,
        title=title,
        deal=deal,
        buttons=buttons,
        picked=picked,
        cancel_url=cancel_url,
    )


def _form_data_of(deal: Deal) -> dict:
    """The form's initial values for an existing deal."""
    return {
        "customer_query": deal.customer.name,
        "customer_id": str(deal.customer_id),
        "project_name": deal.project_name,
        "estimated_value": f"{deal.estimated_value:.2f}",
        "expected_close_date": deal.expected_close_date,
        "stage": deal.stage,
        "funding_source": deal.funding_source,
        "competitors": deal.competitors,
        "lines": [
            {
                "product_id": line.product_id,
                "quantity": str(line.quantity),
                "unit_price": f"{line.requested_unit_price:.2f}",
            }
            for line in deal.lines
        ],
        "contacts": [{"name": c.name, "role": c.role, "title": c.title} for c in deal.contacts],
    }


def _registration_page(deal: Deal | None):
    form = DealForm(
        data=_form_data_of(deal) if deal is not None and request.method == "GET" else None
    )
    form.set_product_choices(_active_products())
    state = FormState(form)
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        saved = _save_form(
            state,
            lambda data: save_registration(
                current_user, data, deal=deal, submit=submit, today=vendor_today()
            ),
        )
        if saved is not None:
            if not submit:
                flash(
                    _("Draft saved.") if saved.status == DRAFT else _("Changes saved."), "success"
                )
            elif has_open_conflict(saved):
                # Never who the other party is: only that someone will look at it.
                flash(_("Submitted: possible overlap, under review."), "warning")
            else:
                flash(_("Submitted."), "success")
            return redirect(url_for("deals.deal_detail", deal_id=saved.id))
    resubmit = deal is not None and deal.status == MORE_INFO
    buttons = [
        ("draft", _("Save changes") if resubmit else _("Save draft"), ""),
        ("submit", _("Resubmit") if resubmit else _("Submit"), "primary"),
    ]
    if deal is None:
        title, cancel_url = _("New registration"), url_for("registrations.list_registrations")
    else:
        title = _("Edit registration: %(project)s", project=deal.project_name)
        cancel_url = url_for("deals.deal_detail", deal_id=deal.id)
    return _render_form(state, title=title, deal=deal, buttons=buttons, cancel_url=cancel_url)


def _own_registration(deal_id: int) -> Deal:
    """The partner user's own channel deal; anything else answers 404."""
    deal = db.get_or_404(Deal, deal_id)
    if deal.kind != CHANNEL or deal.partner_id != current_user.partner_id:
        abort(404)
    return deal


@bp.route("/registrations/new", methods=["GET", "POST"])
@role_required(PARTNER)
def new_registration():
    return _registration_page(None)


@bp.route("/registrations/<int:deal_id>/edit", methods=["GET", "POST"])
@role_required(PARTNER)
def edit_registration(deal_id: int):
    deal = _own_registration(deal_id)
    if deal.status not in (DRAFT, MORE_INFO):
        flash(_("Only a draft, or a deal waiting for more information, can be edited."), "warning")
        return redirect(url_for("deals.deal_detail", deal_id=deal.id))
    try:
        return _registration_page(deal)
    except StaleDataError:
        db.session.rollback()
        flash(_("This deal was changed meanwhile. Check it and edit it again."), "warning")
        return redirect(url_for("deals.deal_detail", deal_id=deal_id))


@bp.post("/registrations/<int:deal_id>/answer")
@role_required(PARTNER)
def answer_request(deal_id: int):
    deal = _own_registration(deal_id)
    try:
        answer_information_request(deal, current_user, request.form.get("answer", ""))
        db.session.commit()
    except (DealError, StaleDataError) as error:
        db.session.rollback()
        messages = (
            error.errors.values()
            if isinstance(error, DealError)
            else [_("This deal was changed meanwhile. Check it and answer again.")]
        )
        for message in messages:
            flash(message, "error")
        return redirect(url_for("deals.deal_detail", deal_id=deal_id))
    flash(_("Your answer was sent; the deal is back in the approval queue."), "success")
    return redirect(url_for("deals.deal_detail", deal_id=deal.id))


@bp.route("/direct-deals/new", methods=["GET", "POST"])
@role_required(REP)
def new_direct_deal():
    form = DealForm()
    form.set_product_choices(_active_products())
    state = FormState(form)
    if request.method == "POST":
        deal = _save_form(
            state, lambda data: save_direct_deal(current_user, data, today=vendor_today())
        )
        if deal is not None:
            message = _("Direct deal created.")
            if open_conflict_deal_ids([deal.id]):
                message = _(
                    "Direct deal created. It overlaps with a channel registration; see Conflicts."
                )
            flash(message, "success")
            return redirect(url_for("deals.deal_detail", deal_id=deal.id))
    return _render_form(
        state,
        title=_("New direct deal"),
        deal=None,
        buttons=[("create", _("Create direct deal"), "primary")],
        cancel_url=url_for("registrations.list_direct_deals"),
    )
