"""A partner's price list: the filtered product query, its rows, and the Excel workbook."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, or_, select

from app import db
from pricing.models import Product
from pricing.services import tier_price

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CNY_FORMAT = '"¥"#,##0.00'
PERCENT_FORMAT = "0.00%"
SHEET_TITLE = _l("Price list")  # headers and sheet name in the downloader's language
# Excel, LibreOffice and Google Sheets treat text starting with these as a formula
# (or as the start of one when a user edits the cell).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_BATCH_SIZE = 500

# header, column width, number format of the values
PRICE_LIST_COLUMNS = (
    (_l("SKU"), 18, None),
    (_l("Name"), 48, None),
    (_l("Product line"), 18, None),
    (_l("List price (CNY)"), 16, CNY_FORMAT),
    (_l("Discount"), 10, PERCENT_FORMAT),
    (_l("Your price (CNY)"), 16, CNY_FORMAT),
)


@dataclass(frozen=True)
class PriceListFilters:
    q: str = ""  # SKU or name contains, any case
    line: str = ""  # product line, exactly


@dataclass(frozen=True)
class PriceListRow:
    sku: str
    name: str
    product_line: str
    list_price: Decimal
    discount_rate: Decimal
    price: Decimal  # the partner's tier price


def price_list_query(filters: PriceListFilters) -> Select:
    """Active products matching the filters, in a stable order (the page and the export)."""
    stmt = select(Product).where(Product.active.is_(True))
    if filters.q:
        stmt = stmt.where(
            or_(
                Product.sku.icontains(filters.q, autoescape=True),
                Product.name.icontains(filters.q, autoescape=True),
            )
        )
    if filters.line:
        stmt = stmt.where(Product.product_line == filters.line)
    return stmt.order_by(Product.product_line, Product.sku)


def active_product_lines() -> list[str]:
    """The product lines of active products, for the filter."""
    return list(
        db.session.scalars(
            select(Product.product_line)
            .where(Product.active.is_(True))
            .distinct()
            .order_by(Product.product_line)
        )
    )


def price_list_row(
    sku: str, name: str, product_line: str, list_price: Decimal, discount_rate: Decimal
) -> PriceListRow:
    """One product at a partner's tier discount: list price less discount, cents half-up."""
    return PriceListRow(
        sku=sku,
        name=name,
        product_line=product_line,
        list_price=Decimal(list_price),
        discount_rate=Decimal(discount_rate),
        price=tier_price(list_price, discount_rate),
    )


def price_list_rows(filters: PriceListFilters, discount_rate: Decimal) -> Iterator[PriceListRow]:
    """Every matching product (all pages), fetched in batches so a large catalogue streams."""
    stmt = price_list_query(filters).with_only_columns(
        Product.sku, Product.name, Product.product_line, Product.list_price
    )
    result = db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH_SIZE))
    for sku, name, product_line, list_price in result:
        yield price_list_row(sku, name, product_line, list_price, discount_rate)


def plain_text_cell(ws: Any, value: str | None) -> WriteOnlyCell:
    """A write-only cell holding ``value`` as plain text, never as a formula.

    For text a user typed (product names, customer names, ...): openpyxl would store text
    starting with "=" as a formula, and spreadsheet programs read "+", "-", "@", tab or
    carriage return as the start of one. The cell is forced to a string; for those leading
    characters it is also quote-prefixed, so Excel keeps it text when someone edits the cell.
    Control characters XML cannot carry are dropped, and a carriage return is written as the
    line feed every XML reader turns it into anyway; the text is otherwise unchanged.
    """
    if value is None:
        return WriteOnlyCell(ws, value=None)
    text = str(value)
    formula_like = text.startswith(FORMULA_TRIGGERS)
    text = ILLEGAL_CHARACTERS_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    if formula_like:
        cell.quotePrefix = True
    return cell


def _number_cell(ws: Any, value: Decimal, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def write_price_list(rows: Iterable[PriceListRow], out: IO[bytes]) -> int:
    """Write the price list workbook to ``out`` in write-only mode; returns the product count.

    Header row frozen and filterable; money as numbers in CNY format, discount as a percent.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(SHEET_TITLE))
    # Views and column widths go out with the first row in write-only mode: set them first.
    ws.freeze_panes = "A2"
    for index, (_, width, _) in enumerate(PRICE_LIST_COLUMNS, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for title, _, _ in PRICE_LIST_COLUMNS:
        cell = WriteOnlyCell(ws, value=str(title))
        cell.font = bold
        header.append(cell)
    ws.append(header)

    count = 0
    for row in rows:
        ws.append(
            [
                plain_text_cell(ws, row.sku),
                plain_text_cell(ws, row.name),
                plain_text_cell(ws, row.product_line),
                _number_cell(ws, row.list_price, CNY_FORMAT),
                _number_cell(ws, row.discount_rate, PERCENT_FORMAT),
                _number_cell(ws, row.price, CNY_FORMAT),
            ]
        )
        count += 1
    last_column = get_column_letter(len(PRICE_LIST_COLUMNS))
    ws.auto_filter.ref = f"A1:{last_column}{count + 1}"
    wb.save(out)
    return count
