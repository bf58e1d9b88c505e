"""The figures of each role's dashboard: grouped queries, one per figure, never one per row.

Each function returns plain rows; the page shows them as a table and draws its chart from the
very same rows (dashboards.charts), so the two can never disagree. Scopes follow the lists the
figures link to: a channel manager sees its own partners (Partner.owner_id), an admin all of
them, a partner user its own partner, a rep its own direct deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from accounts.models import ADMIN, User
from app import db
from clock import vendor_now, vendor_tz
from dashboards.labels import CONFLICT_LABELS, STAGE_LABELS, STATUS_LABELS, TIER_LABELS
from deals.conflicts import conflicts_visible_to
from deals.models import APPROVED, CHANNEL, DIRECT, EXPIRED, SUBMITTED, Conflict, Deal
from deals.partner_stats import price_only_for
from deals.pipeline import open_pipeline
from finance.statements import (
    StatementPeriod,
    StatementScope,
    orders_by_partner_month,
    special_discount_by_partner,
    to_cents,
)
from partners.commitments import Attainment, attainments, current_commitments, ratio
from partners.models import TIER_ORDER, Partner, TierPolicy
from partners.settings import get_settings
from partners.signals import at_risk_for
from partners.tiers import annualised

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
EXPIRY_WINDOW_DAYS = 30
ATTAINMENT_ROWS = 10  # partners listed (most behind first); the counts cover them all
FLAGGED_ROWS = 10


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class GroupRow:
    """One bar of a chart and one row of its table."""

    key: str
    label: str  # an English message id, translated when shown
    count: int = 0
    amount: Decimal = ZERO


def _effective_status():
    """Deal.effective_status in SQL: an approved deal past its protection reads as expired."""
    now = vendor_now()
    return case(
        (
            and_(
                Deal.status == APPROVED,
                Deal.protection_expires_at.is_not(None),
                Deal.protection_expires_at <= now,
            ),
            EXPIRED,
        ),
        else_=Deal.status,
    )


def month_start(now: datetime) -> datetime:
    """The first instant of the vendor's calendar month containing ``now``."""
    local = now.astimezone(vendor_tz())
    return datetime.combine(local.date().replace(day=1), time(), vendor_tz())


# --- channel manager and admin -----------------------------------------------------------------


@dataclass
class QueueHealth:
    decided: int  # channel deals decided this month
    within_sla: int  # of which decided by their SLA due time
    waiting: int  # submitted now
    overdue: int  # submitted and past their SLA due time now

    @property
    def within_share(self) -> Decimal | None:
        return ratio(Decimal(self.within_sla), Decimal(self.decided))


@dataclass
class FlaggedPartner:
    partner_id: int
    name: str
    tier: str
    price_only: list[str]
    at_risk: list[str]


@dataclass
class AttainmentRow:
    partner_id: int
    name: str
    tier: str
    attainment: Attainment


@dataclass
class ManagerDashboard:
    all_partners: bool  # admin: the whole channel
    partners: int
    queue: QueueHealth
    pipeline_by_tier: list[GroupRow]
    pipeline_by_stage: list[GroupRow]
    open_conflicts: int
    conflicts_by_kind: list[GroupRow]
    committed: int  # partners with a current commitment
    behind: int  # of which behind pro-rata
    attainment_rows: list[AttainmentRow]
    price_only: int
    at_risk: int
    flagged: list[FlaggedPartner] = field(default_factory=list)


def _scoped(stmt, user: User):
    """Deals of the user's partners (admin: every partner)."""
    if user.role == ADMIN:
        return stmt.where(Deal.partner_id.is_not(None))
    owned = select(Partner.id).where(Partner.owner_id == user.id)
    return stmt.where(Deal.partner_id.in_(owned))


def queue_health(user: User, now: datetime) -> QueueHealth:
    """Decided this month (and within SLA), waiting and overdue now, in two queries."""
    decided = db.session.execute(
        _scoped(
            select(
                func.count(),
                func.count(
                    case(
                        (or_(Deal.sla_due_at.is_(None), Deal.decided_at <= Deal.sla_due_at), 1),
                    )
                ),
            ).where(
                Deal.kind == CHANNEL,
                Deal.decided_at >= month_start(now),
                Deal.decided_at <= now,
                Deal.submitted_at.is_not(None),
            ),
            user,
        )
    ).one()
    waiting = db.session.execute(
        _scoped(
            select(func.count(), func.count(case((Deal.sla_due_at < now, 1)))).where(
                Deal.kind == CHANNEL, Deal.status == SUBMITTED
            ),
            user,
        )
    ).one()
    return QueueHealth(
        decided=decided[0], within_sla=decided[1], waiting=waiting[0], overdue=waiting[1]
    )


