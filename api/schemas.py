"""The API's JSON shapes: reading a deal request into the workflow's inputs, writing deals out.

Plain functions of plain values and models; the database work stays in api.views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from deals.models import Conflict, Deal
from deals.workflow import DealInput, LineInput

DEFAULT_STAGE = "need_identified"
DEFAULT_FUNDING_SOURCE = "own_budget"

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ROW_KEY = re.compile(r"^(lines|contacts)-(\d+)-(\w+)$")
# The workflow names fields as the web form does; the API names them as the JSON body does.
_FIELD_PARTS = {"product_id": "sku"}

Errors = dict[str, list[str]]


def money(amount: Decimal | None) -> str | None:
    """Money goes out as a string with two decimals ("1234.50"), never as a float."""
    return None if amount is None else f"{amount:.2f}"


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def api_field(key: str) -> str:
    """A workflow error key in the API's terms: lines-0-quantity → lines[0].quantity."""
    if key == "":
        return "deal"
    if key == "customer_id":
        return "customer"
    if key.startswith("new_customer-"):
        return "customer." + key.removeprefix("new_customer-")
    match = _ROW_KEY.match(key)
    if match:
        kind, index, part = match.groups()
        return f"{kind}[{index}].{_FIELD_PARTS.get(part, part)}"
    return key


def api_errors(errors: dict[str, str], renamed: dict[str, str] | None = None) -> Errors:
    """A DealError's messages keyed as the API's fields (``renamed`` first, then api_field)."""
    renamed = renamed or {}
    found: Errors = {}
    for key, message in errors.items():
        found.setdefault(renamed.get(key) or api_field(key), []).append(message)
    return found


# --- reading a deal request -----------------------------------------------------------


@dataclass
class CustomerRequest:
    name: str = ""
    uscc: str = ""
    region: str = ""
    industry: str = ""


@dataclass
class DealRequest:
    """A POST /deals body read leniently; ``errors`` holds what could not be read at all."""

    data: DealInput
    customer: CustomerRequest
    submit: bool | None
    errors: Errors = field(default_factory=dict)


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _text(obj: dict, key: str, path: str, errors: Errors, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        _add(errors, path, "Send this as a string.")
        return default
    return value


def _number_text(obj: dict, key: str, path: str, errors: Errors) -> str:
    """An amount or a quantity as typed: a string ("1234.50") or a JSON number."""
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        _add(errors, path, 'Send this as a string such as "1234.50" or as a number.')
        return ""
    return str(value).strip()


def _date(obj: dict, key: str, errors: Errors) -> date | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    _add(errors, key, "Send the date as YYYY-MM-DD.")
    return None


def requested_skus(body: dict) -> set[str]:
    """The SKUs a body names, for one product lookup before read_deal_request."""
    lines = body.get("lines")
    if not isinstance(lines, list):
        return set()
    return {
        line["sku"].strip()
        for line in lines
        if isinstance(line, dict) and isinstance(line.get("sku"), str)
    }


def read_deal_request(body: dict, product_ids: dict[str, int]) -> DealRequest:
    """Read a deal body; ``product_ids`` maps the SKUs of active products to their ids."""
    errors: Errors = {}
    customer = CustomerRequest()
    raw_customer = body.get("customer")
    if isinstance(raw_customer, dict):
        customer = CustomerRequest(
            name=_text(raw_customer, "name", "customer.name", errors).strip(),
            uscc=_text(raw_customer, "uscc", "customer.uscc", errors).strip(),
            region=_text(raw_customer, "region", "customer.region", errors).strip(),
            industry=_text(raw_customer, "industry", "customer.industry", errors).strip(),
        )
    elif raw_customer is not None:
        _add(errors, "customer", "Send the customer as an object with at least its name.")

    lines: list[LineInput] = []
    raw_lines = body.get("lines")
    if isinstance(raw_lines, list):
        for index, raw_line in enumerate(raw_lines):
            path = f"lines[{index}]"
            if not isinstance(raw_line, dict):
                _add(errors, path, "Send each line as an object with sku, quantity, unit_price.")
                lines.append(LineInput(product_id=None, quantity="", unit_price=""))
                continue
            sku = _text(raw_line, "sku", f"{path}.sku", errors).strip()
            product_id = product_ids.get(sku)
            if not sku:
                _add(errors, f"{path}.sku", "Enter the product SKU.")
            elif product_id is None:
                _add(errors, f"{path}.sku", f"Unknown product SKU {sku!r}.")
            lines.append(
                LineInput(
                    product_id=product_id,
                    quantity=_number_text(raw_line, "quantity", f"{path}.quantity", errors),
                    unit_price=_number_text(raw_line, "unit_price", f"{path}.unit_price", errors),
                )
            )
    elif raw_lines is not None:
        _add(errors, "lines", "Send the lines as a list.")

    submit = body.get("submit")
    if submit is not None and not isinstance(submit, bool):
        _add(errors, "submit", "Send true to submit the registration or false to keep a draft.")
        submit = None

    data = DealInput(
        project_name=_text(body, "project_name", "project_name", errors),
        estimated_value=_number_text(body, "estimated_value", "estimated_value", errors),
        expected_close_date=_date(body, "expected_close_date", errors),
        stage=_text(body, "stage", "stage", errors, DEFAULT_STAGE),
        funding_source=_text(
            body, "funding_source", "funding_source", errors, DEFAULT_FUNDING_SOURCE
        ),
        competitors=_text(body, "competitors", "competitors", errors),
        lines=lines,
    )
    return DealRequest(data=data, customer=customer, submit=submit, errors=errors)


# --- writing deals out ------------------------------------------------------------------


def conflict_json(conflict: Conflict, deal: Deal) -> dict[str, Any]:
    """A conflict seen from ``deal``: the other side is the other deal (or the named account)."""
    other_deal_id = conflict.other_deal_id if conflict.deal_id == deal.id else conflict.deal_id
    evidence = conflict.evidence or {}
    match = evidence.get("match") or {}
    return {
        "id": conflict.id,
        "kind": conflict.kind,
        "status": conflict.status,
        "other_deal_id": other_deal_id,
        "account_id": conflict.account_id,
        "score": match.get("score"),
        "evidence": evidence,
    }


def deal_json(
    deal: Deal,
    *,
    possible_overlap: bool,
    status_label: str,
    conflicts: list[Conflict] | None = None,
    suggestions: list | None = None,
) -> dict[str, Any]:
    """A deal as the API shows it; ``conflicts`` (with the version) and ``suggestions`` (the
    possible matches still to review) only for deciders."""
    data: dict[str, Any] = {
        "id": deal.id,
        "kind": deal.kind,
        "status": deal.effective_status(),
        "status_label": status_label,
        "possible_overlap": possible_overlap,
        "project_name": deal.project_name,
        "customer": {"id": deal.customer.id, "name": deal.customer.name},
        "estimated_value": money(deal.estimated_value),
        "expected_close_date": _iso(deal.expected_close_date),
        "stage": deal.stage,
        "funding_source": deal.funding_source,
        "lines": [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "unit_price": money(line.requested_unit_price),
            }
            for line in deal.lines
        ],
        "protection_expires_at": _iso(deal.protection_expires_at),
        "strategic_exception": deal.strategic_exception,
    }
    if conflicts is not None:
        data["version"] = deal.version
        data["conflicts"] = [conflict_json(c, deal) for c in conflicts]
    if suggestions is not None:
        data["suggestions"] = [
            {
                "customer_id": s.customer_id,
                "name": s.customer.name,
                "rule": s.rule,
                "score": float(s.score),
            }
            for s in suggestions
        ]
    return data
