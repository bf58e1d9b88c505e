"""Price-only and at-risk signals: each at, below and above its threshold."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from partners.signals import DealStats, at_risk, price_only_signals

D = Decimal
SETTINGS = {
    "signal_special_share": D("0.60"),
    "signal_extra_discount": D("0.08"),
    "signal_lost_on_price_share": D("0.50"),
    "signal_special_wins_share": D("0.70"),
    "signals_to_flag": 3,
}


def fired(stats, has_commitment=True, **settings):
    result = price_only_signals(stats, has_commitment, SETTINGS | settings)
    return {s.name: s.fired for s in result.signals}, result


@pytest.mark.parametrize(("special", "expected"), [(5, False), (6, False), (7, True)])
def test_special_price_share_fires_only_above_threshold(special, expected):
    signals, result = fired(DealStats(deals=10, deals_with_special=special))
    assert signals["special_price_share"] is expected
    value = next(s for s in result.signals if s.name == "special_price_share").value
    assert value == D(special) / 10


@pytest.mark.parametrize(
    ("extra_sum", "expected"), [("0.70", False), ("0.80", False), ("0.90", True)]
)
def test_average_extra_discount(extra_sum, expected):
    signals, _ = fired(DealStats(deals=5, lines=10, extra_discount_sum=D(extra_sum)))
    assert signals["extra_discount"] is expected


@pytest.mark.parametrize(("on_price", "expected"), [(1, False), (2, False), (3, True)])
def test_lost_on_price_share(on_price, expected):
    signals, _ = fired(DealStats(deals=8, lost=4, lost_on_price=on_price))
    assert signals["lost_on_price_share"] is expected


@pytest.mark.parametrize(("special_wins", "expected"), [(6, False), (7, False), (8, True)])
def test_special_wins_share(special_wins, expected):
    signals, _ = fired(DealStats(deals=12, won=10, won_with_special=special_wins))
    assert signals["special_wins_share"] is expected


def test_no_commitment_signal_and_no_data_does_not_fire():
    signals, result = fired(DealStats(), has_commitment=False)
    assert signals == {
        "no_commitment": True,
        "special_price_share": False,
        "extra_discount": False,
        "lost_on_price_share": False,
        "special_wins_share": False,
    }
    assert not result.flagged


@pytest.mark.parametrize(("needed", "flagged"), [(2, True), (3, True), (4, False)])
def test_number_of_signals_that_flags_is_a_setting(needed, flagged):
    stats = DealStats(deals=10, deals_with_special=9, lines=10, extra_discount_sum=D("2"))
    _, result = fired(stats, has_commitment=False, signals_to_flag=needed)  # 3 fire
    assert result.flagged is flagged
    assert len(result.reasons) == 3


def test_at_risk_when_last_90_days_fall_below_half_the_average():
    today = date(2026, 11, 23)
    common = dict(
        today=today, order_dates=[today - timedelta(days=10)], monthly={}, drop_ratio=D("0.50")
    )
    # 12 months 365,000 → 90,000 per 90 days; half = 45,000
    assert at_risk(last_90_days=D("44999.99"), last_12_months=D("365000"), **common).flagged
    assert not at_risk(last_90_days=D("45000"), last_12_months=D("365000"), **common).flagged
    assert not at_risk(last_90_days=D("0"), last_12_months=D("0"), **common).flagged


def test_at_risk_when_it_stopped_ordering_longer_than_usual():
    today = date(2026, 11, 23)
    last = today - timedelta(days=46)
    dates = [last - timedelta(days=30 * i) for i in range(4)]  # usual interval 30 days
    result = at_risk(
        today=today,
        last_90_days=D("100"),
        last_12_months=D("100"),
        order_dates=dates,
        monthly={},
        drop_ratio=D("0"),
    )
    assert result.flagged and "no order for 46 days" in result.reasons[0]
    assert result.evidence["usual_interval_days"] == 30
    recent = [today - timedelta(days=45)] + dates[1:]
    assert not at_risk(
        today=today,
        last_90_days=D("100"),
        last_12_months=D("100"),
        order_dates=recent,
        monthly={},
        drop_ratio=D("0"),
    ).flagged


def test_deal_stats_from_the_database_leave_out_strategic_and_drafts(
    app, make_partner, make_product, make_deal
):
    from app import db
    from deals.partner_stats import deal_stats, price_only_for, refresh_partner_stats

    partner = make_partner(tier="gold")  # 30 %: tier price of 10,000 is 7,000
    product = make_product(list_price="10000.00")
    special = make_deal(partner=partner, product=product, unit_price="6000.00", status="lost")
    special.lost_reason = "price"
    special.lines[0].special_status = "pending"
    make_deal(partner=partner, product=product, unit_price="7000.00", status="won")
    strategic = make_deal(partner=partner, product=product, unit_price="5000.00", status="won")
    strategic.strategic_exception = True
    make_deal(partner=partner, product=product, unit_price="1.00", status="draft")
    db.session.commit()
    stats = deal_stats([partner.id])[partner.id]
    assert (stats.deals, stats.deals_with_special, stats.lost, stats.lost_on_price) == (2, 1, 1, 1)
    assert (stats.won, stats.won_with_special, stats.lines) == (1, 0, 2)
    assert stats.extra_discount_sum.quantize(D("0.0001")) == D("0.1000")  # 0.7 - 0.6
    refresh_partner_stats([partner.id])  # deals made straight in the database, not by workflow
    result = price_only_for([partner.id])[partner.id]
    by_name = {s.name: s for s in result.signals}
    assert by_name["special_price_share"].value == D("0.5000")
    assert by_name["extra_discount"].value == D("0.0500")
    assert by_name["lost_on_price_share"].fired  # 1 of 1 > 50 %


def test_stored_statistics_follow_the_workflow(
    app, make_partner, make_product, make_deal, make_user
):
    from app import db
    from deals.partner_stats import price_only_for
    from deals.workflow import submit_deal

    partner = make_partner(tier="gold")
    user = make_user("partner", partner=partner)
    deal = make_deal(partner=partner, unit_price="1.00", status="draft", created_by=user)
    assert price_only_for([partner.id])[partner.id].signals[1].value is None
    submit_deal(deal, user)  # below tier price: a special price request
    db.session.commit()
    share = price_only_for([partner.id])[partner.id].signals[1]
    assert share.name == "special_price_share" and share.value == D("1.0000") and share.fired


def test_incremental_statistics_match_a_full_rebuild(app, make_partner, make_user, make_deal):
    from app import db
    from deals.partner_stats import refresh_partner_stats, stored_stats
    from deals.special_prices import decide_special_price
    from deals.workflow import approve_deal, close_deal, submit_deal

    partner = make_partner(tier="silver")
    user, admin = make_user("partner", partner=partner), make_user("admin")
    deals = [
        make_deal(partner=partner, unit_price=price, status="draft", created_by=user)
        for price in ("9000.00", "7000.00", "9500.00")
    ]
    for deal in deals:
        submit_deal(deal, user)
    decide_special_price(deals[1], deals[1].lines[0], admin, approve=False)
    deals[1].strategic_exception = True
    for deal in deals[1:]:
        approve_deal(deal, admin, None)
    close_deal(deals[2], user, "lost", "price")
    db.session.commit()
    incremental = stored_stats([partner.id])[partner.id]
    refresh_partner_stats([partner.id])
    rebuilt = stored_stats([partner.id])[partner.id]
    assert incremental.deals == rebuilt.deals
    assert (incremental.lost, incremental.lost_on_price) == (rebuilt.lost, rebuilt.lost_on_price)
    assert incremental.deals_with_special == rebuilt.deals_with_special
    assert abs(incremental.extra_discount_sum - rebuilt.extra_discount_sum) < D("0.0001")