def pipeline(user: User, now: datetime) -> tuple[list[GroupRow], list[GroupRow]]:
    """Open channel deals (count and estimated value) by partner tier and by buying stage, from
    the stored pipeline (deals.pipeline: exact at ``now``), added up both ways."""
    partners = [] if user.role == ADMIN else [Partner.owner_id == user.id]
    by_tier = {t: GroupRow(t, TIER_LABELS.get(t, t)) for t in TIER_ORDER}
    by_stage = {s: GroupRow(s, label) for s, label in STAGE_LABELS.items()}
    for (tier, stage), (count, cents) in open_pipeline(partners, now).items():
        amount = (Decimal(cents) / 100).quantize(CENT)
        for groups, key in ((by_tier, tier), (by_stage, stage)):
            row = groups.setdefault(key, GroupRow(key, key))
            row.count += count
            row.amount += amount
    return list(by_tier.values()), [r for r in by_stage.values() if r.count]


def open_conflicts(user: User) -> list[GroupRow]:
    """Open conflicts the user may see (the conflicts list's scope), by kind."""
    visible = conflicts_visible_to(user).where(Conflict.status == "open").subquery()
    rows = db.session.execute(select(visible.c.kind, func.count()).group_by(visible.c.kind))
    counts = dict(rows.all())
    return [GroupRow(k, label, counts.get(k, 0)) for k, label in CONFLICT_LABELS.items()]


def channel_attainments(partner_ids: list[int], today: date) -> dict[int, Attainment]:
    """partners.commitments.attainments for a whole channel, without the per-line detail: the
    ordered amounts come from the stored day totals, one query joining them to the current
    commitments."""
    return attainments(partner_ids, today, with_lines=False) if partner_ids else {}


def manager_partners(user: User) -> list[tuple[int, str, str]]:
    stmt = select(Partner.id, Partner.name, Partner.tier).order_by(Partner.name, Partner.id)
    if user.role != ADMIN:
        stmt = stmt.where(Partner.owner_id == user.id)
    return [tuple(row) for row in db.session.execute(stmt)]


def manager_dashboard(user: User, now: datetime | None = None) -> ManagerDashboard:
    """The channel manager's dashboard over its partners; an admin's over all partners."""
    now = now or vendor_now()
    today = now.astimezone(vendor_tz()).date()
    partners = manager_partners(user)
    ids = [pid for pid, _name, _tier in partners]
    by_tier, by_stage = pipeline(user, now)
    conflicts = open_conflicts(user)

    progress = channel_attainments(ids, today)
    rows = [
        AttainmentRow(pid, name, tier, progress[pid])
        for pid, name, tier in partners
        if pid in progress
    ]
    behind = sum(1 for r in rows if r.attainment.behind)
    rows.sort(key=lambda r: (not r.attainment.behind, r.attainment.pro_rata_attainment or 0))

    price_only = price_only_for(ids, today)
    drop_ratio = get_settings()["at_risk_drop_ratio"]
    # From the day's memos (exact: see PartnerOrderHistory); the view commits what it wrote.
    risk = at_risk_for(ids, today, drop_ratio, with_monthly=False, remembered=True) if ids else {}
    flagged = [
        FlaggedPartner(
            pid,
            name,
            tier,
            price_only[pid].reasons if price_only[pid].flagged else [],
            risk[pid].reasons if pid in risk and risk[pid].flagged else [],
        )
        for pid, name, tier in partners
        if price_only[pid].flagged or (pid in risk and risk[pid].flagged)
    ]
    return ManagerDashboard(
        all_partners=user.role == ADMIN,
        partners=len(ids),
        queue=queue_health(user, now),
        pipeline_by_tier=by_tier,
        pipeline_by_stage=by_stage,
        open_conflicts=sum(r.count for r in conflicts),
        conflicts_by_kind=conflicts,
        committed=len(rows),
        behind=behind,
        attainment_rows=rows[:ATTAINMENT_ROWS],
        price_only=sum(1 for f in flagged if f.price_only),
        at_risk=sum(1 for f in flagged if f.at_risk),
        flagged=flagged[:FLAGGED_ROWS],
    )


# --- partner user -------------------------------------------------------------------------------


@dataclass
class NextTier:
    tier: str
    min_commitment: Decimal  # per year
    annual_commitment: Decimal  # the partner's current commitment, annualised
    gap: Decimal  # how much more a year the next tier needs


@dataclass
class PartnerDashboard:
    partner: Partner
    policy: TierPolicy
    next_tier: NextTier | None  # None at the top tier
    progress: Attainment | None
    deals_by_status: list[GroupRow]
    expiring: list[Deal]


