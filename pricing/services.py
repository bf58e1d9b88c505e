"""Product master data and price arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
        raise ProductError("list_price", "Must be above zero.")
    if details.floor_price <= 0:
        raise ProductError("floor_price", "Must be above zero.")
    if details.floor_price > details.list_price:
        raise ProductError("floor_price", "The floor price cannot be above the list price.")
    other = db.session.scalar(select(Product).where(func.upper(Product.sku) == details.sku.upper()))
    if other is not None and other.id != product_id:
        raise ProductError("sku", "Another product already has this SKU.")


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
