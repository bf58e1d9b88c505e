"""Price-only and at-risk partner signals.

The rules are plain functions of plain values; ``order_history`` gathers what the at-risk rule
needs from the stored stock-order day totals (partners.order_totals) in grouped queries. Deal
statistics for the price-only rule are gathered by deals.partner_stats, which sits to the right
of this package.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app import db
from i18n import money, percent
from partners.models import PartnerOrderHistory, StockOrderTotal
from partners.order_totals import from_cents, to_cents

RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class Signal:
    name: str
    label: str  # lazy: shown in the reader's language (the API sends ``name``)
    value: Decimal | int | None
    threshold: Decimal | int | None
    fired: bool

    def as_dict(self) -> dict:
        def plain(x):
            return None if x is None else str(x)

        return {
            "name": self.name,
            "value": plain(self.value),
            "threshold": plain(self.threshold),
            "fired": self.fired,
        }


@dataclass(frozen=True)
class DealStats:
    """A partner's channel deals, strategic exceptions already left out."""

    deals: int = 0  # submitted or later
    deals_with_special: int = 0
    lines: int = 0
    extra_discount_sum: Decimal = Decimal(0)  # sum over lines of the discount beyond tier (≥0)
    lost: int = 0
    lost_on_price: int = 0
    won: int = 0
    won_with_special: int = 0


@dataclass(frozen=True)
class PriceOnlyResult:
    flagged: bool
    signals: list[Signal]

    @property
    def reasons(self) -> list[str]:
        return [s.label for s in self.signals if s.fired]


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_HALF_UP)


def price_only_signals(stats: DealStats, has_commitment: bool, settings: dict) -> PriceOnlyResult:
    """Each signal with its value, threshold and whether it fired (strictly above threshold).

    A share with nothing to divide (no deals, no losses, no wins) does not fire.
    """
    special_share = _share(stats.deals_with_special, stats.deals)
    extra = (
        (stats.extra_discount_sum / stats.lines).quantize(RATIO, rounding=ROUND_HALF_UP)
        if stats.lines
        else None
    )
    lost_price = _share(stats.lost_on_price, stats.lost)
    special_wins = _share(stats.won_with_special, stats.won)

    def above(value, key):
        return value is not None and value > settings[key]

    signals = [
        Signal(
            "no_commitment",
            _l("No active stock commitment"),
            int(not has_commitment),
            None,
            not has_commitment,
        ),
        Signal(
            "special_price_share",
            _l("Special price requested on most deals"),
            special_share,
            settings["signal_special_share"],
            above(special_share, "signal_special_share"),
        ),
        Signal(
            "extra_discount",
            _l("Average requested discount well beyond tier discount"),
            extra,
            settings["signal_extra_discount"],
            above(extra, "signal_extra_discount"),
        ),
        Signal(
            "lost_on_price_share",
            _l("Lost deals mostly lost on price"),
            lost_price,
            settings["signal_lost_on_price_share"],
            above(lost_price, "signal_lost_on_price_share"),
        ),
        Signal(
            "special_wins_share",
            _l("Wins only at special prices"),
            special_wins,
            settings["signal_special_wins_share"],
            above(special_wins, "signal_special_wins_share"),
        ),
    ]
    fired = sum(s.fired for s in signals)
    return PriceOnlyResult(flagged=fired >= settings["signals_to_flag"], signals=signals)


# --- at risk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtRiskResult:
    flagged: bool
    reasons: list[str]  # lazy strings, in the reader's language when shown
    evidence: dict = field(default_factory=dict)


def months_back(today: date, count: int) -> list[str]:
    """The last ``count`` calendar months as 'YYYY-MM', oldest first, this month included."""
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return keys[::-1]


