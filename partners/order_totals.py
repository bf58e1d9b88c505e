"""Stock-order totals per partner and day, kept beside the orders.

Every figure that adds up stock orders over a period (the at-risk signal, commitment
attainment, the finance dashboard's and the statements' ordered amounts) reads
``stock_order_total`` instead of the order lines: a few hundred rows per partner and year
instead of thousands of lines. ``add_order`` keeps it in the same transaction as the order it
counts (record_stock_order calls it, so the form, the API, the Excel import and the demo seed
all do); ``rebuild_order_totals`` recomputes it from the lines in one INSERT ... SELECT ...
GROUP BY (after a bulk load, and ``flask partners refresh-order-totals``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, cast, delete, distinct, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app import db
from partners.models import (
    Partner,
    PartnerOrderHistory,
    StockOrder,
    StockOrderLine,
    StockOrderTotal,
)

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """A money amount as integer cents, half-up (unit prices are already in cents)."""
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def cents_sql(money_column):
    """A money column as integer cents in SQL (exact on SQLite's floating-point NUMERIC too)."""
    return cast(func.round(money_column * 100), BigInteger)


def days_between_sql(later, earlier):
    """``later - earlier`` in whole days, in SQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), BigInteger)
    return later - earlier


def add_order(order: StockOrder) -> StockOrderTotal:
    """Count a newly recorded stock order (already flushed, with its lines) in its day's total.

    The partner's row is locked first (PostgreSQL; SQLite has one writer at a time anyway), so
    two orders of one partner recorded at the same moment cannot both create its day's row or
    both re-count the following day's gap. Adds and flushes; the caller commits.
    """
    db.session.execute(select(Partner.id).where(Partner.id == order.partner_id).with_for_update())
    total = db.session.get(StockOrderTotal, (order.partner_id, order.order_date))
    if total is None:
        mine = StockOrderTotal.partner_id == order.partner_id
        previous = db.session.scalar(
            select(func.max(StockOrderTotal.order_date)).where(
                mine, StockOrderTotal.order_date < order.order_date
            )
        )
        following = db.session.scalars(
            select(StockOrderTotal)
            .where(mine, StockOrderTotal.order_date > order.order_date)
            .order_by(StockOrderTotal.order_date)
            .limit(1)
        ).first()
        if following is not None:  # an order dated back slots in between
            following.gap_days = (following.order_date - order.order_date).days
        total = StockOrderTotal(
            partner_id=order.partner_id,
            order_date=order.order_date,
            gap_days=None if previous is None else (order.order_date - previous).days,
            orders=0,
            lines=0,
            quantity=0,
            amount_cents=0,
        )
        db.session.add(total)
    forget_order_history([order.partner_id])
    total.orders += 1
    total.lines += len(order.lines)
    total.quantity += sum(line.quantity for line in order.lines)
    total.amount_cents += sum(line.quantity * to_cents(line.unit_price) for line in order.lines)
    db.session.flush()
    return total


def forget_order_history(partner_ids: list[int] | None = None) -> None:
    """Move on the generation of these partners' at-risk memos (all partners when None), so
    none worked out from their totals before this transaction is used or written again. A
    missing memo row is created, so a memo being worked out right now cannot be inserted."""
    memo = PartnerOrderHistory.__table__
    if partner_ids is not None and len(partner_ids) == 1:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(memo).values(partner_id=partner_ids[0], generation=1)
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[memo.c.partner_id],
                set_={"generation": memo.c.generation + 1, "as_of": None},
            )
        )
        return
    moved = update(memo).values(generation=memo.c.generation + 1, as_of=None)
    missing = select(Partner.id, 1).where(Partner.id.not_in(select(memo.c.partner_id)))
    if partner_ids is not None:
        moved = moved.where(memo.c.partner_id.in_(partner_ids))
        missing = missing.where(Partner.id.in_(partner_ids))
    db.session.execute(moved)
    db.session.execute(insert(memo).from_select(["partner_id", "generation"], missing))


def totals_from_lines(partner_ids: list[int] | None = None):
    """SELECT of what ``stock_order_total`` holds, computed from the order lines."""
    grouped = (
        select(
            StockOrder.partner_id,
            StockOrder.order_date,
            func.count(distinct(StockOrder.id)).label("orders"),
            func.count(StockOrderLine.id).label("lines"),
            func.sum(StockOrderLine.quantity).label("quantity"),
            func.sum(StockOrderLine.quantity * cents_sql(StockOrderLine.unit_price)).label(
                "amount_cents"
            ),
        )
        .join(StockOrderLine, StockOrderLine.order_id == StockOrder.id)
        .group_by(StockOrder.partner_id, StockOrder.order_date)
    )
    if partner_ids is not None:
        grouped = grouped.where(StockOrder.partner_id.in_(partner_ids))
    day = grouped.subquery()
    previous = func.lag(day.c.order_date).over(
        partition_by=day.c.partner_id, order_by=day.c.order_date
    )
    return select(
        day.c.partner_id,
        day.c.order_date,
        days_between_sql(day.c.order_date, previous).label("gap_days"),
        day.c.orders,
        day.c.lines,
        day.c.quantity,
        day.c.amount_cents,
    )


TOTAL_COLUMNS = (
    "partner_id",
    "order_date",
    "gap_days",
    "orders",
    "lines",
    "quantity",
    "amount_cents",
)


def replace_partner_rows(table, columns: list[str], rows, partner_ids: list[int] | None) -> int:
    """Replace a stored aggregate's rows of these partners (all when None) by the rows of the
    SELECT ``rows`` (an INSERT ... SELECT); returns how many rows the partners now have. Used
    by the rebuilds of every per-partner aggregate. The caller commits."""
    cleared = delete(table)
    if partner_ids is not None:
        if not partner_ids:
            return 0
        cleared = cleared.where(table.c.partner_id.in_(partner_ids))
    db.session.execute(cleared)
    db.session.execute(insert(table).from_select(columns, rows))
    stmt = select(func.count()).select_from(table)
    if partner_ids is not None:
        stmt = stmt.where(table.c.partner_id.in_(partner_ids))
    return db.session.scalar(stmt)


def rebuild_order_totals(partner_ids: list[int] | None = None) -> int:
    """Recompute the totals of these partners (all when None) from their order lines, in one
    INSERT ... SELECT ... GROUP BY; returns the number of day rows. The caller commits."""
    count = replace_partner_rows(
        StockOrderTotal.__table__,
        list(TOTAL_COLUMNS),
        totals_from_lines(partner_ids),
        partner_ids,
    )
    if partner_ids is None or partner_ids:
        forget_order_history(partner_ids)
    return count
