"""The JSON API (token authentication): thin views over the same services as the pages.

Every view is declared with api_roles_required; a request commits once on success and rolls
back on any error. Money goes out as strings with two decimals, errors as JSON.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from stdnum.cn import uscc as uscc_rule
from werkzeug.exceptions import HTTPException

from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, User
from api.auth import api_roles_required, current_api_user
from api.schemas import (
    Errors,
    api_errors,
    api_field,
    deal_json,
    money,
    read_deal_request,
    requested_skus,
)
from app import db
from clock import vendor_today
from customers.matching import compare_customer_names, name_search_key
from customers.models import EndCustomer
from customers.services import customer_visible_to
from deals.access import visible_deal
from deals.conflicts import conflicts_visible_to
from deals.models import Conflict, Deal, DealLine, DealSuggestion
from deals.registration_forms import MAX_LINES
from deals.views import may_decide, partner_facing_status
from deals.workflow import (
    DealConflict,
    DealError,
    NewCustomerInput,
    StaleDecision,
    approve_deal,
    check_registration,
    has_open_conflict,
    reject_deal,
    request_information,
    save_direct_deal,
    save_registration,
)
from partners.forms import uscc_message
from pricing.models import Product

bp = Blueprint("api", __name__, url_prefix="/api/v1")

ALL_ROLES = (ADMIN, MANAGER, REP, FINANCE, PARTNER)
DECIDERS = (ADMIN, MANAGER)
MATCH_CANDIDATES = 20
MATCH_RESULTS = 10
DECISIONS = {"approve", "reject", "request_info"}


def http_error(error: HTTPException):
    """Errors raised inside the API (abort, get_or_404) answer JSON, not the HTML error page."""
    response = jsonify(error=error.description)
    response.status_code = error.code or 500
    return response


# By code as well: Flask prefers the app's handler for a code over a blueprint's by class.
bp.register_error_handler(HTTPException, http_error)
for _code in (400, 403, 404, 405, 409, 413, 429):
    bp.register_error_handler(_code, http_error)


def _unprocessable(errors: Errors, message: str = "Some fields are not valid."):
    return jsonify(error=message, errors=errors), 422


def _json_object() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        abort(400, description="Send a JSON object as the request body.")
    return body


# --- who am I, products, customers ------------------------------------------------------


@bp.get("/me")
@api_roles_required(*ALL_ROLES)
def me():
    user = current_api_user()
    return jsonify(email=user.email, role=user.role, partner_id=user.partner_id)


@bp.get("/products")
@api_roles_required(*ALL_ROLES)
def products():
    rows = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku))
    return jsonify(
        products=[
            {
                "sku": p.sku,
                "name": p.name,
                "product_line": p.product_line,
                "list_price": money(p.list_price),
            }
            for p in rows
        ]
    )


@bp.get("/customers/match")
@api_roles_required(*ALL_ROLES)
def match_customers():
    """Customers that may be the one named ``q``, best first, scored by the matching rules."""
    user = current_api_user()
    q = request.args.get("q", "").strip()[:200]
    if not q:
        return _unprocessable({"q": ["Enter the customer name to match."]})
    key = name_search_key(q)
    # Equal normalised keys first (the likely same customer), then names containing q: a
    # common word in q must not crowd the real match out of the candidates.
    visible = customer_visible_to(user)
    queries = []
    if key:
        queries.append(select(EndCustomer).where(EndCustomer.name_key == key, visible))
    queries.append(
        select(EndCustomer).where(EndCustomer.name.contains(q, autoescape=True), visible)
    )
    candidates: dict[int, EndCustomer] = {}
    for stmt in queries:
        for customer in db.session.scalars(stmt.order_by(EndCustomer.id).limit(MATCH_CANDIDATES)):
            candidates.setdefault(customer.id, customer)
    scored = []
    for customer in candidates.values():
        verdict = compare_customer_names(q, customer.name)
        scored.append((verdict, customer))
    scored.sort(key=lambda pair: (not pair[0].same, -pair[0].score, pair[1].name, pair[1].id))
    matches = []
    for verdict, customer in scored[:MATCH_RESULTS]:
        item = {"id": customer.id, "name": customer.name, "score": round(verdict.score, 1)}
        # Partners learn nothing of the vendor's account planning (coverage, segment, owner).
        if user.role != PARTNER:
            item.update(
                same=verdict.same,
                rule=verdict.rule,
                uscc=customer.uscc,
                region=customer.region,
                segment=customer.segment,
                coverage=customer.coverage,
            )
        matches.append(item)
    return jsonify(matches=matches)


# --- deals ----------------------------------------------------------------------------


def _deal_for(user: User, deal_id: int) -> Deal:
    """The deal, or 404 when it does not exist or the user may not see it (deals.access)."""
    deal = visible_deal(
        user,
        deal_id,
        selectinload(Deal.customer),
        selectinload(Deal.partner),
        selectinload(Deal.lines).selectinload(DealLine.product),
    )
    if deal is None:
        abort(404, description="No such deal.")
    return deal


def _deal_response(user: User, deal: Deal) -> dict:
    if user.role == PARTNER:
        # Never who the other party is: only that an overlap is under review.
        overlapping = has_open_conflict(deal)
        return deal_json(
            deal,
            possible_overlap=overlapping,
            status_label=partner_facing_status(deal, overlapping),
        )
    # Vendor staff: only the conflicts they may see at all (reps: those they are party to).
    visible = list(
        db.session.scalars(
            conflicts_visible_to(user)
            .where(or_(Conflict.deal_id == deal.id, Conflict.other_deal_id == deal.id))
            .order_by(Conflict.created_at, Conflict.id)
        )
    )
    suggestions = None
    if user.role in DECIDERS:
        suggestions = list(
            db.session.scalars(
                select(DealSuggestion)
                .where(DealSuggestion.deal_id == deal.id, DealSuggestion.status == "open")
                .options(selectinload(DealSuggestion.customer))
                .order_by(DealSuggestion.score.desc(), DealSuggestion.id)
            )
        )
    return deal_json(
        deal,
        possible_overlap=any(c.status == "open" for c in visible),
        status_label=deal.status_label,
        conflicts=visible if user.role in DECIDERS else None,
        suggestions=suggestions,
    )


@bp.get("/deals/<int:deal_id>")
@api_roles_required(*ALL_ROLES)
def get_deal(deal_id: int):
    user = current_api_user()
    return jsonify(_deal_response(user, _deal_for(user, deal_id)))


@bp.post("/deals")
@api_roles_required(PARTNER, REP)
def create_deal():
    """A partner user's registration (submitted or draft) or a direct rep's deal."""
    user = current_api_user()
    body = _json_object()
    skus = requested_skus(body)
    product_ids = (
        dict(
            db.session.execute(
                select(Product.sku, Product.id).where(
                    Product.sku.in_(skus), Product.active.is_(True)
                )
            ).all()
        )
        if skus
        else {}
    )
    deal_request = read_deal_request(body, product_ids)
    data, customer, errors = deal_request.data, deal_request.customer, deal_request.errors
    if user.role == PARTNER and deal_request.submit is None and "submit" not in errors:
        errors["submit"] = ["Send true to submit the registration or false to keep a draft."]

    if len(data.lines) > MAX_LINES:
        errors.setdefault("lines", []).append(f"At most {MAX_LINES} lines.")

    uscc = uscc_rule.compact(customer.uscc).upper() if customer.uscc else ""
    uscc_problem = uscc_message(uscc) if uscc else None
    if uscc_problem:
        errors.setdefault("customer.uscc", []).append(uscc_problem)
        uscc = ""
    if "customer" not in errors:
        # Named, not picked: the workflow finds a known customer by the one rule of
        # customers.identity, under the customer's lock (a hidden one is reused without being
        # shown), and creates it otherwise.
        data.new_customer = NewCustomerInput(
            name=customer.name, uscc=uscc, region=customer.region, industry=customer.industry
        )
    today = vendor_today()
    if errors:
        # Answer every problem in one go: the rules' messages where the body was readable.
        for key, message in check_registration(data, today).items():
            if key != "customer_id" and api_field(key) not in errors:
                errors[api_field(key)] = [message]
        return _unprocessable(errors)

    try:
        if user.role == PARTNER:
            deal = save_registration(user, data, submit=deal_request.submit, today=today)
        else:
            deal = save_direct_deal(user, data, today=today)
        db.session.commit()
    except DealError as error:
        db.session.rollback()
        return _unprocessable(api_errors(error.errors))
    except IntegrityError:
        # Someone recorded the same new customer (credit code) at the same moment.
        db.session.rollback()
        return jsonify(error="Someone saved the same customer at the same moment. Send again."), 409
    except Exception:
        db.session.rollback()
        raise
    response = jsonify(
        id=deal.id, status=deal.effective_status(), possible_overlap=has_open_conflict(deal)
    )
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_deal", deal_id=deal.id)
    return response


@bp.post("/deals/<int:deal_id>/decision")
@api_roles_required(*DECIDERS)
def decide_deal(deal_id: int):
    """Approve, reject or ask for information, about the version the decider last read."""
    user = current_api_user()
    deal = _deal_for(user, deal_id)
    if not may_decide(user, deal):
        abort(403, description="You may not decide this deal.")
    body = _json_object()
    errors: Errors = {}
    action = body.get("action")
    if action not in DECISIONS:
        errors["action"] = ["Send approve, reject or request_info."]
    note = body.get("note")
    if note is None:
        note = ""
    elif not isinstance(note, str):
        errors["note"] = ["Send this as a string."]
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        errors["version"] = ["Send the deal's version as you last read it (an integer)."]
    if errors:
        return _unprocessable(errors)
    try:
        if action == "approve":
            approve_deal(deal, user, version, note)
        elif action == "reject":
            reject_deal(deal, user, version, note)
        else:
            request_information(deal, user, version, note)
        db.session.commit()
    except (StaleDecision, StaleDataError) as error:
        db.session.rollback()
        db.session.refresh(deal)
        message = str(error) if isinstance(error, StaleDecision) else str(StaleDecision(deal))
        return jsonify(error=message, deal=_deal_response(user, deal)), 409
    except DealConflict as error:
        db.session.rollback()
        return _unprocessable(api_errors(error.errors), str(error))
    except DealError as error:
        db.session.rollback()
        return _unprocessable(
            api_errors(error.errors, renamed={"reason": "note", "question": "note"}), str(error)
        )
    except Exception:
        db.session.rollback()
        raise
    return jsonify(_deal_response(user, deal))


# Partner summaries, price lists, commitments and stock orders: their routes join this blueprint.
import api.partners  # noqa: E402, F401
