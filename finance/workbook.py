"""Statement workbooks, written with openpyxl's write-only mode.

Every table sheet has its header row frozen and filterable, column widths fitted to the header
and the first rows, numbers as numbers (money in a CNY format, attainment as a percent, dates as
dates) and a totals row of ``SUM`` formulas over the rows above it. A table longer than Excel's
1,048,576 rows continues on "<sheet> (2)", each sheet with its own totals, and the last one adds
a row of totals over all of them. Text from users (names, projects, notes) goes through
``safe_text``: it can never become a formula, a link or an error value.

Sheet names, headers and the few words in cells come from ``LABELS``, one dict per language.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from finance.statements import (
    VENDOR_TZ,
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

LABELS: dict[str, dict[str, str]] = {
    "en": {
        # sheets (at most 27 characters: a continuation adds " (2)")
        "sheet.summary": "Summary",
        "sheet.orders": "Stock orders",
        "sheet.monthly": "Orders by month",
        "sheet.deals": "Approved deals",
        "sheet.special": "Special prices",
        "sheet.notes": "Notes",
        # headers
        "partner": "Partner",
        "uscc": "Unified social credit code",
        "tier": "Tier",
        "region": "Region",
        "owner": "Channel manager",
        "period_start": "Period from",
        "period_end": "Period to",
        "committed": "Committed (CNY)",
        "ordered": "Ordered (CNY)",
        "attainment": "Attainment",
        "shortfall": "Shortfall (CNY)",
        "special_discount": "Special-price discount (CNY)",
        "rebate_rate": "Rebate rate",
        "rebate": "Rebate (CNY)",
        "order_date": "Order date",
        "order_number": "Order number",
        "sku": "SKU",
        "product": "Product",
        "product_line": "Product line",
        "quantity": "Quantity",
        "unit_price": "Unit price (CNY)",
        "amount": "Amount (CNY)",
        "month": "Month",
        "order_lines": "Order lines",
        "decided_on": "Decided on",
        "deal": "Deal",
        "project": "Project",
        "customer": "End customer",
        "status": "Status",
        "list_price": "List price (CNY)",
        "tier_price": "Tier price (CNY)",
        "approved_price": "Approved price (CNY)",
        "special_status": "Special price",
        "discount_per_unit": "Discount per unit (CNY)",
        "discount": "Discount granted (CNY)",
        "approved_by": "Approved by",
        "note": "Note",
        # words in cells
        "total": "Total",
        "sheet_total": "Total of this sheet",
        "grand_total": "Total of all sheets",
        "empty.orders": "No stock orders in this period.",
        "empty.deals": "No approved deals decided in this period.",
        "empty.special": "No special prices granted in this period.",
        "empty.monthly": "No stock orders in this period.",
        "empty.summary": "No partners match.",
        "tier.gold": "Gold",
        "tier.silver": "Silver",
        "tier.registered": "Registered",
        "status.approved": "Approved",
        "status.won": "Won",
        "status.expired": "Expired",
        "special.none": "",
        "special.approved": "Approved",
        "special.rejected": "Refused (tier price)",
        "special.pending": "Pending",
        # notes sheet
        "notes.title": "Statement",
        "notes.partner_statement": "Partner statement",
        "notes.channel_statement": "Channel statement",
        "notes.period": "Period",
        "notes.from": "From",
        "notes.to": "To",
        "notes.filters": "Partners",
        "notes.all_partners": "All partners",
        "notes.generated_at": "Generated at (Asia/Shanghai)",
        "notes.generated_by": "Generated by",
        "notes.definitions": "Definitions",
        "def.committed": "Committed: the partner's stock commitments overlapping the period, "
        "each × overlapping days ÷ days of its period (a commitment inside a longer one of the "
        "same partner is not counted again).",
        "def.ordered": "Ordered: Σ quantity × unit price of the stock order lines dated in the "
        "period.",
        "def.attainment": "Attainment: ordered ÷ committed (blank when nothing is committed).",
        "def.shortfall": "Shortfall: committed − ordered, never below zero.",
        "def.special": "Special-price discount: Σ (tier price − approved price) × quantity over "
        "the approved special prices of deals approved, won or expired and decided in the "
        "period (tier price from today's list price and tier discount).",
        "def.rebate": "Rebate: ordered × the rebate rate of the partner's tier. Money in CNY, "
        "cents rounded half-up.",
    },
    "zh": {
        "sheet.summary": "汇总",
        "sheet.orders": "进货明细",
        "sheet.monthly": "月度进货",
        "sheet.deals": "已批准项目",
        "sheet.special": "特价明细",
        "sheet.notes": "说明",
        "partner": "合作伙伴",
        "uscc": "统一社会信用代码",
        "tier": "级别",
        "region": "区域",
        "owner": "渠道经理",
        "period_start": "期间起",
        "period_end": "期间止",
        "committed": "承诺金额（元）",
        "ordered": "进货金额（元）",
        "attainment": "完成率",
        "shortfall": "差额（元）",
        "special_discount": "特价折让（元）",
        "rebate_rate": "返利比例",
        "rebate": "返利（元）",
        "order_date": "订单日期",
        "order_number": "订单编号",
        "sku": "物料编码",
        "product": "产品名称",
        "product_line": "产品线",
        "quantity": "数量",
        "unit_price": "单价（元）",
        "amount": "金额（元）",
        "month": "月份",
        "order_lines": "订单行数",
        "decided_on": "审批日期",
        "deal": "项目编号",
        "project": "项目名称",
        "customer": "最终客户",
        "status": "状态",
        "list_price": "目录价（元）",
        "tier_price": "级别价（元）",
        "approved_price": "批准价（元）",
        "special_status": "特价",
        "discount_per_unit": "单位折让（元）",
        "discount": "折让金额（元）",
        "approved_by": "审批人",
        "note": "备注",
        "total": "合计",
        "sheet_total": "本页合计",
        "grand_total": "各页总计",
        "empty.orders": "本期间无进货订单。",
        "empty.deals": "本期间无已批准项目。",
        "empty.special": "本期间未批准特价。",
        "empty.monthly": "本期间无进货订单。",
        "empty.summary": "没有符合条件的合作伙伴。",
        "tier.gold": "金牌",
        "tier.silver": "银牌",
        "tier.registered": "注册",
        "status.approved": "已批准",
        "status.won": "赢单",
        "status.expired": "已过期",
        "special.none": "",
        "special.approved": "已批准",
        "special.rejected": "已拒绝（按级别价）",
        "special.pending": "待审批",
        "notes.title": "对账单",
        "notes.partner_statement": "合作伙伴对账单",
        "notes.channel_statement": "渠道对账单",
        "notes.period": "期间",
        "notes.from": "起",
        "notes.to": "止",
        "notes.filters": "合作伙伴范围",
        "notes.all_partners": "全部合作伙伴",
        "notes.generated_at": "生成时间（北京时间）",
        "notes.generated_by": "生成人",
        "notes.definitions": "口径说明",
        "def.committed": "承诺金额：与期间重叠的押货承诺，按重叠天数 ÷ 承诺期天数折算"
        "（包含在同一伙伴更长承诺期内的承诺不重复计算）。",
        "def.ordered": "进货金额：期间内进货订单各行 数量 × 单价 之和。",
        "def.attainment": "完成率：进货金额 ÷ 承诺金额（无承诺时为空）。",
        "def.shortfall": "差额：承诺金额 − 进货金额，最小为零。",
        "def.special": "特价折让：期间内审批（已批准、赢单、已过期）项目中已批准特价行的"
        "（级别价 − 批准价）× 数量之和（级别价按当前目录价与级别折扣计算）。",
        "def.rebate": "返利：进货金额 × 伙伴级别的返利比例。金额单位为元，分位四舍五入。",
    },
}


def labels_for(lang: str | None) -> dict[str, str]:
    """The labels of ``lang`` ("en" when unknown); a key missing in a language falls back."""
    chosen = LABELS.get(lang or "en", LABELS["en"])
    return chosen if chosen is LABELS["en"] else LABELS["en"] | chosen


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
        local = generated_at.astimezone(VENDOR_TZ).replace(tzinfo=None)
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
