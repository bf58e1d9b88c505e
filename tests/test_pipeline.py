"""The stored open pipeline (deals.pipeline): kept by every change of a deal in the same
transaction, equal to a rebuild from the deals after random workflow operations, exact about
protection that has passed, filled by the migration and by `flask deals refresh-pipeline`."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select

from accounts.models import utcnow
from app import db
from customers.models import EndCustomer
from dashboards.services import pipeline
from deals.conflicts import resolve_conflict
from deals.models import (
    APPROVED,
    CHANNEL,
    DRAFT,
    MORE_INFO,
    OPEN_STATUSES,
    RESOLUTIONS,
    STAGES,
    SUBMITTED,
    Conflict,
    Deal,
    DealStatsContribution,
    PartnerPipeline,
)
from deals.pipeline import open_pipeline, pipeline_from_deals, rebuild_pipeline
from deals.workflow import (
    DealError,
    DealInput,
    LineInput,
    NewCustomerInput,
    answer_information_request,
    approve_deal,
    close_deal,
    expire_deals,
    extend_protection,
    mark_strategic_exception,
    reject_deal,
    request_information,
    save_direct_deal,
    save_registration,
    submit_deal,
)
from tests.test_migrations import fresh_database_url  # noqa: F401 (fixture)

CUSTOMER_WORDS = ["华东", "星河", "远航", "长城", "蓝天", "青松", "东方", "南山"]


def stored() -> dict:
    db.session.expire_all()
    return {
        (row.partner_id, row.stage): (row.deals, row.value_cents)
        for row in db.session.scalars(select(PartnerPipeline))
        if (row.deals, row.value_cents) != (0, 0)
    }


def rebuilt() -> dict:
    return {(p, s): (int(d), int(v)) for p, s, d, v in db.session.execute(pipeline_from_deals())}


def live(now, owner_id=None) -> dict:
    """The pipeline as the deal lists show it: each deal's effective status, in Python."""
    figures: dict = defaultdict(lambda: [0, 0])
    for deal in db.session.scalars(select(Deal).where(Deal.kind == CHANNEL)):
        if owner_id is not None and deal.partner.owner_id != owner_id:
            continue
        if deal.effective_status(now) in OPEN_STATUSES:
            key = (deal.partner.tier, deal.stage)
            figures[key][0] += 1
            figures[key][1] += int(deal.estimated_value * 100)
    return {key: tuple(value) for key, value in figures.items()}


def registration(rng: random.Random, product, n: int) -> DealInput:
    """A valid registration; a third of them at a customer already registered (conflicts)."""
    words = rng.sample(CUSTOMER_WORDS, 2)
    known = db.session.scalars(select(EndCustomer.id).order_by(EndCustomer.id)).all()
    existing = rng.choice(known) if known and rng.random() < 0.35 else None
    return DealInput(
        customer_id=existing,
        project_name=f"项目 {n}",
        estimated_value=f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}",
        expected_close_date=date.today() + timedelta(days=rng.randint(1, 300)),
        stage=rng.choice(list(STAGES)),
        funding_source="own_budget",
        new_customer=None
        if existing
        else NewCustomerInput(name=f"{words[0]}{words[1]}{n}号科技有限公司"),
        lines=[LineInput(product.id, rng.randint(1, 5), "10000.00")],  # list price: no special
    )


