"""The JSON API for partners: a partner's summary and price list, commitments, stock orders.

Routes hang on api.views' blueprint (imported at the bottom of api.views). Thin views over the
partners and pricing services: they read the body, the services check it, record and audit; a
request commits once on success and rolls back on any error.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from flask import abort, current_app, jsonify, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, User
from api.auth import api_roles_required, current_api_user
from api.schemas import Errors, money
from api.views import _json_object, _unprocessable, bp
from app import db
from clock import vendor_today
from partners.commitments import (
    CommitmentError,
    CommitmentLineInput,
    DuplicateRecord,
    OrderLineInput,
    attainments,
    record_commitment,
    record_stock_order,
)
from partners.models import Partner, StockCommitment
from partners.settings import get_settings
from partners.signals import at_risk_for
from partners.views import may_edit_partner
from pricing.models import Product
from pricing.pricelist import PriceListFilters, price_list_rows

PARTNER_READERS = (ADMIN, MANAGER, FINANCE, PARTNER)
EDITORS = (ADMIN, MANAGER)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def ratio_text(value: Decimal | None) -> str | None:
    """Ratios go out as strings with four decimals ("0.3520"), like money never as floats."""
    return None if value is None else f"{value:.4f}"


def _partner_for(user: User, partner_id: int) -> Partner:
    """The partner, or 404 when it does not exist or a partner user asks for another's."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or (user.role == PARTNER and user.partner_id != partner.id):
        abort(404, description="No such partner.")
    return partner


def _may_manage(user: User, partner: Partner) -> None:
    """Admins act on any partner; a manager on its own partners and unowned ones (else 403)."""
    if not may_edit_partner(user, partner):
        abort(403, description="You may only act on partners you own or unowned ones.")


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _merge(errors: Errors, service_errors: dict[str, str]) -> None:
    """The service's messages, for fields (and lines) the body reading has not refused."""
    for key, message in service_errors.items():
        if key.partition(".")[0] not in errors:
            errors.setdefault(key, [message])


def _number(value: Any, path: str, errors: Errors) -> str:
    """An amount, quantity or price as sent: a string or a JSON number (never a boolean)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        _add(errors, path, 'Send this as a string such as "1234.50" or as a number.')
        return ""
    return str(value).strip()


def _text(value: Any, path: str, errors: Errors) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        _add(errors, path, "Send this as a string.")
        return ""
    return value.strip()


def _date(value: Any, path: str, errors: Errors) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    _add(errors, path, "Send the date as YYYY-MM-DD.")
    return None


def _lines(body: dict, errors: Errors) -> list:
    raw = body.get("lines")
    if raw is None:
        return []
    if not isinstance(raw, list):
        _add(errors, "lines", "Send the lines as a list.")
        return []
    return raw


def _product_ids(lines: list) -> dict[str, int]:
    skus = {
        line["sku"].strip()
        for line in lines
        if isinstance(line, dict) and isinstance(line.get("sku"), str)
    }
    if not skus:
        return {}
    return dict(
        db.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all()
    )


# --- a partner's summary ------------------------------------------------------------------


def commitment_json(commitment: StockCommitment) -> dict:
    return {
        "id": commitment.id,
        "partner_id": commitment.partner_id,
        "period": commitment.period,
        "period_start": commitment.period_start.isoformat(),
        "period_end": commitment.period_end.isoformat(),
        "amount": money(commitment.amount),
        "signed_on": commitment.signed_on.isoformat() if commitment.signed_on else None,
        "lines": [
            {
                "product_line": line.product_line,
                "sku": line.product.sku if line.product is not None else None,
                "quantity": line.quantity,
            }
            for line in commitment.lines
        ],
    }


@bp.get("/partners/<int:partner_id>")
@api_roles_required(*PARTNER_READERS)
def get_partner(partner_id: int):
    user = current_api_user()
    partner = _partner_for(user, partner_id)
    today = vendor_today()
    ids = [partner.id]
    attained = attainments(ids, today).get(partner.id)
    commitment = None
    if attained is not None:
        commitment = {
            "period": attained.commitment.period,
            "amount": money(attained.commitment.amount),
            "ordered": money(attained.ordered),
            "attainment": ratio_text(attained.attainment),
            "pro_rata_attainment": ratio_text(attained.pro_rata_attainment),
        }
    summary = {
        "id": partner.id,
        "name": partner.name,
        "uscc": partner.uscc,
        "tier": partner.tier,
        "commitment": commitment,
    }
    if user.role != PARTNER:
        # The vendor's internal flags about the partner: never shown to the partner itself.
        price_only = current_app.extensions["price_only_signals"](ids, today)[partner.id]
        risk = at_risk_for(ids, today, get_settings()["at_risk_drop_ratio"])[partner.id]
        summary["price_only"] = {
            "flagged": price_only.flagged,
            "signals": [signal.as_dict() for signal in price_only.signals],
        }
        summary["at_risk"] = {"flagged": risk.flagged, "evidence": risk.evidence}
    return jsonify(summary)


@bp.get("/partners/<int:partner_id>/prices")
@api_roles_required(*PARTNER_READERS)
def partner_prices(partner_id: int):
    """The partner's price list: every active product at its tier discount (not for reps, who
    do not read partners' tier discounts; list prices: GET /products)."""
    partner = _partner_for(current_api_user(), partner_id)
    rate = partner.tier_policy.discount_rate
    return jsonify(
        partner_id=partner.id,
        tier=partner.tier,
        discount_rate=ratio_text(rate),
        prices=[
            {
                "sku": row.sku,
                "name": row.name,
                "product_line": row.product_line,
                "list_price": money(row.list_price),
                "price": money(row.price),
            }
            for row in price_list_rows(PriceListFilters(), rate)
        ],
    )