def median_of_counts(counts: dict[int, int]) -> float | int | None:
    """statistics.median of a list given as {value: how many times it occurs}."""
    size = sum(counts.values())
    if not size:
        return None
    ordered = sorted(counts.items())

    def nth(position: int) -> int:  # 0-based
        seen = 0
        for value, count in ordered:
            seen += count
            if position < seen:
                return value
        raise IndexError(position)

    if size % 2:
        return nth(size // 2)
    return (nth(size // 2 - 1) + nth(size // 2)) / 2


def gap_counts(order_dates: list[date]) -> dict[int, int]:
    """Days between consecutive order days, counted: {gap in days: how many times}."""
    dates = sorted(set(order_dates))
    return dict(Counter((b - a).days for a, b in zip(dates, dates[1:], strict=False)))


def usual_interval_of(gaps: dict[int, int]) -> float | int | None:
    """The usual interval between order days: the median gap, known from three order days."""
    return median_of_counts(gaps) if sum(gaps.values()) >= 2 else None


def at_risk(
    *,
    today: date,
    last_90_days: Decimal,
    last_12_months: Decimal,
    monthly: dict[str, Decimal],
    drop_ratio: Decimal,
    order_dates: list[date] | None = None,
    last_order: date | None = None,
    gaps: dict[int, int] | None = None,
    usual_interval: float | int | None = None,
) -> AtRiskResult:
    """Flag a partner whose ordering is slipping.

    - the last 90 days fell below ``drop_ratio`` of the trailing 12-month average for 90 days
      (12-month total × 90/365);
    - or it has not ordered for longer than its usual interval: more than 1.5 × the median gap
      between its orders (at least three orders needed to know what is usual).

    The order days come either as ``order_dates`` or, as stored totals give them, as the last
    order day and the counted gaps between consecutive order days (``gap_counts``), or as the
    last order day and the usual interval already worked out (``usual_interval``, the memos).
    """
    if order_dates is not None:
        last_order = max(order_dates, default=None)
        gaps = gap_counts(order_dates)
    if gaps is not None:
        usual_interval = usual_interval_of(gaps)
    reasons = []
    average_90 = (Decimal(last_12_months) * Decimal(90) / Decimal(365)).quantize(Decimal("0.01"))
    if last_12_months > 0 and Decimal(last_90_days) < average_90 * drop_ratio:
        reasons.append(
            _l(
                "ordered %(amount)s in the last 90 days, below %(share)s of its 12-month average"
                " (%(average)s per 90 days)",
                amount=LazyString(money, Decimal(last_90_days)),
                share=LazyString(percent, drop_ratio),
                average=LazyString(money, average_90),
            )
        )
    usual = usual_interval
    since_last = (today - last_order).days if last_order is not None else None
    if usual is not None:
        if since_last is not None and since_last > 1.5 * usual:
            reasons.append(
                _l(
                    "no order for %(days)s days; it usually orders every %(usual)s days",
                    days=since_last,
                    usual=f"{usual:.0f}",
                )
            )
    return AtRiskResult(
        flagged=bool(reasons),
        reasons=reasons,
        evidence={
            "last_90_days": f"{Decimal(last_90_days):.2f}",
            "average_90_days": f"{average_90:.2f}",
            "days_since_last_order": since_last,
            "usual_interval_days": None if usual is None else float(usual),
            "monthly": {k: f"{v:.2f}" for k, v in monthly.items()},
        },
    )


@dataclass
class OrderHistory:
    """What the at-risk rule needs of a partner's last 12 months of orders."""

    last_90_days: Decimal = Decimal("0.00")
    last_12_months: Decimal = Decimal("0.00")
    last_order: date | None = None
    gaps: dict[int, int] = field(default_factory=dict)
    monthly: dict[str, Decimal] = field(default_factory=dict)
    usual_interval: float | int | None = None  # from a memo, which keeps it instead of the gaps


WHOLE_CHANNEL = 500  # more partners than this: read every partner's rows, keep the listed ones


def _order_window(partner_ids: list[int], since: date) -> list:
    total = StockOrderTotal
    in_window = [total.order_date > since]
    if len(partner_ids) <= WHOLE_CHANNEL:  # else 2,000 bound parameters cost more than rows
        in_window.append(total.partner_id.in_(partner_ids))
    return in_window


def order_history_query(partner_ids: list[int], today: date):
    """The grouped SELECT of order_history: per partner and gap between order days, the days,
    first and last day, 12-month and 90-day cents of the 365 days before ``today``."""
    total = StockOrderTotal
    recent = today - timedelta(days=90)
    return (
        select(
            total.partner_id,
            total.gap_days,
            func.count(),
            func.min(total.order_date),
            func.max(total.order_date),
            func.sum(total.amount_cents),
            func.sum(case((total.order_date > recent, total.amount_cents), else_=0)),
        )
        .where(*_order_window(partner_ids, today - timedelta(days=365)))
        .group_by(total.partner_id, total.gap_days)
    )


def order_history(
    partner_ids: list[int], today: date, *, with_monthly: bool = True
) -> dict[int, OrderHistory]:
    """Per partner, from the stored day totals (partners.order_totals) of the 365 days before
    ``today``: the 90-day and 12-month amounts, the last order day and the gaps between
    consecutive order days, in one query grouped by partner and gap (read from the index
    ``ix_stock_order_total_gaps`` alone); with ``with_monthly``, the amounts by calendar month
    too (from the day rows: for a page of partners)."""
    if not partner_ids:
        return {}
    total = StockOrderTotal
    since = today - timedelta(days=365)
    months = months_back(today, 12)
    history = {
        pid: OrderHistory(monthly=dict.fromkeys(months, Decimal(0)) if with_monthly else {})
        for pid in partner_ids
    }
    in_window = _order_window(partner_ids, since)
    grouped = order_history_query(partner_ids, today)
    first_days: dict[int, tuple[date, int | None]] = {}
    year_cents: dict[int, int] = {}
    recent_cents: dict[int, int] = {}
    for pid, gap, days, first, last, cents, cents_90 in db.session.execute(grouped):
        entry = history.get(pid)
        if entry is None:
            continue
        if entry.last_order is None or last > entry.last_order:
            entry.last_order = last
        if pid not in first_days or first < first_days[pid][0]:
            first_days[pid] = (first, gap)
        if gap is not None:
            entry.gaps[gap] = days
        year_cents[pid] = year_cents.get(pid, 0) + int(cents)
        recent_cents[pid] = recent_cents.get(pid, 0) + int(cents_90)
    for pid, (_first, gap) in first_days.items():
        entry = history[pid]
        entry.last_12_months = from_cents(year_cents[pid])
        entry.last_90_days = from_cents(recent_cents[pid])
        # The window's first order day counts its gap from a day before the window: not one
        # of the gaps between the window's own order days.
        if gap is not None:
            entry.gaps[gap] -= 1
            if not entry.gaps[gap]:
                del entry.gaps[gap]
    if with_monthly:
        for pid, day, cents in db.session.execute(
            select(total.partner_id, total.order_date, total.amount_cents).where(*in_window)
        ):
            key = f"{day.year:04d}-{day.month:02d}"
            if pid in history and key in history[pid].monthly:
                history[pid].monthly[key] += from_cents(cents)
    return history


def _to_halves(usual: float | int | None) -> int | None:
    return None if usual is None else int(usual * 2)


def _from_halves(halves: int | None) -> float | int | None:
    """The usual interval back from twice its value (the median of whole days is whole or a
    half: the rule and its evidence read 30 and 30.0 alike)."""
    if halves is None:
        return None
    return halves // 2 if halves % 2 == 0 else halves / 2


def remembered_order_history(partner_ids: list[int], today: date) -> dict[int, OrderHistory]:
    """order_history without the monthly amounts, from the memos of ``today``
    (PartnerOrderHistory); the partners without one get it worked out in one grouped query and
    remembered, each only over the generation it was read with (an order recorded meanwhile
    moved it: that memo is not written). Writes: the caller commits."""
    if not partner_ids:
        return {}
    memo = PartnerOrderHistory.__table__
    stmt = select(
        memo.c.partner_id,
        memo.c.generation,
        memo.c.as_of,
        memo.c.last_90_days_cents,
        memo.c.last_12_months_cents,
        memo.c.last_order,
        memo.c.usual_interval_halves,
    )
    if len(partner_ids) <= WHOLE_CHANNEL:
        stmt = stmt.where(memo.c.partner_id.in_(partner_ids))
    rows = {row.partner_id: row for row in db.session.execute(stmt)}
    history: dict[int, OrderHistory] = {}
    stale: dict[int, int | None] = {}  # partner → the generation read (None: no memo row)
    for pid in partner_ids:
        row = rows.get(pid)
        if row is not None and row.as_of == today:
            history[pid] = OrderHistory(
                last_90_days=from_cents(row.last_90_days_cents),
                last_12_months=from_cents(row.last_12_months_cents),
                last_order=row.last_order,
                usual_interval=_from_halves(row.usual_interval_halves),
            )
        else:
            stale[pid] = None if row is None else row.generation
    if not stale:
        return history
    worked_out = order_history(list(stale), today, with_monthly=False)
    columns = {
        "as_of": bindparam("m_as_of"),
        "last_90_days_cents": bindparam("m_last_90"),
        "last_12_months_cents": bindparam("m_last_12"),
        "last_order": bindparam("m_last_order"),
        "usual_interval_halves": bindparam("m_usual"),
    }
    updates, inserts = [], []
    for pid, entry in worked_out.items():
        values = {
            "m_as_of": today,
            "m_last_90": to_cents(entry.last_90_days),
            "m_last_12": to_cents(entry.last_12_months),
            "m_last_order": entry.last_order,
            "m_usual": _to_halves(usual_interval_of(entry.gaps)),
        }
        if stale[pid] is None:
            inserts.append(
                {"partner_id": pid, "generation": 0}
                | {column: values[param.key] for column, param in columns.items()}
            )
        else:
            updates.append({"m_partner": pid, "m_generation": stale[pid], **values})
    if updates:
        db.session.execute(
            update(memo)
            .where(
                memo.c.partner_id == bindparam("m_partner"),
                memo.c.generation == bindparam("m_generation"),
            )
            .values(**columns),
            updates,
        )
    if inserts:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(
            dialect.insert(memo).on_conflict_do_nothing(index_elements=[memo.c.partner_id]),
            inserts,
        )
    history.update(worked_out)
    return history


def at_risk_for(
    partner_ids: list[int],
    today: date,
    drop_ratio: Decimal,
    *,
    with_monthly: bool = True,
    remembered: bool = False,
) -> dict[int, AtRiskResult]:
    """The at-risk rule for many partners from grouped queries of their stored order totals;
    ``with_monthly=False`` leaves the monthly amounts out of the evidence (whole channels), and
    ``remembered`` (without the monthly amounts) reads and writes the day's memos (the caller
    commits)."""
    if remembered and not with_monthly:
        history = remembered_order_history(partner_ids, today)
    else:
        history = order_history(partner_ids, today, with_monthly=with_monthly)
    return {
        partner_id: at_risk(
            today=today,
            last_90_days=entry.last_90_days,
            last_12_months=entry.last_12_months,
            last_order=entry.last_order,
            gaps=entry.gaps or None,
            usual_interval=entry.usual_interval,
            monthly=entry.monthly,
            drop_ratio=drop_ratio,
        )
        for partner_id, entry in history.items()
    }