def deals_by_status(stmt_filter, statuses: dict[str, str] | None = None) -> list[GroupRow]:
    """Deals by the status their owner sees (approved past protection counts as expired)."""
    status = _effective_status().label("shown")
    stmt = select(status, func.count(), func.sum(Deal.estimated_value)).where(*stmt_filter)
    counts = {s: (c, a) for s, c, a in db.session.execute(stmt.group_by(status))}
    statuses = statuses or STATUS_LABELS
    return [
        GroupRow(key, label, counts[key][0], _money(counts[key][1]))
        for key, label in statuses.items()
        if key in counts
    ]


def partner_dashboard(partner: Partner, now: datetime | None = None) -> PartnerDashboard:
    now = now or vendor_now()
    today = now.astimezone(vendor_tz()).date()
    policies = {p.tier: p for p in db.session.scalars(select(TierPolicy))}
    position = TIER_ORDER.index(partner.tier)
    commitment = current_commitments([partner.id], today).get(partner.id)
    annual = annualised(commitment.amount, commitment.period) if commitment else ZERO
    next_tier = None
    if position > 0 and TIER_ORDER[position - 1] in policies:
        upper = policies[TIER_ORDER[position - 1]]
        minimum = _money(upper.min_commitment)
        next_tier = NextTier(upper.tier, minimum, _money(annual), max(minimum - annual, ZERO))
    expiring = db.session.scalars(
        select(Deal)
        .options(selectinload(Deal.customer))
        .where(
            Deal.kind == CHANNEL,
            Deal.partner_id == partner.id,
            Deal.status == APPROVED,
            Deal.protection_expires_at > now,
            Deal.protection_expires_at <= now + timedelta(days=EXPIRY_WINDOW_DAYS),
        )
        .order_by(Deal.protection_expires_at, Deal.id)
    ).all()
    return PartnerDashboard(
        partner=partner,
        policy=policies[partner.tier],
        next_tier=next_tier,
        progress=attainments([partner.id], today).get(partner.id),
        deals_by_status=deals_by_status((Deal.kind == CHANNEL, Deal.partner_id == partner.id)),
        expiring=list(expiring),
    )


# --- direct sales rep ---------------------------------------------------------------------------


@dataclass
class RepDashboard:
    deals_by_status: list[GroupRow]
    open_conflicts: list[GroupRow]

    @property
    def open_conflict_count(self) -> int:
        return sum(r.count for r in self.open_conflicts)


def rep_dashboard(user: User) -> RepDashboard:
    return RepDashboard(
        deals_by_status=deals_by_status((Deal.kind == DIRECT, Deal.created_by_id == user.id)),
        open_conflicts=open_conflicts(user),
    )


# --- finance --------------------------------------------------------------------------------------


def default_period(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


@dataclass
class TierFinance:
    key: str
    label: str
    partners: int = 0  # partners of the tier with orders or special prices in the period
    ordered: Decimal = ZERO
    special_discount: Decimal = ZERO
    special_lines: int = 0
    rebate: Decimal = ZERO


@dataclass
class FinanceDashboard:
    period: StatementPeriod
    tiers: list[TierFinance]

    @property
    def total(self) -> TierFinance:
        total = TierFinance("", _l("Total"))
        for row in self.tiers:
            total.partners += row.partners
            total.ordered += row.ordered
            total.special_discount += row.special_discount
            total.special_lines += row.special_lines
            total.rebate += row.rebate
        return total


def finance_dashboard(period: StatementPeriod) -> FinanceDashboard:
    """Ordered amounts, special-price discount granted and rebates by tier for the period,
    from the channel statement's own aggregates (finance.statements), so the figures equal the
    channel statement's totals for the same period."""
    scope = StatementScope()
    monthly = orders_by_partner_month(scope, period)
    special = special_discount_by_partner(scope, period)
    involved = set(monthly) | set(special)
    tiers = {t: TierFinance(t, TIER_LABELS[t]) for t in TIER_ORDER}
    if involved:
        stmt = select(Partner.id, Partner.tier, TierPolicy.rebate_rate).join(
            TierPolicy, TierPolicy.tier == Partner.tier
        )
        for pid, tier, rebate_rate in db.session.execute(stmt):
            if pid not in involved:
                continue
            row = tiers.setdefault(tier, TierFinance(tier, tier))
            ordered = sum((m.amount for m in monthly.get(pid, [])), ZERO)
            discount, lines = special.get(pid, (ZERO, 0))
            row.partners += 1
            row.ordered += ordered
            row.special_discount += discount
            row.special_lines += lines
            # Per partner, rounded as the statement rounds it.
            row.rebate += to_cents(ordered * Decimal(rebate_rate))
    return FinanceDashboard(period=period, tiers=list(tiers.values()))