# --- commitments and stock orders ---------------------------------------------------------


def _conflict(message: str):
    return jsonify(error=message), 409


@bp.post("/partners/<int:partner_id>/commitments")
@api_roles_required(*EDITORS)
def create_commitment(partner_id: int):
    user = current_api_user()
    partner = _partner_for(user, partner_id)
    _may_manage(user, partner)
    body = _json_object()
    errors: Errors = {}
    period = _text(body.get("period"), "period", errors)
    amount = _number(body.get("amount"), "amount", errors)
    signed_on = _date(body.get("signed_on"), "signed_on", errors)
    raw_lines = _lines(body, errors)
    product_ids = _product_ids(raw_lines)
    lines = []
    for index, raw in enumerate(raw_lines):
        path = f"lines[{index}]"
        if not isinstance(raw, dict):
            _add(errors, path, "Send each line as an object with product_line or sku, quantity.")
            lines.append(CommitmentLineInput(quantity=""))  # keeps the service's line numbers
            continue
        quantity = _number(raw.get("quantity"), f"{path}.quantity", errors)
        product_line = _text(raw.get("product_line"), f"{path}.product_line", errors)
        sku = _text(raw.get("sku"), f"{path}.sku", errors)
        if product_line and sku:
            _add(errors, path, "Send either product_line or sku, not both.")
        product_id = None
        if sku:
            product_id = product_ids.get(sku)
            if product_id is None:
                _add(errors, f"{path}.sku", f"Unknown product SKU {sku!r}.")
                product_id = 0  # the service refuses it too; the message above stays
        elif not product_line and f"{path}.product_line" not in errors:
            _add(errors, f"{path}.product_line", "Send the product line or the SKU.")
        lines.append(
            CommitmentLineInput(
                quantity=quantity,
                product_line=None if sku else product_line,
                product_id=product_id,
            )
        )
    try:
        commitment = record_commitment(
            partner, period=period, amount=amount, signed_on=signed_on, lines=lines, user=user
        )
        if errors:
            db.session.rollback()
            return _unprocessable(errors)
        db.session.commit()
    except CommitmentError as error:
        db.session.rollback()
        _merge(errors, error.errors)
        return _unprocessable(errors)
    except DuplicateRecord as error:
        db.session.rollback()
        return _unprocessable(errors) if errors else _conflict(str(error))
    except IntegrityError:
        db.session.rollback()
        return _conflict("Someone recorded the same commitment at the same moment.")
    except Exception:
        db.session.rollback()
        raise
    response = jsonify(commitment_json(commitment))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_partner", partner_id=partner.id)
    return response


@bp.post("/stock-orders")
@api_roles_required(*EDITORS)
def create_stock_order():
    """A stock order as a vendor's ERP sends it; all of it is stored or nothing."""
    user = current_api_user()
    body = _json_object()
    errors: Errors = {}
    partner = None
    partner_id = body.get("partner_id")
    if isinstance(partner_id, bool) or not isinstance(partner_id, int):
        _add(errors, "partner_id", "Send the partner's id (an integer).")
    else:
        partner = db.session.get(Partner, partner_id)
        if partner is None:
            _add(errors, "partner_id", "Unknown partner.")
    number = _text(body.get("number"), "number", errors)
    order_date = _date(body.get("date"), "date", errors)
    raw_lines = _lines(body, errors)
    product_ids = _product_ids(raw_lines)
    lines = []
    for index, raw in enumerate(raw_lines):
        path = f"lines[{index}]"
        if not isinstance(raw, dict):
            _add(errors, path, "Send each line as an object with sku, quantity, unit_price.")
            lines.append(OrderLineInput(product_id=None, quantity="", unit_price=""))
            continue
        sku = _text(raw.get("sku"), f"{path}.sku", errors)
        product_id = product_ids.get(sku) if sku else None
        if f"{path}.sku" not in errors:
            if not sku:
                _add(errors, f"{path}.sku", "Enter the product SKU.")
            elif product_id is None:
                _add(errors, f"{path}.sku", f"Unknown product SKU {sku!r}.")
        lines.append(
            OrderLineInput(
                product_id=product_id,
                quantity=_number(raw.get("quantity"), f"{path}.quantity", errors),
                unit_price=_number(raw.get("unit_price"), f"{path}.unit_price", errors),
            )
        )
    if partner is None:
        return _unprocessable(errors)
    _may_manage(user, partner)
    try:
        order = record_stock_order(
            partner,
            number=number,
            order_date=order_date,
            lines=lines,
            user=user,
            source="api",
        )
        if errors:
            db.session.rollback()
            return _unprocessable(errors)
        db.session.commit()
    except CommitmentError as error:
        db.session.rollback()
        _merge(errors, error.errors)
        return _unprocessable(errors)
    except DuplicateRecord as error:
        db.session.rollback()
        return _unprocessable(errors) if errors else _conflict(str(error))
    except IntegrityError:
        db.session.rollback()
        return _conflict(f"Order {number} is already recorded.")
    except Exception:
        db.session.rollback()
        raise
    total = sum((line.quantity * line.unit_price for line in order.lines), Decimal(0))
    response = jsonify(
        id=order.id,
        partner_id=order.partner_id,
        number=order.number,
        date=order.order_date.isoformat(),
        source=order.source,
        total=money(total),
        lines=[
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
            }
            for line in order.lines
        ],
    )
    response.status_code = 201
    return response
