"""Statement workbooks, written with openpyxl's write-only mode.

Every table sheet has its header row frozen and filterable, column widths fitted to the header
and the first rows, numbers as numbers (money in a CNY format, attainment as a percent, dates as
dates) and a totals row of ``SUM`` formulas over the rows above it. A table longer than Excel's
1,048,576 rows continues on "<sheet> (2)", each sheet with its own totals, and the last one adds
a row of totals over all of them. Text from users (names, projects, notes) goes through
``safe_text``: it can never become a formula, a link or an error value.

Sheet names, headers and the few words in cells come from ``LABELS`` (English) through the
finance message catalogue, in the language asked for.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import IO, Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from clock import vendor_tz
from finance.statements import (
    Statement,
    granted_deal_rows,
    monthly_order_rows,
    order_line_rows,
    special_price_rows,
)
from pricing.pricelist import CNY_FORMAT, FORMULA_TRIGGERS, PERCENT_FORMAT, plain_text_cell

EXCEL_MAX_ROWS = 1_048_576
LOOKAHEAD_ROWS = 500  # rows read before the first is written, to fit the column widths
MIN_WIDTH, MAX_WIDTH = 8, 60
PROGRESS_EVERY = 1_000
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "yyyy-mm"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
INTEGER_FORMAT = "#,##0"
NUMBER_FORMATS = {
    "date": DATE_FORMAT,
    "month": MONTH_FORMAT,
    "datetime": DATETIME_FORMAT,
    "int": INTEGER_FORMAT,  # totals of whole numbers; the values themselves stay General
    "money": CNY_FORMAT,
    "percent": PERCENT_FORMAT,
}

LANGUAGES = {"en": "English", "zh": "中文"}

#: Sheet names, headers and the words in cells, in English; the finance catalogue holds their
#: Chinese (one source of truth with the pages). Sheet names stay within 27 characters: a
#: continuation adds " (2)".
LABELS: dict[str, str] = {
    "sheet.summary": _l("Summary"),
    "sheet.orders": _l("Stock orders"),
    "sheet.monthly": _l("Orders by month"),
    "sheet.deals": _l("Approved deals"),
    "sheet.special": _l("Special prices"),
    "sheet.notes": _l("Notes"),
    "partner": _l("Partner"),
    "uscc": _l("Unified social credit code"),
    "tier": _l("Tier"),
    "region": _l("Region"),
    "owner": _l("Channel manager"),
    "period_start": _l("Period from"),
    "period_end": _l("Period to"),
    "committed": _l("Committed (CNY)"),
    "ordered": _l("Ordered (CNY)"),
    "attainment": _l("Attainment"),
    "shortfall": _l("Shortfall (CNY)"),
    "special_discount": _l("Special-price discount (CNY)"),
    "rebate_rate": _l("Rebate rate"),
    "rebate": _l("Rebate (CNY)"),
    "order_date": _l("Order date"),
    "order_number": _l("Order number"),
    "sku": _l("SKU"),
    "product": _l("Product"),
    "product_line": _l("Product line"),
    "quantity": _l("Quantity"),
    "unit_price": _l("Unit price (CNY)"),
    "amount": _l("Amount (CNY)"),
    "month": _l("Month"),
    "order_lines": _l("Order lines"),
    "decided_on": _l("Decided on"),
    "deal": _l("Deal number"),
    "project": _l("Project"),
    "customer": _l("End customer"),
    "status": _l("Status"),
    "list_price": _l("List price (CNY)"),
    "tier_price": _l("Tier price (CNY)"),
    "approved_price": _l("Approved price (CNY)"),
    "special_status": _l("Special price"),
    "discount_per_unit": _l("Discount per unit (CNY)"),
    "discount": _l("Discount granted (CNY)"),
    "approved_by": _l("Approved by"),
    "note": _l("Note"),
    "total": _l("Total"),
    "sheet_total": _l("Total of this sheet"),
    "grand_total": _l("Total of all sheets"),
    "empty.orders": _l("No stock orders in this period."),
    "empty.deals": _l("No approved deals decided in this period."),
    "empty.special": _l("No special prices granted in this period."),
    "empty.monthly": _l("No stock orders in this period."),
    "empty.summary": _l("No partners match."),
    "tier.gold": _l("Gold"),
    "tier.silver": _l("Silver"),
    "tier.registered": _l("Registered"),
    "status.approved": _l("Approved"),
    "status.won": _l("Won"),
    "status.expired": _l("Expired"),
    "special.none": "",
    "special.approved": _l("Approved"),
    "special.rejected": _l("Refused (tier price)"),
    "special.pending": _l("Pending"),
    "notes.title": _l("Statement"),
    "notes.partner_statement": _l("Partner statement"),
    "notes.channel_statement": _l("Channel statement"),
    "notes.period": _l("Period"),
    "notes.from": _l("From"),
    "notes.to": _l("To"),
    "notes.filters": _l("Partners included"),
    "notes.all_partners": _l("All partners"),
    "notes.generated_at": _l("Generated at (Asia/Shanghai)"),
    "notes.generated_by": _l("Generated by"),
    "notes.definitions": _l("Definitions"),
    "def.committed": _l(
        "Committed: the partner's stock commitments overlapping the period, each × "
        "overlapping days ÷ days of its period (a commitment inside a longer one of the "
        "same partner is not counted again)."
    ),
    "def.ordered": _l(
        "Ordered: Σ quantity × unit price of the stock order lines dated in the period."
    ),
    "def.attainment": _l("Attainment: ordered ÷ committed (blank when nothing is committed)."),
    "def.shortfall": _l("Shortfall: committed − ordered, never below zero."),
    "def.special": _l(
        "Special-price discount: Σ (tier price − approved price) × quantity over the "
        "approved special prices of deals approved, won or expired and decided in the "
        "period (tier price from today's list price and tier discount)."
    ),
    "def.rebate": _l(
        "Rebate: ordered × the rebate rate of the partner's tier. Money in CNY, cents "
        "rounded half-up."
    ),
}


def labels_for(lang: str | None) -> dict[str, str]:
    """The labels in ``lang`` ("en" when unknown), translated through the catalogues.

    Works in a request and in an export job's app context alike: the language is forced, never
    taken from the request.
    """
    with force_locale(lang if lang in LANGUAGES else "en"):
        return {key: str(value) for key, value in LABELS.items()}


# --- cells --------------------------------------------------------------------------------


def safe_text(ws: Any, value: Any) -> Any:
    """Text as a cell value that stays text: plain ``str`` when openpyxl keeps it text anyway
    (cheap: most text), otherwise ``pricing.pricelist.plain_text_cell`` (formula triggers
    "=", "+", "-", "@", tab, carriage return; error literals like "#N/A"; characters XML
    cannot hold)."""
    if value is None:
        return None
    text = str(value)
    if (
        text.startswith(FORMULA_TRIGGERS)
        or "\r" in text
        or text in ERROR_CODES
        or ILLEGAL_CHARACTERS_RE.search(text)
    ):
        return plain_text_cell(ws, text)
    return text


def display_width(value: Any, kind: str) -> int:
    """About how many character widths a value takes (CJK characters count two)."""
    if value is None:
        return 0
    if kind == "money":
        return len(f"¥{value:,.2f}")
    if kind == "percent":
        return 8
    if kind in ("date", "month"):
        return 10
    if kind == "datetime":
        return 16
    if kind == "int":
        return len(f"{value:,}")
    text = str(value)
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@dataclass(frozen=True)
class Column:
    key: str  # label key of the header
    kind: str = "text"  # text | date | month | datetime | int | money | percent
    total: str = ""  # "" | "sum" | "ratio:<numerator key>/<denominator key>"


class _Styles:
    """One style array per number format, shared by the cells of a workbook."""

    def __init__(self, wb: Workbook):
        # Styles are registered with the workbook: a cell only needs to reach it as .parent.parent
        ws = SimpleNamespace(parent=wb)
        self.formats = {}
        for kind, number_format in NUMBER_FORMATS.items():
            cell = WriteOnlyCell(ws)
            cell.number_format = number_format
            self.formats[kind] = cell._style
        self.bold = {}
        for kind, number_format in [("text", "General"), *NUMBER_FORMATS.items()]:
            cell = WriteOnlyCell(ws)
            cell.font = Font(bold=True)
            cell.number_format = number_format
            self.bold[kind] = cell._style
        header = WriteOnlyCell(ws)
        header.font = Font(bold=True)
        header.alignment = Alignment(wrap_text=True, vertical="top")
        self.header = header._style


def _styled(ws, value, style):
    cell = WriteOnlyCell(ws, value=value)
    cell._style = style  # a shared, never-modified StyleArray: no per-cell style lookups
    return cell


def _converter(ws, kind: str, styles: _Styles) -> Callable[[Any], Any]:
    """How a column's values become cells: text through safe_text, whole numbers as they are
    (General format), dates, money and percents in one styled cell per column, reused.

    Reusing the cell is safe because a write-only sheet serialises each row inside
    ``append``; it saves creating and styling a cell per value (a tenth of the writing time).
    """
    if kind == "text":
        return lambda value: safe_text(ws, value)
    if kind == "int":
        return lambda value: value
    cell = _styled(ws, None, styles.formats[kind])

    def styled(value):
        if value is None:
            return None
        cell.value = value
        return cell

    return styled


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


class TableWriter:
    """One table (header, rows, totals) over as many sheets as the row limit needs."""

    def __init__(
        self,
        wb: Workbook,
        styles: _Styles,
        title: str,
        columns: Sequence[Column],
        labels: dict[str, str],
        *,
        empty_text: str = "",
        freeze: str = "A2",
        max_rows: int = EXCEL_MAX_ROWS,
        progress: Callable[[int], None] | None = None,
    ):
        if max_rows < 4:
            raise ValueError("A sheet needs room for a header, a row and two totals rows.")
        self.wb = wb
        self.styles = styles
        self.title = title
        self.columns = list(columns)
        self.labels = labels
        self.empty_text = empty_text
        self.freeze = freeze
        # header + rows + this sheet's totals + the totals of all sheets
        self.rows_per_sheet = max_rows - 3
        self.progress = progress
        self.sheets: list[tuple[str, int]] = []  # (title, row of its totals)
        self.widths: list[float] = []
        self.letters = [get_column_letter(i) for i in range(1, len(self.columns) + 1)]
        self.position = {c.key: i for i, c in enumerate(self.columns)}

    # -- widths --

    def _fit_widths(self, sample: list[Sequence]) -> None:
        for index, column in enumerate(self.columns):
            header = display_width(self.labels[column.key], "text")
            # Wrapped headers: long ones may take two lines.
            widest = max(min(header, MAX_WIDTH), (header + 1) // 2 if header > 24 else header)
            if column.kind == "money":
                widest = max(widest, 15)  # room for the totals
            for row in sample:
                widest = max(widest, display_width(row[index], column.kind))
            self.widths.append(min(max(widest + 2, MIN_WIDTH), MAX_WIDTH))

    # -- sheets --

    def _open_sheet(self):
        number = len(self.sheets) + 1
        title = self.title if number == 1 else f"{self.title} ({number})"
        ws = self.wb.create_sheet(title[:31])
        # Views and columns go out with the first row in write-only mode: set them first.
        ws.freeze_panes = self.freeze
        for letter, width in zip(self.letters, self.widths, strict=True):
            ws.column_dimensions[letter].width = width
        ws.append([_styled(ws, self.labels[c.key], self.styles.header) for c in self.columns])
        self.converters = [_converter(ws, c.kind, self.styles) for c in self.columns]
        return ws

    def _totals_row(self, ws, label: str, formulas: Callable[[int, str], str], row: int):
        cells = []
        for index, (column, letter) in enumerate(zip(self.columns, self.letters, strict=True)):
            if index == 0:
                cells.append(_styled(ws, label, self.styles.bold["text"]))
            elif column.total == "sum":
                cells.append(_styled(ws, formulas(index, letter), self.styles.bold[column.kind]))
            elif column.total.startswith("ratio:"):
                numerator, denominator = column.total[6:].split("/")
                num = self.letters[self.position[numerator]]
                den = self.letters[self.position[denominator]]
                formula = f'=IF({den}{row}=0,"",{num}{row}/{den}{row})'
                cells.append(_styled(ws, formula, self.styles.bold[column.kind]))
            else:
                cells.append(None)
        ws.append(cells)

    def _close_sheet(self, ws, data_rows: int, last: bool) -> None:
        last_data = data_rows + 1
        total_row = last_data + 1
        several = len(self.sheets) > 0 or not last
        label = self.labels["sheet_total" if several else "total"]
        self._totals_row(ws, label, lambda i, col: f"=SUM({col}2:{col}{last_data})", total_row)
        title = ws.title
        self.sheets.append((title, total_row))
        if last and len(self.sheets) > 1:

            def across(index, col):
                return "=" + "+".join(f"{_quoted(t)}!{col}{r}" for t, r in self.sheets)

            self._totals_row(ws, self.labels["grand_total"], across, total_row + 1)
        ws.auto_filter.ref = f"A1:{self.letters[-1]}{last_data}"

    # -- rows --

    def write(self, rows: Iterable[Sequence]) -> int:
        """Write every row; returns how many (the empty-period line not counted)."""
        iterator: Iterator[Sequence] = iter(rows)
        sample = []
        for row in iterator:
            sample.append(row)
            if len(sample) >= LOOKAHEAD_ROWS:
                break
        self._fit_widths(sample)
        ws = self._open_sheet()
        if not sample:
            ws.append([safe_text(ws, self.empty_text)])
            self._close_sheet(ws, 1, last=True)
            return 0
        count = in_sheet = 0
        pending = _chain(sample, iterator)
        for row in pending:
            if in_sheet == self.rows_per_sheet:
                self._close_sheet(ws, in_sheet, last=False)
                ws = self._open_sheet()
                in_sheet = 0
            ws.append([convert(value) for convert, value in zip(self.converters, row, strict=True)])
            in_sheet += 1
            count += 1
            if self.progress is not None and count % PROGRESS_EVERY == 0:
                self.progress(count)
        self._close_sheet(ws, in_sheet, last=True)
        if self.progress is not None:
            self.progress(count)
        return count


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


# --- the statement workbooks -----------------------------------------------------------------

SUMMARY_COLUMNS = (
    Column("partner"),
    Column("uscc"),
    Column("tier"),
    Column("region"),
    Column("owner"),
    Column("period_start", "date"),
    Column("period_end", "date"),
    Column("committed", "money", "sum"),
    Column("ordered", "money", "sum"),
    Column("attainment", "percent", "ratio:ordered/committed"),
    Column("shortfall", "money", "sum"),
    Column("special_discount", "money", "sum"),
    Column("rebate_rate", "percent"),
    Column("rebate", "money", "sum"),
)
ORDER_COLUMNS = (
    Column("order_date", "date"),
    Column("order_number"),
    Column("sku"),
    Column("product"),
    Column("product_line"),
    Column("quantity", "int", "sum"),
    Column("unit_price", "money"),
    Column("amount", "money", "sum"),
)
MONTHLY_COLUMNS = (
    Column("partner"),
    Column("uscc"),
    Column("month", "month"),
    Column("order_lines", "int", "sum"),
    Column("quantity", "int", "sum"),
    Column("amount", "money", "sum"),
)
DEAL_COLUMNS = (
    Column("decided_on", "date"),
    Column("deal", "int"),
    Column("project"),
    Column("customer"),
    Column("status"),
    Column("sku"),
    Column("product"),
    Column("quantity", "int", "sum"),
    Column("list_price", "money"),
    Column("tier_price", "money"),
    Column("approved_price", "money"),
    Column("amount", "money", "sum"),
    Column("special_status"),
)
SPECIAL_COLUMNS = (
    Column("decided_on", "date"),
    Column("partner"),
    Column("uscc"),
    Column("deal", "int"),
    Column("project"),
    Column("customer"),
    Column("sku"),
    Column("product"),
    Column("quantity", "int", "sum"),
    Column("tier_price", "money"),
    Column("approved_price", "money"),
    Column("discount_per_unit", "money"),
    Column("discount", "money", "sum"),
    Column("approved_by"),
    Column("note"),
)


def _summary_rows(statement: Statement, labels: dict[str, str]) -> Iterator[tuple]:
    period = statement.period
    for row in statement.rows:
        yield (
            row.name,
            row.uscc,
            labels.get(f"tier.{row.tier}", row.tier),
            row.region,
            row.owner,
            period.start,
            period.end,
            row.committed,
            row.ordered,
            row.attainment,
            row.shortfall,
            row.special_discount,
            row.rebate_rate,
            row.rebate,
        )


def _deal_rows(rows: Iterable[tuple], labels: dict[str, str]) -> Iterator[tuple]:
    for row in rows:
        yield (
            *row[:4],
            labels.get(f"status.{row[4]}", row[4]),
            *row[5:12],
            labels.get(f"special.{row[12]}", row[12]),
        )


def _without_partner(rows: Iterable[tuple]) -> Iterator[tuple]:
    for row in rows:
        yield (row[0], *row[3:])


@dataclass
class WorkbookResult:
    rows: int  # detail rows written, all sheets
    sheets: list[str]


def write_statement(
    statement: Statement,
    out: IO[bytes],
    *,
    lang: str = "en",
    generated_by: str = "",
    generated_at: datetime | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> WorkbookResult:
    """Write a partner's statement (summary, stock orders, approved deals, special prices,
    notes) or the channel's (summary, orders by month, special prices, notes) to ``out``."""
    labels = labels_for(lang)
    wb = Workbook(write_only=True)
    wb.properties.creator = "Channel back-office"
    styles = _Styles(wb)
    written = 0

    def table(key, columns, empty, freeze="A2"):
        # Progress counts detail rows, as the job's expected total does (not the summary's).
        detail = progress is not None and key != "summary"
        report = (lambda n: progress(key, n)) if detail else None
        return TableWriter(
            wb,
            styles,
            labels[f"sheet.{key}"],
            columns,
            labels,
            empty_text=labels[empty],
            freeze=freeze,
            max_rows=max_rows,
            progress=report,
        )

    table("summary", SUMMARY_COLUMNS, "empty.summary", freeze="B2").write(
        _summary_rows(statement, labels)
    )
    scope, period = statement.scope, statement.period
    if scope.is_channel:
        written += table("monthly", MONTHLY_COLUMNS, "empty.monthly").write(
            monthly_order_rows(statement)
        )
        written += table("special", SPECIAL_COLUMNS, "empty.special").write(
            special_price_rows(scope, period)
        )
    else:
        written += table("orders", ORDER_COLUMNS, "empty.orders").write(
            order_line_rows(scope.partner_id, period)
        )
        written += table("deals", DEAL_COLUMNS, "empty.deals").write(
            _deal_rows(granted_deal_rows(scope, period), labels)
        )
        partner_special = tuple(c for c in SPECIAL_COLUMNS if c.key not in ("partner", "uscc"))
        written += table("special", partner_special, "empty.special").write(
            _without_partner(special_price_rows(scope, period))
        )
    _notes_sheet(wb, styles, statement, labels, generated_by, generated_at)
    wb.save(out)
    return WorkbookResult(rows=written, sheets=[ws.title for ws in wb.worksheets])


