"""Products with list and floor prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import UTCDateTime, utcnow
from app import db
from partners.models import Money


class Product(db.Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line: Mapped[str] = mapped_column(String(60), index=True)
    list_price: Mapped[Decimal] = mapped_column(Money)
    floor_price: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
