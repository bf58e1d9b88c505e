"""Statements: the period, the partners in scope, the figures and the detail rows.

The figures finance reconciles, per partner and statement period [start, end] (both days
included):

- **committed**: the partner's stock commitments that overlap the period, each counted for the
  days it overlaps: ``amount × overlapping days ÷ days of the commitment's period``, in cents,
  half-up. So a commitment whose period lies within the statement period counts in full, and a
  statement period inside a commitment's period (a month of a yearly commitment) gets the
  commitment pro-rated by days. A commitment whose period lies inside another commitment of the
  same partner (2026-Q1 beside 2026) is part of that one and is not counted again: the longest
  wins, as for the attainment on the partner pages.
- **ordered**: Σ quantity × unit price over the lines of the partner's stock orders dated in
  the period (read from the stored day totals, ``stock_order_total``, which hold that sum in
  cents per partner and day).
- **attainment**: ordered ÷ committed, four decimals half-up; blank when nothing is committed.
- **shortfall**: max(committed − ordered, 0).
- **special-price discount granted**: Σ (tier price − approved unit price) × quantity over the
  lines with an approved special price (``special_status == "approved"``) of the partner's
  deals that are approved, won or expired and were decided (``Deal.decided_at``) in the period,
  days taken in the vendor's time zone (Asia/Shanghai). The tier price is the product's list
  price less the discount of the partner's tier, in cents half-up, from today's list price and
  tier policy: the app keeps the granted price (``approved_unit_price``) but not the tier price
  of the day. A line approved before ``approved_unit_price`` existed counts its requested price.
- **rebate**: ordered × the rebate rate of the partner's tier policy, cents half-up.

Money is Decimal with two places. The aggregates run in SQL, one grouped query per measure for
all the partners in scope, never a query per partner; they add integer cents, so SQLite (which
stores NUMERIC as floating point) gives the same cents as PostgreSQL. Detail rows are fetched in
batches (``yield_per``) and never all held in memory.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import BigInteger, Integer, case, cast, exists, func, literal, select
from sqlalchemy.orm import aliased

from accounts.models import User
from app import db
from clock import vendor_tz
from customers.models import EndCustomer
from deals.models import APPROVED, EXPIRED, WON, Deal, DealLine
from partners.commitments import parse_period, ratio
from partners.models import (
    TIERS,
    Partner,
    StockCommitment,
    StockOrder,
    StockOrderLine,
    StockOrderTotal,
    TierPolicy,
)
from pricing.models import Product
from pricing.services import tier_price

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
EXPORT_BATCH_SIZE = 2_000
ORDER_CHUNK = 500  # stock orders whose lines are read in one query
# Deals whose approval granted prices: approved (also past protection), won, expired.
GRANTED_STATUSES = (APPROVED, WON, EXPIRED)
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


# --- the period ------------------------------------------------------------------------------


class PeriodError(ValueError):
    """A period that cannot be read; ``errors`` maps the parameter at fault to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class StatementPeriod:
    start: date
    end: date
    label: str  # "2026-Q1", "2026-03", or "2026-01-01 – 2026-02-15"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def decided_range(self) -> tuple[datetime, datetime]:
        """The period's days in the vendor's time zone, as UTC instants [from, to)."""
        start = datetime.combine(self.start, time(), vendor_tz())
        end = datetime.combine(self.end + timedelta(days=1), time(), vendor_tz())
        return start.astimezone(UTC), end.astimezone(UTC)


