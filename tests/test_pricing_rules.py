"""Price arithmetic: tier prices in cents half-up, and who may approve a requested price."""

from decimal import Decimal

import pytest

from pricing.services import check_price, tier_price, to_cents

D = Decimal


def test_tier_price_is_list_less_discount_rounded_half_up():
    assert tier_price(D("999.99"), D("0.25")) == D("749.99")  # 749.9925
    assert tier_price(D("10.10"), D("0.05")) == D("9.60")
    assert to_cents(D("0.125")) == D("0.13")  # banker's rounding would give 0.12


@pytest.mark.parametrize(
    ("requested", "special", "approver"),
    [
        ("7000.00", False, "none"),  # exactly the gold tier price
        ("7500.00", False, "none"),
        ("6500.00", True, "manager"),  # 5 % beyond tier, limit 10 %
        ("6000.00", True, "manager"),  # exactly at the limit
        ("5999.99", True, "admin"),  # just beyond the limit (and still above floor 5500)
        ("5400.00", True, "admin"),  # below floor
    ],
)
def test_who_approves_a_requested_price(requested, special, approver):
    check = check_price(
        list_price=D("10000.00"),
        floor_price=D("5500.00"),
        discount_rate=D("0.30"),
        approval_limit=D("0.10"),
        requested=D(requested),
    )
    assert check.tier_price == D("7000.00")
    assert check.special is special
    assert check.approver == approver


def test_below_floor_needs_admin_even_within_limit():
    check = check_price(
        list_price=D("100.00"),
        floor_price=D("75.00"),
        discount_rate=D("0.20"),
        approval_limit=D("0.10"),
        requested=D("74.00"),
    )
    assert check.extra_depth == D("0.0600")
    assert check.below_floor and check.approver == "admin"
    assert check.discount_depth == D("0.2600")