def test_random_workflow_operations_keep_the_stored_pipeline_equal_to_the_deals(
    app, make_user, make_partner, make_product
):
    rng = random.Random(6)
    managers = [make_user("manager"), make_user("manager")]
    partners = [
        make_partner(tier=tier, owner=managers[i % 2])
        for i, tier in enumerate(["gold", "silver", "registered", "gold"])
    ]
    users = {p.id: make_user("partner", partner=p) for p in partners}
    rep = make_user("rep")
    admin = make_user("admin")
    product = make_product(list_price="10000.00")
    today = date.today()
    counter = iter(range(1, 10_000))

    def deals_in(*statuses):
        return db.session.scalars(
            select(Deal).where(Deal.kind == CHANNEL, Deal.status.in_(statuses)).order_by(Deal.id)
        ).all()

    def pick(*statuses):
        found = deals_in(*statuses)
        return rng.choice(found) if found else None

    def new_registration(submit):
        partner = rng.choice(partners)
        save_registration(
            users[partner.id],
            registration(rng, product, next(counter)),
            submit=submit,
            today=today,
        )

    def edit():
        deal = pick(DRAFT, MORE_INFO)
        if deal:
            data = registration(rng, product, next(counter))
            save_registration(users[deal.partner_id], data, deal=deal, submit=False, today=today)

    def submit():
        deal = pick(DRAFT)
        if deal:
            submit_deal(deal, users[deal.partner_id])

    def approve():
        deal = pick(SUBMITTED)
        if deal:
            approve_deal(deal, admin, None)

    def reject():
        deal = pick(SUBMITTED, MORE_INFO)
        if deal:
            reject_deal(deal, admin, None, "不符合")

    def more_info():
        deal = pick(SUBMITTED)
        if deal:
            request_information(deal, admin, None, "请补充")

    def answer():
        deal = pick(MORE_INFO)
        if deal:
            answer_information_request(deal, users[deal.partner_id], "已补充")

    def protection_passes():  # time moves on: an approved deal's protection runs out
        deal = pick(APPROVED)
        if deal:
            deal.protection_expires_at = utcnow() - timedelta(minutes=rng.randint(1, 9999))

    def extend():
        deal = pick(APPROVED)
        if deal:
            extend_protection(deal, admin, None, rng.randint(1, 30))

    def close():
        deal = pick(APPROVED)
        if deal:
            close_deal(deal, users[deal.partner_id], rng.choice(["won", "lost"]), "price")

    def strategic():
        deal = pick(DRAFT, SUBMITTED, MORE_INFO, APPROVED)
        if deal:
            mark_strategic_exception(deal, admin, None, not deal.strategic_exception)

    def resolve():
        conflict = db.session.scalars(
            select(Conflict).where(Conflict.status == "open").order_by(Conflict.id)
        ).first()
        if conflict:
            resolve_conflict(conflict, admin, rng.choice(list(RESOLUTIONS)))

    def direct():
        save_direct_deal(rep, registration(rng, product, next(counter)), today=today)

    def delete_draft():
        deal = pick(DRAFT)
        if deal and not db.session.scalar(
            select(Conflict.id).where(
                (Conflict.deal_id == deal.id) | (Conflict.other_deal_id == deal.id)
            )
        ):
            # The app never deletes a deal; a clean-up script would, with its statistics row.
            db.session.execute(
                delete(DealStatsContribution).where(DealStatsContribution.deal_id == deal.id)
            )
            db.session.delete(deal)

    operations = [
        (lambda: new_registration(False), 3),
        (lambda: new_registration(True), 4),
        (edit, 2),
        (submit, 2),
        (approve, 4),
        (reject, 1),
        (more_info, 2),
        (answer, 1),
        (protection_passes, 1),
        (extend, 1),
        (close, 1),
        (strategic, 1),
        (resolve, 1),
        (direct, 1),
        (delete_draft, 1),
        (expire_deals, 1),
    ]
    moves, weights = zip(*operations, strict=True)
    refused = 0
    for _ in range(160):
        try:
            rng.choices(moves, weights)[0]()
            db.session.commit()
        except DealError:
            db.session.rollback()  # undoes the pipeline's change with the deal's
            refused += 1
        assert stored() == rebuilt()
    assert refused < 80
    now = utcnow()
    counted = live(now)
    assert sum(n for n, _ in counted.values()) > 5
    assert deals_in(APPROVED), "some approved deals, some of them past protection"
    assert {k: v for k, v in open_pipeline([], now).items()} == counted
    for manager in managers:
        by_tier, by_stage = pipeline(manager, now)
        mine = live(now, owner_id=manager.id)
        tier_counts = defaultdict(int)
        for (tier, _stage), (count, _cents) in mine.items():
            tier_counts[tier] += count
        assert {r.key: r.count for r in by_tier if r.count} == dict(tier_counts)
        assert sum(r.amount for r in by_stage) == Decimal(sum(c for _, c in mine.values())) / 100


