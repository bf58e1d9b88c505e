"""Stock commitments (押货) and stock orders: periods, attainment, recording.

Period and attainment arithmetic are plain functions; the recording services add and flush and
raise CommitmentError / DuplicateRecord; the caller commits once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy import inspect as sa_inspect

from accounts.audit import record_audit
from accounts.models import User
from app import db
from partners.models import (
    CommitmentLine,
    Partner,
    StockCommitment,
    StockOrder,
    StockOrderLine,
    StockOrderTotal,
)
from partners.order_totals import add_order, from_cents

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
PERIOD_RE = re.compile(r"^(\d{4})(?:-(Q[1-4]|H[12]))?$")


class CommitmentError(ValueError):
    """Bad input for a commitment or order; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class DuplicateRecord(ValueError):
    """The commitment for that period, or an order with that number, already exists."""


def parse_period(period: str) -> tuple[date, date]:
    """'2026-Q4' → (2026-10-01, 2026-12-31); '2026-H2' → second half; '2026' → the year."""
    match = PERIOD_RE.match((period or "").strip().upper())
    if not match:
        raise ValueError(_("Use a period like 2026-Q4, 2026-H2 or 2026."))
    year, part = int(match.group(1)), match.group(2)
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    if part.startswith("H"):
        first = 1 if part == "H1" else 7
        months = 6
    else:
        first = (int(part[1]) - 1) * 3 + 1
        months = 3
    start = date(year, first, 1)
    end_month = first + months
    end = (date(year + 1, 1, 1) if end_month > 12 else date(year, end_month, 1)) - timedelta(days=1)
    return start, end


def elapsed_share(start: date, end: date, today: date) -> Decimal:
    """Share of the period elapsed by the end of ``today`` (0 before it starts, 1 after)."""
    total = (end - start).days + 1
    done = min(max((today - start).days + 1, 0), total)
    return (Decimal(done) / Decimal(total)).quantize(RATIO, rounding=ROUND_HALF_UP)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_HALF_UP)


@dataclass
class Attainment:
    """How far a partner is with its commitment, overall and against the time elapsed."""

    commitment: StockCommitment
    ordered: Decimal
    attainment: Decimal | None  # ordered ÷ committed
    elapsed: Decimal  # share of the period elapsed
    pro_rata_attainment: Decimal | None  # ordered ÷ (committed × elapsed)
    lines: list[dict] = field(default_factory=list)  # per committed product line / SKU

    @property
    def behind(self) -> bool:
        return self.pro_rata_attainment is not None and self.pro_rata_attainment < 1

    @property
    def shortfall(self) -> Decimal:
        return max(self.commitment.amount - self.ordered, Decimal("0.00"))


def product_entity():
    # partners sits left of pricing: reach Product through the mapped relationship, not an import.
    return sa_inspect(StockOrderLine).relationships["product"].mapper.class_


WHOLE_CHANNEL = 500  # more partners than this: read every current commitment, keep the listed


def current_commitments(partner_ids: list[int], today: date) -> dict[int, StockCommitment]:
    """Each partner's commitment whose period contains today (the longest when several do)."""
    if not partner_ids:
        return {}
    current = [StockCommitment.period_start <= today, StockCommitment.period_end >= today]
    if len(partner_ids) <= WHOLE_CHANNEL:  # else 2,000 bound parameters cost more than rows
        current.append(StockCommitment.partner_id.in_(partner_ids))
    rows = db.session.scalars(
        select(StockCommitment).where(*current).order_by(StockCommitment.period_start.desc())
    ).all()
    wanted = set(partner_ids)
    chosen: dict[int, StockCommitment] = {}
    for commitment in rows:
        if commitment.partner_id not in wanted:
            continue
        best = chosen.get(commitment.partner_id)
        span = (commitment.period_end - commitment.period_start).days
        if best is None or span > (best.period_end - best.period_start).days:
            chosen[commitment.partner_id] = commitment
    return chosen


def ordered_in_commitments(commitments: list[StockCommitment]) -> dict[int, Decimal]:
    """Ordered amount per partner in its commitment's period (one commitment per partner), from
    the stored day totals in one query joining them to the commitments."""
    if not commitments:
        return {}
    rows = db.session.execute(ordered_in_commitments_query(commitments))
    return {partner_id: from_cents(cents) for partner_id, cents in rows}