def _notes_sheet(
    wb: Workbook,
    styles: _Styles,
    statement: Statement,
    labels: dict[str, str],
    generated_by: str,
    generated_at: datetime | None,
) -> None:
    ws = wb.create_sheet(labels["sheet.notes"])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100
    scope, period = statement.scope, statement.period
    if scope.is_channel:
        kind = labels["notes.channel_statement"]
        filters = [
            value
            for value in (
                labels.get(f"tier.{scope.tier}", "") if scope.tier else "",
                scope.region,
                statement.rows[0].owner if scope.owner_id and statement.rows else "",
            )
            if value
        ]
        who = " · ".join(filters) or labels["notes.all_partners"]
    else:
        kind = labels["notes.partner_statement"]
        partner = statement.partner
        who = f"{partner.name} ({partner.uscc})" if partner else ""

    def line(key, value, kind="text"):
        label = _styled(ws, labels[key], styles.bold["text"])
        if kind == "text":
            ws.append([label, safe_text(ws, value)])
        else:
            ws.append([label, _styled(ws, value, styles.formats[kind])])

    line("notes.title", kind)
    line("notes.filters", who)
    line("notes.period", period.label)
    line("notes.from", period.start, "date")
    line("notes.to", period.end, "date")
    if generated_at is not None:
        local = generated_at.astimezone(vendor_tz()).replace(tzinfo=None)
        line("notes.generated_at", local, "datetime")
    if generated_by:
        line("notes.generated_by", generated_by)
    ws.append([])
    ws.append([_styled(ws, labels["notes.definitions"], styles.bold["text"])])
    for key in (
        "def.committed",
        "def.ordered",
        "def.attainment",
        "def.shortfall",
        "def.special",
        "def.rebate",
    ):
        ws.append([None, safe_text(ws, labels[key])])
