"""Product master data and price arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.audit import record_audit, snapshot
from app import db
from pricing.models import Product

CENT = Decimal("0.01")
PRODUCT_AUDIT_FIELDS = ("sku", "name", "product_line", "list_price", "floor_price", "active")


def to_cents(amount: Decimal) -> Decimal:
    """Money rounded to cents, half-up (the vendor's rule, not banker's rounding)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def tier_price(list_price: Decimal, discount_rate: Decimal) -> Decimal:
    """A partner's price: list price less its tier discount, in cents, half-up."""
    return to_cents(Decimal(list_price) * (Decimal(1) - Decimal(discount_rate)))


class ProductError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class ProductDetails:
    sku: str
    name: str
    product_line: str
    list_price: Decimal
    floor_price: Decimal
    active: bool = True


def _validate(details: ProductDetails, product_id: int | None) -> None:
    if details.list_price <= 0:
        raise ProductError("list_price", _("Must be above zero."))
    if details.floor_price <= 0:
        raise ProductError("floor_price", _("Must be above zero."))
    if details.floor_price > details.list_price:
        raise ProductError("floor_price", _("The floor price cannot be above the list price."))
    other = db.session.scalar(select(Product).where(func.upper(Product.sku) == details.sku.upper()))
    if other is not None and other.id != product_id:
        raise ProductError("sku", _("Another product already has this SKU."))


def save_product(product: Product | None, details: ProductDetails) -> Product:
    """Create (product None) or change a product, audited; raises ProductError."""
    details.sku = details.sku.strip().upper()
    details.list_price = to_cents(details.list_price)
    details.floor_price = to_cents(details.floor_price)
    _validate(details, product.id if product else None)
    before = snapshot(product, PRODUCT_AUDIT_FIELDS) if product else None
    if product is None:
        product = Product()
        db.session.add(product)
    for name in PRODUCT_AUDIT_FIELDS:
        setattr(product, name, getattr(details, name))
    db.session.flush()
    after = snapshot(product, PRODUCT_AUDIT_FIELDS)
    record_audit(
        "update" if before else "create", product, before=before, after=after, summary=product.sku
    )
    return product


@dataclass(frozen=True)
class PriceCheck:
    """How a requested unit price compares with the partner's tier price and the floor."""

    list_price: Decimal
    tier_price: Decimal
    requested: Decimal
    floor_price: Decimal
    discount_depth: Decimal  # total discount off list asked for, 0.35 = 35 %
    extra_depth: Decimal  # beyond the tier discount, as a share of list price
    special: bool  # below the tier price: a special price request
    below_floor: bool
    approver: str  # "none", "manager" or "admin"


def check_price(
    *,
    list_price: Decimal,
    floor_price: Decimal,
    discount_rate: Decimal,
    approval_limit: Decimal,
    requested: Decimal,
) -> PriceCheck:
    """Who may approve a requested price: within the tier's limit a manager, deeper or below
    the floor only an admin; at or above the tier price nobody needs to."""
    tier = tier_price(list_price, discount_rate)
    requested = to_cents(requested)
    list_price = Decimal(list_price)
    depth = (list_price - requested) / list_price if list_price else Decimal(0)
    extra = (tier - requested) / list_price if list_price else Decimal(0)
    special = requested < tier
    below_floor = requested < Decimal(floor_price)
    if not special:
        approver = "none"
    elif below_floor or extra > Decimal(approval_limit):
        approver = "admin"
    else:
        approver = "manager"
    return PriceCheck(
        list_price=to_cents(list_price),
        tier_price=tier,
        requested=requested,
        floor_price=to_cents(Decimal(floor_price)),
        discount_depth=depth.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        extra_depth=max(extra, Decimal(0)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        special=special,
        below_floor=below_floor,
        approver=approver,
    )