def ordered_in_commitments_query(commitments: list[StockCommitment]):
    """The SELECT of ordered_in_commitments: (partner id, cents) per commitment's period."""
    total = StockOrderTotal
    return (
        select(StockCommitment.partner_id, func.sum(total.amount_cents))
        .join(
            total,
            and_(
                total.partner_id == StockCommitment.partner_id,
                total.order_date >= StockCommitment.period_start,
                total.order_date <= StockCommitment.period_end,
            ),
        )
        .where(StockCommitment.id.in_([c.id for c in commitments]))
        .group_by(StockCommitment.partner_id)
    )


def attainments(
    partner_ids: list[int], today: date, *, with_lines: bool = True
) -> dict[int, Attainment]:
    """Attainment for many partners in a few grouped queries (no query per partner).

    ``with_lines`` adds the ordered quantities per committed product line or SKU, read from the
    order lines (a page of partners); a whole channel's dashboard leaves them out.
    """
    commitments = current_commitments(partner_ids, today)
    if not commitments:
        return {}
    ordered = ordered_in_commitments(list(commitments.values()))
    line_totals = _committed_line_totals(list(commitments.values())) if with_lines else {}
    result = {}
    for partner_id, commitment in commitments.items():
        total = ordered.get(partner_id, Decimal("0.00"))
        elapsed = elapsed_share(commitment.period_start, commitment.period_end, today)
        result[partner_id] = Attainment(
            commitment=commitment,
            ordered=total,
            attainment=ratio(total, commitment.amount),
            elapsed=elapsed,
            pro_rata_attainment=ratio(total, commitment.amount * elapsed) if elapsed else None,
            lines=line_totals.get(commitment.id, []),
        )
    return result


def _committed_line_totals(commitments: list[StockCommitment]) -> dict[int, list[dict]]:
    """Ordered quantities against each committed product line or SKU."""
    committed = db.session.scalars(
        select(CommitmentLine).where(CommitmentLine.commitment_id.in_([c.id for c in commitments]))
    ).all()
    if not committed:
        return {}
    product = product_entity()
    by_id = {c.id: c for c in commitments}
    periods = [
        and_(
            StockOrder.partner_id == c.partner_id,
            StockOrder.order_date >= c.period_start,
            StockOrder.order_date <= c.period_end,
        )
        for c in commitments
        if any(line.commitment_id == c.id for line in committed)
    ]
    rows = db.session.execute(
        select(
            StockOrder.partner_id,
            product.product_line,
            StockOrderLine.product_id,
            func.sum(StockOrderLine.quantity),
        )
        .join(StockOrder.lines)
        .join(product, product.id == StockOrderLine.product_id)
        .where(db.or_(*periods))
        .group_by(
            StockOrder.partner_id,
            product.product_line,
            StockOrderLine.product_id,
        )
    ).all()
    result: dict[int, list[dict]] = {}
    for line in committed:
        commitment = by_id[line.commitment_id]
        quantity = sum(
            int(qty)
            # one commitment per partner here, so its rows are already within its period
            for partner_id, product_line, product_id, qty in rows
            if partner_id == commitment.partner_id
            and (
                (line.product_id is not None and product_id == line.product_id)
                or (line.product_id is None and product_line == line.product_line)
            )
        )
        label = line.product.sku if line.product is not None else line.product_line
        result.setdefault(commitment.id, []).append(
            {
                "label": label,
                "committed": line.quantity,
                "ordered": quantity,
                "attainment": ratio(Decimal(quantity), Decimal(line.quantity)),
            }
        )
    return result


# --- recording ---------------------------------------------------------------------------


def _money(value, field_name: str, errors: dict[str, str]) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors[field_name] = _("Enter an amount, e.g. 1000000.00.")
        return None
    if not amount.is_finite() or amount <= 0:
        errors[field_name] = _("The amount must be above zero.")
        return None
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _whole(value, field_name: str, errors: dict[str, str]) -> int | None:
    text = str(value).strip()
    if not text.isdigit() or int(text) <= 0:
        errors[field_name] = _("The quantity must be a positive whole number.")
        return None
    return int(text)


@dataclass
class CommitmentLineInput:
    quantity: object
    product_line: str | None = None
    product_id: int | None = None