def _date(value, name: str, errors: dict[str, str]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def statement_period(period: str | None = None, start=None, end=None) -> StatementPeriod:
    """A named period ('2026', '2026-H1', '2026-Q3', '2026-03') or from–to dates (both days
    included); raises PeriodError naming the parameter at fault."""
    period = (period or "").strip().upper()
    if period:
        month = MONTH_RE.match(period)
        try:
            if month:
                year, number = int(month.group(1)), int(month.group(2))
                if not 1 <= number <= 12:
                    raise ValueError
                first = date(year, number, 1)
                following = date(year + number // 12, number % 12 + 1, 1)
                first_day, last_day = first, following - timedelta(days=1)
                label = f"{year}-{number:02d}"
            else:
                first_day, last_day = parse_period(period)
                label = period
        except ValueError:
            raise PeriodError(
                {"period": _("Use a period like 2026, 2026-H1, 2026-Q3 or 2026-03.")}
            ) from None
    else:
        errors: dict[str, str] = {}
        if start in (None, ""):
            errors["from"] = _("Enter the first day of the period.")
        if end in (None, ""):
            errors["to"] = _("Enter the last day of the period.")
        first_day = _date(start, "from", errors) if "from" not in errors else None
        last_day = _date(end, "to", errors) if "to" not in errors else None
        if errors:
            raise PeriodError(errors)
        if last_day < first_day:
            raise PeriodError({"to": _("The period cannot end before it starts.")})
        label = f"{first_day.isoformat()} – {last_day.isoformat()}"
    if not (EARLIEST_YEAR <= first_day.year and last_day.year <= LATEST_YEAR):
        message = _("Choose a period between 2000 and 2100.")
        raise PeriodError({"period" if period else "from": message})
    return StatementPeriod(first_day, last_day, label)


# --- which partners ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementScope:
    """One partner (partner_id), or the channel narrowed by tier, region and owner."""

    partner_id: int | None = None
    tier: str = ""
    region: str = ""
    owner_id: int | None = None

    @property
    def is_channel(self) -> bool:
        return self.partner_id is None

    def as_params(self) -> dict:
        return {
            "partner_id": self.partner_id,
            "tier": self.tier,
            "region": self.region,
            "owner_id": self.owner_id,
        }


def _scope_conditions(scope: StatementScope) -> list:
    conditions = []
    if scope.partner_id is not None:
        conditions.append(Partner.id == scope.partner_id)
    if scope.tier in TIERS:
        conditions.append(Partner.tier == scope.tier)
    if scope.region:
        conditions.append(Partner.region == scope.region)
    if scope.owner_id is not None:
        conditions.append(Partner.owner_id == scope.owner_id)
    return conditions


def _in_scope(stmt, partner_column, scope: StatementScope):
    """Limit a query over ``partner_column`` to the scope (a join only when filters need one)."""
    if scope.partner_id is not None:
        return stmt.where(partner_column == scope.partner_id)
    conditions = _scope_conditions(scope)
    if not conditions:
        return stmt
    return stmt.where(partner_column.in_(select(Partner.id).where(*conditions)))


# --- SQL arithmetic in integer cents ---------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def cents(money_column):
    """A money column as integer cents (exact on SQLite's floating-point NUMERIC too)."""
    return cast(func.round(money_column * 100), BigInteger)


def basis_points(rate_column):
    """A rate (0.3000) as integer hundredths of a percent (3000)."""
    return cast(func.round(rate_column * 10000), BigInteger)


def tier_price_cents(list_price_column, discount_rate_column):
    """pricing.services.tier_price in SQL: list × (1 − discount), cents half-up, in integers."""
    kept = 10000 - basis_points(discount_rate_column)
    return (cents(list_price_column) * kept + 5000) // 10000


def _days_between(later, earlier):
    if _dialect() == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier


def _month_of(day_column):
    if _dialect() == "sqlite":
        return func.strftime("%Y-%m", day_column)
    return func.to_char(day_column, "YYYY-MM")


def from_cents(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def to_cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


# --- the measures: one grouped query each ---------------------------------------------------


def committed_by_partner(scope: StatementScope, period: StatementPeriod) -> dict[int, Decimal]:
    """Committed amount per partner (see the module's definition), one grouped query."""
    commitment = StockCommitment
    outer = aliased(StockCommitment)
    inside_another = exists().where(
        outer.partner_id == commitment.partner_id,
        outer.id != commitment.id,
        outer.period_start <= commitment.period_start,
        outer.period_end >= commitment.period_end,
    )
    starts, ends = commitment.period_start, commitment.period_end
    first = case((starts > period.start, starts), else_=period.start)
    last = case((ends < period.end, ends), else_=period.end)
    overlap_days = _days_between(last, first) + 1
    period_days = _days_between(commitment.period_end, commitment.period_start) + 1
    # amount × overlap ÷ days, half-up, in integers: (2·a·o + d) // (2·d)
    prorated = (2 * cents(commitment.amount) * overlap_days + period_days) // (2 * period_days)
    stmt = (
        select(commitment.partner_id, func.sum(prorated))
        .where(
            commitment.period_start <= period.end,
            commitment.period_end >= period.start,
            ~inside_another,
        )
        .group_by(commitment.partner_id)
    )
    stmt = _in_scope(stmt, commitment.partner_id, scope)
    return {pid: from_cents(total) for pid, total in db.session.execute(stmt)}


@dataclass
class MonthlyOrders:
    """A partner's stock order lines in one month of the period."""

    month: date  # first day of the month
    lines: int
    quantity: int
    amount: Decimal


def orders_by_partner_month(
    scope: StatementScope, period: StatementPeriod
) -> dict[int, list[MonthlyOrders]]:
    """Ordered lines, quantity and amount per partner and month, one grouped query over the
    stored day totals (partners.order_totals: the same sums of the lines, in integer cents);
    the per-partner ordered amount is the sum of its months."""
    total = StockOrderTotal
    month = _month_of(total.order_date).label("month")
    stmt = (
        select(
            total.partner_id,
            month,
            func.sum(total.lines),
            func.sum(total.quantity),
            func.sum(total.amount_cents),
        )
        .where(total.order_date >= period.start, total.order_date <= period.end)
        .group_by(total.partner_id, month)
    )
    stmt = _in_scope(stmt, total.partner_id, scope)
    result: dict[int, list[MonthlyOrders]] = {}
    for partner_id, month_text, lines, quantity, amount in db.session.execute(stmt):
        year, number = (int(part) for part in month_text.split("-"))
        result.setdefault(partner_id, []).append(
            MonthlyOrders(date(year, number, 1), int(lines), int(quantity), from_cents(amount))
        )
    for months in result.values():
        months.sort(key=lambda m: m.month)
    return result


def _granted_deals(stmt, period: StatementPeriod):
    decided_from, decided_to = period.decided_range()
    return stmt.where(
        Deal.partner_id.is_not(None),
        Deal.status.in_(GRANTED_STATUSES),
        Deal.decided_at >= decided_from,
        Deal.decided_at < decided_to,
    )


def _granted_line():
    """Lines with an approved special price, the value written into the SQL: the partial index
    ``ix_deal_line_granted`` serves only a query whose condition is its own, not a parameter."""
    return DealLine.special_status == literal("approved", literal_execute=True)


def _granted_price():
    return func.coalesce(DealLine.approved_unit_price, DealLine.requested_unit_price)


def special_discount_by_partner(
    scope: StatementScope, period: StatementPeriod
) -> dict[int, tuple[Decimal, int]]:
    """(special-price discount granted, number of lines) per partner, one grouped query."""
    discount = DealLine.quantity * (
        tier_price_cents(Product.list_price, TierPolicy.discount_rate) - cents(_granted_price())
    )
    stmt = (
        select(Deal.partner_id, func.sum(discount), func.count(DealLine.id))
        .join(DealLine, DealLine.deal_id == Deal.id)
        .join(Product, Product.id == DealLine.product_id)
        .join(Partner, Partner.id == Deal.partner_id)
        .join(TierPolicy, TierPolicy.tier == Partner.tier)
        .where(_granted_line())
        .group_by(Deal.partner_id)
    )
    stmt = _in_scope(_granted_deals(stmt, period), Deal.partner_id, scope)
    return {pid: (from_cents(total), int(count)) for pid, total, count in db.session.execute(stmt)}


def granted_deal_lines_by_partner(scope: StatementScope, period: StatementPeriod) -> dict[int, int]:
    """Number of lines of approved / won / expired deals decided in the period, per partner."""
    stmt = (
        select(Deal.partner_id, func.count(DealLine.id))
        .join(DealLine, DealLine.deal_id == Deal.id)
        .group_by(Deal.partner_id)
    )
    stmt = _in_scope(_granted_deals(stmt, period), Deal.partner_id, scope)
    return dict(db.session.execute(stmt).all())


# --- the summary ---------------------------------------------------------------------------


@dataclass
class SummaryRow:
    partner_id: int
    name: str
    uscc: str
    tier: str
    region: str
    owner: str
    committed: Decimal
    ordered: Decimal
    special_discount: Decimal
    rebate_rate: Decimal
    order_lines: int = 0
    special_lines: int = 0
    deal_lines: int = 0

    @property
    def attainment(self) -> Decimal | None:
        return ratio(self.ordered, self.committed)

    @property
    def shortfall(self) -> Decimal:
        return max(self.committed - self.ordered, ZERO)

    @property
    def rebate(self) -> Decimal:
        return to_cents(self.ordered * self.rebate_rate)


@dataclass
class SummaryTotals:
    committed: Decimal = ZERO
    ordered: Decimal = ZERO
    shortfall: Decimal = ZERO
    special_discount: Decimal = ZERO
    rebate: Decimal = ZERO
    partners: int = 0
    order_lines: int = 0
    special_lines: int = 0
    deal_lines: int = 0

    @property
    def attainment(self) -> Decimal | None:
        return ratio(self.ordered, self.committed)


@dataclass
class Statement:
    """The figures of one statement; the detail rows are read when the workbook is written."""

    scope: StatementScope
    period: StatementPeriod
    rows: list[SummaryRow]
    totals: SummaryTotals
    monthly: dict[int, list[MonthlyOrders]] = field(default_factory=dict)

    @property
    def partner(self) -> SummaryRow | None:
        return self.rows[0] if not self.scope.is_channel and self.rows else None


def build_statement(scope: StatementScope, period: StatementPeriod) -> Statement:
    """Summary rows for every partner in scope (name order) with totals: one query for the
    partners, one per measure."""
    owner = aliased(User)
    partners_stmt = (
        select(
            Partner.id,
            Partner.name,
            Partner.uscc,
            Partner.tier,
            Partner.region,
            owner.name,
            TierPolicy.rebate_rate,
        )
        .join(TierPolicy, TierPolicy.tier == Partner.tier)
        .outerjoin(owner, owner.id == Partner.owner_id)
        .where(*_scope_conditions(scope))
        .order_by(Partner.name, Partner.id)
    )
    committed = committed_by_partner(scope, period)
    monthly = orders_by_partner_month(scope, period)
    special = special_discount_by_partner(scope, period)
    deal_lines = granted_deal_lines_by_partner(scope, period)
    rows, totals = [], SummaryTotals()
    for pid, name, uscc, tier, region, owner_name, rebate_rate in db.session.execute(partners_stmt):
        months = monthly.get(pid, [])
        discount, special_lines = special.get(pid, (ZERO, 0))
        row = SummaryRow(
            partner_id=pid,
            name=name,
            uscc=uscc,
            tier=tier,
            region=region or "",
            owner=owner_name or "",
            committed=committed.get(pid, ZERO),
            ordered=sum((m.amount for m in months), ZERO),
            special_discount=discount,
            rebate_rate=Decimal(rebate_rate),
            order_lines=sum(m.lines for m in months),
            special_lines=special_lines,
            deal_lines=deal_lines.get(pid, 0),
        )
        rows.append(row)
        totals.committed += row.committed
        totals.ordered += row.ordered
        totals.shortfall += row.shortfall
        totals.special_discount += row.special_discount
        totals.rebate += row.rebate
        totals.order_lines += row.order_lines
        totals.special_lines += row.special_lines
        totals.deal_lines += row.deal_lines
    totals.partners = len(rows)
    return Statement(scope=scope, period=period, rows=rows, totals=totals, monthly=monthly)


# --- detail rows, streamed ---------------------------------------------------------------------


def _stream(stmt):
    return db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH_SIZE))


def order_line_rows(partner_id: int, period: StatementPeriod) -> Iterator[tuple]:
    """(order date, order number, SKU, product, product line, quantity, unit price, amount) for
    each line of the partner's stock orders dated in the period, by date and number.

    The order ids come first (one integer each), then the lines in chunks of orders, each chunk
    a query read to its end: no cursor stays open while the workbook is written, so on SQLite
    the export never holds a read lock that would make other requests' writes wait.
    """
    order_ids = array(
        "q",
        db.session.scalars(
            select(StockOrder.id)
            .where(
                StockOrder.partner_id == partner_id,
                StockOrder.order_date >= period.start,
                StockOrder.order_date <= period.end,
            )
            .order_by(StockOrder.order_date, StockOrder.number, StockOrder.id)
            .execution_options(yield_per=EXPORT_BATCH_SIZE)
        ),
    )
    lines = (
        select(
            StockOrder.order_date,
            StockOrder.number,
            Product.sku,
            Product.name,
            Product.product_line,
            StockOrderLine.quantity,
            StockOrderLine.unit_price,
        )
        .join(StockOrderLine, StockOrderLine.order_id == StockOrder.id)
        .join(Product, Product.id == StockOrderLine.product_id)
        .order_by(StockOrder.order_date, StockOrder.number, StockOrder.id, StockOrderLine.id)
    )
    for first in range(0, len(order_ids), ORDER_CHUNK):
        chunk = order_ids[first : first + ORDER_CHUNK].tolist()
        rows = db.session.execute(lines.where(StockOrder.id.in_(chunk))).all()
        for day, number, sku, name, line, quantity, unit_price in rows:
            yield day, number, sku, name, line, quantity, unit_price, quantity * unit_price


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(vendor_tz()).date() if moment is not None else None


def granted_deal_rows(scope: StatementScope, period: StatementPeriod) -> Iterator[tuple]:
    """Lines of the approved / won / expired deals decided in the period: (decided on, deal,
    project, end customer, status, SKU, product, quantity, list price, tier price, granted
    price, amount at the granted price, special-price status)."""
    stmt = (
        select(
            Deal.decided_at,
            Deal.id,
            Deal.project_name,
            EndCustomer.name,
            Deal.status,
            Product.sku,
            Product.name,
            DealLine.quantity,
            Product.list_price,
            TierPolicy.discount_rate,
            _granted_price(),
            DealLine.special_status,
        )
        .join(DealLine, DealLine.deal_id == Deal.id)
        .join(Product, Product.id == DealLine.product_id)
        .join(EndCustomer, EndCustomer.id == Deal.customer_id)
        .join(Partner, Partner.id == Deal.partner_id)
        .join(TierPolicy, TierPolicy.tier == Partner.tier)
        .order_by(Deal.decided_at, Deal.id, DealLine.id)
    )
    stmt = _in_scope(_granted_deals(stmt, period), Deal.partner_id, scope)
    for (
        decided_at,
        deal_id,
        project,
        customer,
        status,
        sku,
        product,
        quantity,
        list_price,
        discount_rate,
        granted,
        special_status,
    ) in _stream(stmt):
        yield (
            _local_day(decided_at),
            deal_id,
            project,
            customer,
            status,
            sku,
            product,
            quantity,
            list_price,
            tier_price(list_price, discount_rate),
            granted,
            quantity * granted,
            special_status,
        )


def special_price_rows(scope: StatementScope, period: StatementPeriod) -> Iterator[tuple]:
    """Special prices granted: (decided on, partner, credit code, deal, project, end customer,
    SKU, product, quantity, tier price, approved price, discount per unit, discount, approved
    by, note), by decision time. The discounts add up to the summary's figure."""
    decider = aliased(User)
    stmt = (
        select(
            Deal.decided_at,
            Partner.name,
            Partner.uscc,
            Deal.id,
            Deal.project_name,
            EndCustomer.name,
            Product.sku,
            Product.name,
            DealLine.quantity,
            Product.list_price,
            TierPolicy.discount_rate,
            _granted_price(),
            decider.name,
            DealLine.special_note,
        )
        .join(DealLine, DealLine.deal_id == Deal.id)
        .join(Product, Product.id == DealLine.product_id)
        .join(EndCustomer, EndCustomer.id == Deal.customer_id)
        .join(Partner, Partner.id == Deal.partner_id)
        .join(TierPolicy, TierPolicy.tier == Partner.tier)
        .outerjoin(decider, decider.id == DealLine.special_decided_by_id)
        .where(_granted_line())
        .order_by(Deal.decided_at, Deal.id, DealLine.id)
    )
    stmt = _in_scope(_granted_deals(stmt, period), Deal.partner_id, scope)
    for (
        decided_at,
        partner_name,
        uscc,
        deal_id,
        project,
        customer,
        sku,
        product,
        quantity,
        list_price,
        discount_rate,
        granted,
        decided_by,
        note,
    ) in _stream(stmt):
        tier = tier_price(list_price, discount_rate)
        per_unit = tier - granted
        yield (
            _local_day(decided_at),
            partner_name,
            uscc,
            deal_id,
            project,
            customer,
            sku,
            product,
            quantity,
            tier,
            granted,
            per_unit,
            per_unit * quantity,
            decided_by or "",
            note or "",
        )


def monthly_order_rows(statement: Statement) -> Iterator[tuple]:
    """(partner, credit code, month, order lines, quantity, amount) per partner and month, from
    the grouped query the summary was built from, so the months add up to its ordered column."""
    for row in statement.rows:
        for month in statement.monthly.get(row.partner_id, []):
            yield row.name, row.uscc, month.month, month.lines, month.quantity, month.amount