def test_approved_deal_past_protection_leaves_the_pipeline_before_the_expiry_command(
    app, runner, make_deal, make_partner, make_user
):
    admin = make_user("admin")
    partner = make_partner(tier="gold")
    make_deal(partner=partner, status="approved", protection_days=20)
    passed = make_deal(partner=partner, status="approved", protection_days=-1)
    make_deal(partner=partner, status="submitted")
    by_tier, _ = pipeline(admin, utcnow())
    assert {r.key: r.count for r in by_tier}["gold"] == 2
    assert stored() == {(partner.id, "evaluation"): (3, 30000000)}  # by status alone
    assert "1 deal(s) expired." in runner.invoke(args=["deals", "expire"]).output
    db.session.refresh(passed)
    assert passed.status == "expired"
    assert stored() == {(partner.id, "evaluation"): (2, 20000000)}
    by_tier, _ = pipeline(admin, utcnow())
    assert {r.key: r.count for r in by_tier}["gold"] == 2


def test_refresh_command_rebuilds_the_pipeline(app, runner, make_deal, make_partner):
    partner = make_partner()
    for status in ("draft", "submitted", "approved", "rejected", "more_info_requested"):
        make_deal(partner=partner, status=status)
    kept = stored()
    assert kept == {(partner.id, "evaluation"): (3, 30000000)}
    db.session.execute(PartnerPipeline.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["deals", "refresh-pipeline"])
    assert result.exit_code == 0, result.output
    assert "1 partner-stage row(s)" in result.output
    assert stored() == kept
    assert rebuild_pipeline([partner.id]) == 1


def test_migration_fills_the_pipeline_from_existing_deals(fresh_database_url):  # noqa: F811
    from flask_migrate import upgrade

    from accounts.models import User
    from app import create_app
    from customers.models import EndCustomer
    from partners.models import Partner, TierPolicy

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="40674e3f76f2")
        db.session.add(
            TierPolicy(
                tier="gold",
                discount_rate=Decimal("0.3"),
                min_commitment=Decimal("0"),
                protection_days=90,
                approval_limit=Decimal("0.1"),
                rebate_rate=Decimal("0.02"),
            )
        )
        db.session.commit()
        partner = Partner(name="伙伴", uscc="91110108000000001X", tier="gold")
        user = User(email="p@example.com", name="P", role="partner", password_hash="x")
        db.session.add_all([partner, user])
        db.session.commit()
        # Written with SQL (the model has columns of later revisions), as are the deals: they
        # were written before the pipeline was kept (no session hook).
        with db.engine.begin() as conn:
            customer_id = conn.execute(
                EndCustomer.__table__.insert().values(name="客户", coverage="channel")
            ).inserted_primary_key[0]
        rows = [
            ("channel", "submitted", "evaluation", Decimal("100.10")),
            ("channel", "approved", "evaluation", Decimal("0.05")),
            ("channel", "more_info_requested", "final_decision", Decimal("7.77")),
            ("channel", "rejected", "evaluation", Decimal("1000")),
            ("channel", "draft", "evaluation", Decimal("1000")),
        ]
        with db.engine.begin() as conn:
            for n, (kind, status, stage, value) in enumerate(rows):
                conn.execute(
                    Deal.__table__.insert().values(
                        kind=kind,
                        partner_id=partner.id,
                        customer_id=customer_id,
                        created_by_id=user.id,
                        project_name=f"p{n}",
                        estimated_value=value,
                        expected_close_date=date(2027, 1, 1),
                        stage=stage,
                        funding_source="own_budget",
                        status=status,
                        version=1,
                    )
                )
        upgrade()
        migrated = stored()
        assert migrated == {
            (partner.id, "evaluation"): (2, 10015),
            (partner.id, "final_decision"): (1, 777),
        }
        rebuild_pipeline()
        db.session.commit()
        assert stored() == migrated
        # Revision c4e1a9d27b6f: a customer only ever reached through this partner's deals,
        # with no sign of the vendor entering it, is put down as that partner's.
        assert db.session.get(EndCustomer, customer_id).created_by_partner_id == partner.id
        db.session.remove()
        db.engine.dispose()