def record_commitment(
    partner: Partner,
    *,
    period: str,
    amount,
    signed_on: date | None,
    lines: list[CommitmentLineInput],
    user: User | None,
) -> StockCommitment:
    """Record a partner's commitment for a period; one per partner and period."""
    errors: dict[str, str] = {}
    try:
        start, end = parse_period(period)
    except ValueError as error:
        errors["period"] = str(error)
        start = end = None
    value = _money(amount, "amount", errors)
    product = product_entity()
    known_lines = set(db.session.scalars(select(product.product_line).distinct()))
    checked = []
    for index, line in enumerate(lines):
        quantity = _whole(line.quantity, f"lines[{index}].quantity", errors)
        if line.product_id is not None:
            if db.session.get(product, line.product_id) is None:
                errors[f"lines[{index}].sku"] = _("Unknown product.")
        elif line.product_line not in known_lines:
            errors[f"lines[{index}].product_line"] = _("Unknown product line.")
        checked.append((line, quantity))
    if errors:
        raise CommitmentError(errors)
    period_key = period.strip().upper()
    exists = db.session.scalar(
        select(StockCommitment.id).where(
            StockCommitment.partner_id == partner.id, StockCommitment.period == period_key
        )
    )
    if exists is not None:
        raise DuplicateRecord(
            _(
                "%(partner)s already has a commitment for %(period)s.",
                partner=partner.name,
                period=period_key,
            )
        )
    commitment = StockCommitment(
        partner_id=partner.id,
        period=period_key,
        period_start=start,
        period_end=end,
        amount=value,
        signed_on=signed_on,
        created_by_id=user.id if user else None,
        lines=[
            CommitmentLine(
                product_line=None if line.product_id else line.product_line,
                product_id=line.product_id,
                quantity=quantity,
            )
            for line, quantity in checked
        ],
    )
    db.session.add(commitment)
    db.session.flush()
    record_audit(
        "commitment_recorded",
        commitment,
        after={
            "partner_id": partner.id,
            "period": period_key,
            "amount": f"{value:.2f}",
            "lines": [f"{line.product_line or line.product_id}: {q}" for line, q in checked],
        },
        summary=f"{partner.name} {period_key}",
        user_id=user.id if user else None,
    )
    return commitment


@dataclass
class OrderLineInput:
    product_id: int | None
    quantity: object
    unit_price: object


def record_stock_order(
    partner: Partner,
    *,
    number: str,
    order_date: date | None,
    lines: list[OrderLineInput],
    user: User | None,
    source: str = "form",
) -> StockOrder:
    """Record a stock order with its lines; an order number already recorded is refused."""
    errors: dict[str, str] = {}
    number = (number or "").strip()
    if not number:
        errors["number"] = _("Enter the order number.")
    if order_date is None:
        errors["date"] = _("Enter the order date.")
    if not lines:
        errors["lines"] = _("Add at least one line.")
    product = product_entity()
    for index, line in enumerate(lines):
        if line.product_id is None or db.session.get(product, line.product_id) is None:
            errors[f"lines[{index}].sku"] = _("Unknown product.")
        _whole(line.quantity, f"lines[{index}].quantity", errors)
        _money(line.unit_price, f"lines[{index}].unit_price", errors)
    if errors:
        raise CommitmentError(errors)
    if db.session.scalar(select(StockOrder.id).where(StockOrder.number == number)) is not None:
        raise DuplicateRecord(_("Order %(number)s is already recorded.", number=number))
    order = StockOrder(
        partner_id=partner.id,
        number=number,
        order_date=order_date,
        source=source,
        created_by_id=user.id if user else None,
        lines=[
            StockOrderLine(
                product_id=line.product_id,
                quantity=int(str(line.quantity).strip()),
                unit_price=_money(line.unit_price, "", {}),
            )
            for line in lines
        ],
    )
    db.session.add(order)
    db.session.flush()
    add_order(order)  # the day's total, in the same transaction as the order
    total = sum((line.quantity * line.unit_price for line in order.lines), Decimal(0))
    record_audit(
        "stock_order_recorded",
        order,
        after={"partner_id": partner.id, "number": number, "total": f"{total:.2f}"},
        summary=f"{partner.name} {number}",
        user_id=user.id if user else None,
    )
    return order
