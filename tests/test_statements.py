"""Statements: the figures, the workbooks read back with openpyxl, access, background exports
and the API. Small data; the large figures are in bench/statements.py."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from accounts.models import AuditLog
from app import db
from deals.models import Deal, DealLine
from finance.models import ExportJob
from finance.statements import (
    PeriodError,
    StatementPeriod,
    StatementScope,
    build_statement,
    statement_period,
)
from finance.workbook import write_statement
from partners.commitments import OrderLineInput, record_commitment, record_stock_order
from tests.conftest import csrf_from

D = Decimal
CNY = '"¥"#,##0.00'
PERCENT = "0.00%"
HOSTILE = [
    '=HYPERLINK("http://evil.example/","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "#N/A",
]
Q1 = "2026-Q1"


@pytest.fixture
def app_config(tmp_path):
    return {"EXPORT_FOLDER": str(tmp_path / "exports")}


# --- building a partner's quarter ------------------------------------------------------------


def _order(partner, number, day, lines, user=None):
    record_stock_order(
        partner,
        number=number,
        order_date=day,
        lines=[OrderLineInput(p.id, q, price) for p, q, price in lines],
        user=user,
    )


def _deal(partner, customer, creator, status, decided_at, lines, project="数据中心项目"):
    """lines: (product, quantity, requested price, special status, approved price or None)"""
    deal = Deal(
        kind="channel",
        partner_id=partner.id,
        customer_id=customer.id,
        created_by_id=creator.id,
        project_name=project,
        estimated_value=D("100000.00"),
        expected_close_date=date(2026, 6, 30),
        stage="evaluation",
        funding_source="own_budget",
        status=status,
        decided_at=decided_at,
    )
    deal.lines = [
        DealLine(
            product_id=product.id,
            quantity=quantity,
            requested_unit_price=D(requested),
            special_status=special,
            approved_unit_price=D(approved) if approved else None,
            special_note="按战略项目批准" if special == "approved" else "",
        )
        for product, quantity, requested, special, approved in lines
    ]
    db.session.add(deal)
    return deal


@pytest.fixture
def quarter(make_partner, make_product, make_customer, make_user):
    return build_quarter(make_partner, make_product, make_customer, make_user)


def build_quarter(make_partner, make_product, make_customer, make_user):
    """A gold partner's Q1 2026 with known figures (gold: 30 % discount, 3 % rebate).

    committed 3,650,000.00 for 2026 → 90/365 for Q1 = 900,000.00 (its Q1 commitment lies inside
    the yearly one and is not counted again); ordered 106,099.97; special-price discount
    1,000.00 + 149.97 + 100.00 = 1,249.97; rebate 3,183.00 (3,182.9991 half-up).
    """
    manager = make_user("manager", name="王经理")
    partner = make_partner(tier="gold", owner=manager, name="金牌伙伴科技有限公司")
    server = make_product(sku="SRV-A", name="A 服务器", list_price="10000.00")  # tier 7,000.00
    switch = make_product(sku="NET-B", name="B 交换机", line="网络", list_price="999.99")  # 699.99
    customer = make_customer(name="某某市人民医院")
    creator = make_user("partner", partner=partner)
    record_commitment(partner, period="2026", amount="3650000", signed_on=None, lines=[], user=None)
    record_commitment(partner, period=Q1, amount="1000000", signed_on=None, lines=[], user=None)
    _order(partner, "PO-0", date(2025, 12, 31), [(server, 100, "7000")])  # before
    _order(partner, "PO-1", date(2026, 1, 15), [(server, 10, "7000"), (switch, 3, "699.99")])
    _order(partner, "PO-2", date(2026, 3, 31), [(server, 5, "6800")])
    _order(partner, "PO-3", date(2026, 4, 1), [(server, 100, "7000")])  # after
    feb = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
    _deal(
        partner,
        customer,
        creator,
        "approved",
        feb,
        [
            (server, 2, "6500", "approved", "6500"),  # (7000 − 6500) × 2 = 1000.00
            (switch, 3, "650", "approved", "650"),  # (699.99 − 650) × 3 = 149.97
            (switch, 1, "699.99", "none", "699.99"),
        ],
    )
    # 23:00 in Beijing on 31 March: still Q1; approved before approved_unit_price was kept.
    _deal(
        partner,
        customer,
        creator,
        "won",
        datetime(2026, 3, 31, 15, 0, tzinfo=UTC),
        [(server, 1, "6900", "approved", None)],  # 100.00
        project="省级骨干网",
    )
    # 00:30 in Beijing on 1 April: next quarter.
    _deal(
        partner,
        customer,
        creator,
        "approved",
        datetime(2026, 3, 31, 16, 30, tzinfo=UTC),
        [(server, 9, "5000", "approved", "5000")],
    )
    _deal(partner, customer, creator, "rejected", feb, [(server, 9, "5000", "approved", "5000")])
    _deal(partner, customer, creator, "lost", feb, [(server, 9, "5000", "approved", "5000")])
    db.session.commit()
    return {"partner": partner, "manager": manager, "server": server, "switch": switch}


def _period(text=Q1) -> StatementPeriod:
    return statement_period(text)


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-h2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_named_periods(text, start, end):
    period = statement_period(text)
    assert (period.start, period.end) == (start, end)


def test_from_to_period_includes_both_days():
    period = statement_period(None, "2026-01-10", "2026-01-10")
    assert (period.start, period.end, period.days) == (date(2026, 1, 10), date(2026, 1, 10), 1)


@pytest.mark.parametrize(
    ("period", "start", "end", "field"),
    [
        ("2026-13", None, None, "period"),
        ("Q1", None, None, "period"),
        ("", "2026-02-01", "2026-01-01", "to"),
        ("", "yesterday", "2026-01-01", "from"),
        ("", "", "2026-01-01", "from"),
        ("", "1999-12-01", "1999-12-31", "from"),
    ],
)
def test_bad_periods_name_the_field(period, start, end, field):
    with pytest.raises(PeriodError) as caught:
        statement_period(period, start, end)
    assert field in caught.value.errors


def test_decisions_count_by_the_day_in_beijing():
    start, end = _period().decided_range()
    assert start == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)


# --- the figures ----------------------------------------------------------------------------


def test_partner_figures_follow_the_definitions(quarter):
    partner = quarter["partner"]
    statement = build_statement(StatementScope(partner_id=partner.id), _period())
    row = statement.partner
    assert row.committed == D("900000.00")
    assert row.ordered == D("106099.97")
    assert row.attainment == D("0.1179")
    assert row.shortfall == D("793900.03")
    assert row.special_discount == D("1249.97")
    assert row.rebate_rate == D("0.0300")
    assert row.rebate == D("3183.00")
    assert (row.order_lines, row.deal_lines, row.special_lines) == (3, 4, 3)
    assert str(row.ordered) == "106099.97"


@pytest.mark.parametrize(
    ("commitments", "period", "expected"),
    [
        ([("2026-Q1", "900000")], "2026", "900000.00"),  # inside the period: in full
        ([("2026", "3650000")], "2026-03", "310000.00"),  # 31/365 of the year
        ([("2026", "1000000")], "2026-01", "84931.51"),  # 84,931.5068… half-up
        ([("2026-Q1", "100")], "2026-01", "34.44"),  # 31/90 × 100 = 34.444…
        ([("2025-Q4", "920000"), ("2026-Q1", "900000")], None, "610000.00"),  # 31/92 + 30/90
        ([("2026", "3650000"), ("2026-H1", "99"), ("2026-Q2", "7")], "2026-H1", "1810000.00"),
        ([], "2026", "0.00"),
    ],
)
def test_committed_counts_overlapping_days(make_partner, commitments, period, expected):
    partner = make_partner()
    for name, amount in commitments:
        record_commitment(partner, period=name, amount=amount, signed_on=None, lines=[], user=None)
    db.session.commit()
    chosen = (
        statement_period(period) if period else statement_period(None, "2025-12-01", "2026-01-30")
    )
    statement = build_statement(StatementScope(partner_id=partner.id), chosen)
    assert statement.partner.committed == D(expected)
    assert statement.partner.attainment is None if expected == "0.00" else True


def test_channel_figures_use_grouped_queries_not_one_per_partner(
    quarter, make_partner, make_product, make_user
):
    """Channel statement: one query for the partners and one per measure, whatever their number."""
    product = quarter["server"]
    scope = StatementScope()
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            partner = make_partner(tier="silver")
            _order(partner, f"PO-X{partner.id}", date(2026, 2, 1), [(product, 1, "8000")])
        db.session.commit()
        statements = []

        def count(*args, statements=statements):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            result = build_statement(scope, _period())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append((len(statements), len(result.rows)))
    assert counts[0][0] == counts[1][0] <= 5
    assert counts[1][1] == counts[0][1] + 6


def test_channel_filters_by_tier_region_and_owner(quarter, make_partner, make_user):
    other_manager = make_user("manager")
    silver = make_partner(tier="silver", region="广东", owner=other_manager)
    make_partner(tier="registered", region="广东")
    period = _period()
    assert {r.partner_id for r in build_statement(StatementScope(tier="silver"), period).rows} == {
        silver.id
    }
    assert len(build_statement(StatementScope(region="广东"), period).rows) == 2
    owned = build_statement(StatementScope(owner_id=quarter["manager"].id), period)
    assert [r.partner_id for r in owned.rows] == [quarter["partner"].id]
    assert owned.totals.ordered == D("106099.97")


# --- reading workbooks back ----------------------------------------------------------------------

REF = re.compile(r"(?:'((?:[^']|'')+)'!)?\$?([A-Z]+)\$?(\d+)")


def cell_value(wb, sheet: str, ref: str):
    """A cell's value, with the workbook's SUM and cross-sheet total formulas worked out."""
    value = wb[sheet][ref].value
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    formula = value[1:]
    total = re.fullmatch(r"SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", formula)
    if total:
        column, first, _, last = total.groups()
        values = [
            cell_value(wb, sheet, f"{column}{row}") for row in range(int(first), int(last) + 1)
        ]
        return sum((Decimal(str(v)) for v in values if isinstance(v, (int, float))), Decimal(0))
    ratio = re.fullmatch(r'IF\(([A-Z]+\d+)=0,"",([A-Z]+\d+)/([A-Z]+\d+)\)', formula)
    if ratio:
        denominator = cell_value(wb, sheet, ratio.group(3))
        return None if not denominator else cell_value(wb, sheet, ratio.group(2)) / denominator
    parts = formula.split("+")
    total = Decimal(0)
    for part in parts:
        match = REF.fullmatch(part)
        assert match, formula
        target = (match.group(1) or sheet).replace("''", "'")
        total += Decimal(str(cell_value(wb, target, f"{match.group(2)}{match.group(3)}")))
    return total


def money(value) -> Decimal:
    assert isinstance(value, (int, float, Decimal)) and not isinstance(value, bool), repr(value)
    return Decimal(str(value)).quantize(Decimal("0.01"))


def rows_of(ws, first=2):
    return [list(row) for row in ws.iter_rows(min_row=first)]


def header(ws):
    return [c.value for c in ws[1]]


def workbook(response):
    assert response.status_code == 200, response.text[:500]
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return load_workbook(BytesIO(response.data))


# --- the partner statement workbook -----------------------------------------------------------


def test_partner_statement_workbook_reconciles_with_the_page(client, login_as, quarter):
    partner = quarter["partner"]
    finance = login_as("finance", name="刘芳")
    page = client.get(f"/statements?scope=partner&partner={partner.id}&period={Q1}")
    assert page.status_code == 200
    shown = dict(re.findall(r'data-total="(\w+)">([^<]+)<', page.text))
    assert shown == {
        "committed": "¥900,000.00",
        "ordered": "¥106,099.97",
        "attainment": "11.79%",
        "shortfall": "¥793,900.03",
        "special_discount": "¥1,249.97",
        "rebate": "¥3,183.00",
    }
    assert f"/statements/partner/{partner.id}.xlsx?period={Q1}" in page.text

    response = client.get(f"/statements/partner/{partner.id}.xlsx?period={Q1}")
    wb = workbook(response)
    assert (
        f"statement-{partner.uscc}-20260101-20260331.xlsx"
        in response.headers["Content-Disposition"]
    )
    assert wb.sheetnames == ["Summary", "Stock orders", "Approved deals", "Special prices", "Notes"]

    summary = wb["Summary"]
    assert header(summary) == [
        "Partner",
        "Unified social credit code",
        "Tier",
        "Region",
        "Channel manager",
        "Period from",
        "Period to",
        "Committed (CNY)",
        "Ordered (CNY)",
        "Attainment",
        "Shortfall (CNY)",
        "Special-price discount (CNY)",
        "Rebate rate",
        "Rebate (CNY)",
    ]
    assert summary.freeze_panes == "B2"
    assert summary.auto_filter.ref == "A1:N2"
    row = summary[2]
    assert [c.value for c in row[:5]] == [partner.name, partner.uscc, "Gold", "北京", "王经理"]
    assert row[5].value == datetime(2026, 1, 1) and row[5].number_format == "yyyy-mm-dd"
    assert row[6].value == datetime(2026, 3, 31) and row[6].is_date
    figures = {
        "H": "900000.00",
        "I": "106099.97",
        "K": "793900.03",
        "L": "1249.97",
        "N": "3183.00",
    }
    for column, expected in figures.items():
        cell = summary[f"{column}2"]
        assert cell.data_type == "n" and cell.number_format == CNY
        assert money(cell.value) == D(expected)
    assert summary["J2"].number_format == PERCENT and D(str(summary["J2"].value)) == D("0.1179")
    assert summary["M2"].number_format == PERCENT and D(str(summary["M2"].value)) == D("0.03")
    # Totals: SUM formulas over the rows, and the same figures as the page.
    assert summary["A3"].value == "Total"
    assert summary["I3"].value == "=SUM(I2:I2)" and summary["I3"].number_format == CNY
    assert summary["J3"].value == '=IF(H3=0,"",I3/H3)'
    for column, expected in figures.items():
        assert money(cell_value(wb, "Summary", f"{column}3")) == D(expected)

    orders = wb["Stock orders"]
    assert header(orders) == [
        "Order date",
        "Order number",
        "SKU",
        "Product",
        "Product line",
        "Quantity",
        "Unit price (CNY)",
        "Amount (CNY)",
    ]
    assert orders.freeze_panes == "A2" and orders.auto_filter.ref == "A1:H4"
    lines = rows_of(orders)
    assert [(r[0].value.date(), r[1].value, r[2].value, r[5].value) for r in lines[:3]] == [
        (date(2026, 1, 15), "PO-1", "SRV-A", 10),
        (date(2026, 1, 15), "PO-1", "NET-B", 3),
        (date(2026, 3, 31), "PO-2", "SRV-A", 5),
    ]
    assert lines[1][3].value == "B 交换机" and lines[1][4].value == "网络"
    assert money(lines[1][6].value) == D("699.99") and money(lines[1][7].value) == D("2099.97")
    assert lines[0][0].number_format == "yyyy-mm-dd" and lines[0][5].data_type == "n"
    assert lines[0][7].number_format == CNY and lines[0][5].number_format == "General"
    assert orders["F5"].number_format == "#,##0" and orders["H5"].number_format == CNY
    assert [c.value for c in lines[3]][:1] == ["Total"]
    assert orders["H5"].value == "=SUM(H2:H4)" and orders["F5"].value == "=SUM(F2:F4)"
    assert money(cell_value(wb, "Stock orders", "H5")) == D("106099.97")
    assert cell_value(wb, "Stock orders", "F5") == 18
    # Column widths fit: the product name is wider than the quantity.
    assert orders.column_dimensions["D"].width >= 10
    assert summary.column_dimensions["A"].width > summary.column_dimensions["F"].width

    deals = wb["Approved deals"]
    assert header(deals)[:5] == ["Decided on", "Deal number", "Project", "End customer", "Status"]
    deal_rows = rows_of(deals)[:4]
    assert [r[0].value.date() for r in deal_rows] == [date(2026, 2, 10)] * 3 + [date(2026, 3, 31)]
    assert [r[4].value for r in deal_rows] == ["Approved"] * 3 + ["Won"]
    first = deal_rows[0]
    assert [money(first[i].value) for i in (8, 9, 10, 11)] == [
        D("10000.00"),
        D("7000.00"),
        D("6500.00"),
        D("13000.00"),
    ]
    assert first[12].value == "Approved" and deal_rows[2][12].value is None
    # 2 × 6,500 + 3 × 650 + 699.99 + 6,900 at the granted prices
    assert money(cell_value(wb, "Approved deals", "L6")) == D("22549.99")

    special = wb["Special prices"]
    assert header(special)[-3:] == ["Discount granted (CNY)", "Approved by", "Note"]
    assert "Partner" not in header(special)  # one partner's own statement
    special_rows = rows_of(special)[:3]
    assert [money(r[9].value) for r in special_rows] == [D("500.00"), D("49.99"), D("100.00")]
    assert [money(r[10].value) for r in special_rows] == [D("1000.00"), D("149.97"), D("100.00")]
    assert special_rows[0][12].value == "按战略项目批准"
    assert money(cell_value(wb, "Special prices", "K5")) == D("1249.97")

    notes = {row[0].value: row[1].value for row in wb["Notes"].iter_rows() if row[0].value}
    assert notes["Statement"] == "Partner statement" and notes["Period"] == Q1
    assert notes["Generated by"] == "刘芳"
    assert notes["From"] == datetime(2026, 1, 1)

    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "Statement"))
    assert entry.action == "export" and entry.user_id == finance.id
    assert entry.after["partner_id"] == partner.id and entry.after["from"] == "2026-01-01"
    assert entry.after["via"] == "web" and entry.after["ordered"] == "106099.97"
    assert partner.uscc in entry.summary


def test_user_text_never_becomes_a_formula(
    client, login_as, make_partner, make_product, make_customer, make_user
):
    partner = make_partner(name=HOSTILE[0], tier="silver")
    product = make_product(sku="=SKU", name=HOSTILE[4], line="@line", list_price="100.00")
    customer = make_customer(name=HOSTILE[3])
    _order(partner, "+PO-1", date(2026, 2, 1), [(product, 1, "80")])
    _deal(
        partner,
        customer,
        make_user("partner", partner=partner),
        "approved",
        datetime(2026, 2, 2, tzinfo=UTC),
        [(product, 1, "70", "approved", "70")],
        project=HOSTILE[1],
    ).lines[0].special_note = HOSTILE[2]
    db.session.commit()
    login_as("admin")
    wb = workbook(
        client.get(f"/statements/partner/{partner.id}.xlsx?from=2026-01-01&to=2026-03-31")
    )
    cells = [
        wb["Summary"]["A2"],
        wb["Stock orders"]["B2"],
        wb["Stock orders"]["C2"],
        wb["Stock orders"]["D2"],
        wb["Stock orders"]["E2"],
        wb["Approved deals"]["C2"],
        wb["Approved deals"]["D2"],
        wb["Special prices"]["M2"],
    ]
    assert [c.value for c in cells] == [
        HOSTILE[0],
        "+PO-1",
        "=SKU",
        HOSTILE[4],
        "@line",
        HOSTILE[1],
        HOSTILE[3],
        HOSTILE[2],
    ]
    for cell in cells:
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix, cell.coordinate
    # The only formulas in the workbook are its own totals.
    totals = ("Total", "Total of this sheet", "Total of all sheets")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert row[0].value in totals, (ws.title, cell.coordinate, cell.value)
                    assert cell.value.startswith(("=SUM(", "=IF(")), cell.value


def test_error_literal_and_notes_stay_text(client, login_as, make_partner):
    partner = make_partner(name=HOSTILE[5])
    login_as("finance")
    wb = workbook(client.get(f"/statements/partner/{partner.id}.xlsx?period=2026"))
    assert wb["Summary"]["A2"].value == "#N/A" and wb["Summary"]["A2"].data_type == "s"
    assert wb["Stock orders"]["A2"].value == "No stock orders in this period."


def test_statement_in_chinese(client, login_as, quarter):
    login_as("finance")
    partner = quarter["partner"]
    wb = workbook(client.get(f"/statements/partner/{partner.id}.xlsx?period={Q1}&lang=zh"))
    assert wb.sheetnames == ["汇总", "押货订单", "已批准项目", "特价明细", "备注"]
    assert header(wb["汇总"])[:3] == ["合作伙伴", "统一社会信用代码", "级别"]
    assert wb["汇总"]["C2"].value == "金牌" and wb["汇总"]["A3"].value == "合计"
    assert header(wb["押货订单"])[-1] == "金额（元）"
    assert money(cell_value(wb, "押货订单", "H5")) == D("106099.97")


def test_a_table_past_the_row_limit_continues_on_another_sheet(quarter):
    """With a limit of 6 rows a sheet holds 3 lines (header, lines, its totals, all totals)."""
    partner = quarter["partner"]
    extra = [(quarter["server"], n, "7000") for n in range(1, 6)]
    _order(partner, "PO-9", date(2026, 2, 1), extra)
    db.session.commit()
    statement = build_statement(StatementScope(partner_id=partner.id), _period())
    out = BytesIO()
    result = write_statement(statement, out, max_rows=6)
    wb = load_workbook(BytesIO(out.getvalue()))
    assert wb.sheetnames[:4] == ["Summary", "Stock orders", "Stock orders (2)", "Stock orders (3)"]
    assert result.rows == 8 + 4 + 3  # order lines, deal lines, special prices
    first, last = wb["Stock orders"], wb["Stock orders (3)"]
    assert first.max_row == 5 and first["A5"].value == "Total of this sheet"
    assert first["H5"].value == "=SUM(H2:H4)" and first.freeze_panes == "A2"
    assert header(last) == header(first) and last.auto_filter.ref == "A1:H3"
    assert last["A4"].value == "Total of this sheet" and last["A5"].value == "Total of all sheets"
    assert last["H5"].value == "='Stock orders'!H5+'Stock orders (2)'!H5+'Stock orders (3)'!H4"
    ordered = D("106099.97") + D("7000") * 15
    assert statement.partner.ordered == ordered
    assert money(cell_value(wb, "Stock orders (3)", "H5")) == ordered
    assert cell_value(wb, "Stock orders (3)", "F5") == 18 + 15


# --- the channel statement ----------------------------------------------------------------


def test_channel_statement_one_row_per_partner_with_totals(client, login_as, quarter, make_partner):
    quiet = make_partner(tier="silver", name="安静伙伴有限公司", region="上海")
    second = make_partner(tier="silver", name="银牌伙伴有限公司")
    _order(second, "PO-S1", date(2026, 2, 3), [(quarter["switch"], 10, "800")])
    _order(second, "PO-S2", date(2026, 3, 3), [(quarter["switch"], 1, "800.01")])
    db.session.commit()
    login_as("finance")
    page = client.get(f"/statements?scope=channel&period={Q1}")
    assert page.status_code == 200
    assert re.findall(r'data-total="ordered">([^<]*)<', page.text) == ["¥114,899.98"]
    wb = workbook(client.get(f"/statements/channel.xlsx?period={Q1}"))
    assert wb.sheetnames == ["Summary", "Orders by month", "Special prices", "Notes"]
    summary = wb["Summary"]
    names = [r[0].value for r in rows_of(summary)[:3]]
    assert names == ["安静伙伴有限公司", "金牌伙伴科技有限公司", "银牌伙伴有限公司"]
    assert summary["A5"].value == "Total" and summary["I5"].value == "=SUM(I2:I4)"
    assert money(cell_value(wb, "Summary", "I5")) == D("114899.98")
    assert money(cell_value(wb, "Summary", "L5")) == D("1249.97")
    assert cell_value(wb, "Summary", "J2") is None  # nothing committed: blank attainment
    assert summary["J2"].value is None

    monthly = wb["Orders by month"]
    assert header(monthly) == [
        "Partner",
        "Unified social credit code",
        "Month",
        "Order lines",
        "Quantity",
        "Amount (CNY)",
    ]
    months = [
        (r[0].value, r[2].value.date(), r[3].value, money(r[5].value)) for r in rows_of(monthly)[:4]
    ]
    assert months == [
        ("金牌伙伴科技有限公司", date(2026, 1, 1), 2, D("72099.97")),
        ("金牌伙伴科技有限公司", date(2026, 3, 1), 1, D("34000.00")),
        ("银牌伙伴有限公司", date(2026, 2, 1), 1, D("8000.00")),
        ("银牌伙伴有限公司", date(2026, 3, 1), 1, D("800.01")),
    ]
    assert monthly["C2"].number_format == "yyyy-mm"
    assert money(cell_value(wb, "Orders by month", "F6")) == D("114899.98")
    special = wb["Special prices"]
    assert header(special)[1:3] == ["Partner", "Unified social credit code"]
    assert money(cell_value(wb, "Special prices", "M5")) == D("1249.97")
    assert quiet.name in {c.value for c in summary["A"]}


def test_manager_channel_statement_holds_only_its_partners(client, login_as, quarter, make_partner):
    make_partner(name="别人的伙伴有限公司")
    manager = quarter["manager"]
    from tests.conftest import login

    assert login(client, manager.email).status_code == 302
    # An owner filter for someone else is ignored: a manager sees its own partners.
    wb = workbook(client.get(f"/statements/channel.xlsx?period={Q1}&owner=999"))
    assert [r[0].value for r in rows_of(wb["Summary"])] == ["金牌伙伴科技有限公司", "Total"]


# --- who may export what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_admin_export_any_partner(client, login_as, make_partner, role):
    partner = make_partner()
    login_as(role)
    assert client.get(f"/statements/partner/{partner.id}.xlsx?period=2026").status_code == 200
    assert client.get("/statements/channel.xlsx?period=2026").status_code == 200


def test_partner_user_exports_only_its_own(client, login_as, make_partner):
    own, other = make_partner(), make_partner()
    login_as("partner", partner=own)
    assert client.get(f"/statements/partner/{own.id}.xlsx?period=2026").status_code == 200
    assert client.get(f"/statements/partner/{other.id}.xlsx?period=2026").status_code == 404
    assert client.get("/statements/partner/999999.xlsx?period=2026").status_code == 404
    assert client.get("/statements/channel.xlsx?period=2026").status_code == 403
    assert client.get(f"/statements?partner={other.id}&period=2026").text.count(other.name) == 0
    page = client.get("/statements?period=2026")
    assert own.name in page.text and 'type="radio"' not in page.text
    audits = db.session.scalars(select(AuditLog).where(AuditLog.entity_type == "Statement")).all()
    assert [a.after["partner_id"] for a in audits] == [own.id]


def test_manager_exports_only_its_own_partners(client, login_as, make_partner):
    manager = login_as("manager")
    own = make_partner(owner=manager)
    other = make_partner(owner=None)
    assert client.get(f"/statements/partner/{own.id}.xlsx?period=2026").status_code == 200
    assert client.get(f"/statements/partner/{other.id}.xlsx?period=2026").status_code == 404
    page = client.get("/statements")
    assert own.name in page.text and other.name not in page.text


def test_rep_may_not_export(client, login_as, make_partner):
    partner = make_partner()
    login_as("rep")
    assert client.get(f"/statements/partner/{partner.id}.xlsx?period=2026").status_code == 403
    assert client.get("/statements").status_code == 403


def test_bad_period_goes_back_to_the_form(client, login_as, make_partner):
    partner = make_partner()
    login_as("finance")
    response = client.get(f"/statements/partner/{partner.id}.xlsx?from=2026-02-01&to=2026-01-01")
    assert response.status_code == 302 and "/statements" in response.headers["Location"]
    page = client.get(f"/statements?scope=partner&partner={partner.id}&period=2026-Q5")
    assert "Use a period like" in page.text and 'data-total="ordered"' not in page.text


# --- background exports ----------------------------------------------------------------------


def _wait_for(client, job_id, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/statements/jobs/{job_id}/status").json
        if state["finished"]:
            return state
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def test_background_export_shows_progress_then_the_download(client, login_as, quarter, tmp_path):
    partner = quarter["partner"]
    finance = login_as("finance")
    page = client.get(f"/statements?scope=partner&partner={partner.id}&period={Q1}")
    response = client.post(
        "/statements",
        data={
            "csrf_token": csrf_from(page.text),
            "scope": "partner",
            "partner": partner.id,
            "period": Q1,
            "lang": "zh",
        },
    )
    assert response.status_code == 302
    job_id = int(re.search(r"/statements/jobs/(\d+)$", response.headers["Location"]).group(1))
    job_page = client.get(f"/statements/jobs/{job_id}")
    assert job_page.status_code == 200 and "finance/statements/jobs" not in job_page.text
    state = _wait_for(client, job_id)
    assert state["status"] == "done", state
    assert state["percent"] == 100 and state["total"] == 3 + 4 + 3
    assert state["download_url"] == f"/statements/jobs/{job_id}/download"
    assert "Download" in client.get(f"/statements/jobs/{job_id}").text
    download = client.get(state["download_url"])
    wb = workbook(download)
    assert wb.sheetnames[0] == "汇总"
    assert money(cell_value(wb, "押货订单", "H5")) == D("106099.97")
    assert "statement-" in download.headers["Content-Disposition"]
    job = db.session.get(ExportJob, job_id)
    assert job.user_id == finance.id and job.rows == 10 and job.size == len(download.data)
    assert (tmp_path / "exports" / job.file_name).is_file()
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.entity_type == "Statement").order_by(AuditLog.id)
    ).all()
    assert actions == ["export", "download"]
    assert "Your recent exports" in client.get("/statements").text


def test_channel_export_job_and_who_sees_it(client, login_as, quarter, make_partner):
    login_as("admin")
    page = client.get("/statements?scope=channel&period=2026")
    response = client.post(
        "/statements",
        data={"csrf_token": csrf_from(page.text), "scope": "channel", "period": "2026"},
    )
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _wait_for(client, job_id)["status"] == "done"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    login_as("partner", partner=quarter["partner"])
    assert client.get(f"/statements/jobs/{job_id}").status_code == 404
    assert client.get(f"/statements/jobs/{job_id}/download").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    login_as("finance")  # may export the same statement, so may fetch it
    assert client.get(f"/statements/jobs/{job_id}/download").status_code == 200


def test_export_without_a_period_is_not_started(client, login_as, make_partner):
    partner = make_partner()
    login_as("finance")
    page = client.get("/statements")
    response = client.post(
        "/statements", data={"csrf_token": csrf_from(page.text), "partner": partner.id}
    )
    assert response.status_code == 200 and "Choose the partner and the period" in response.text
    assert db.session.scalar(select(func.count()).select_from(ExportJob)) == 0


@pytest.mark.parametrize("app_config", [{"EXPORT_JOB_STALE_SECONDS": 0}])
def test_a_job_whose_process_died_is_reported_failed(client, login_as, make_partner, app_config):
    from finance.jobs import create_job

    user = login_as("finance")
    partner = make_partner()
    create_job(user, StatementScope(partner_id=partner.id), _period(), "en", partner.uscc)
    db.session.commit()
    job = db.session.scalar(select(ExportJob))
    time.sleep(0.01)
    state = client.get(f"/statements/jobs/{job.id}/status").json
    assert state["status"] == "failed" and "Start it again" in state["error"]
    assert client.get(f"/statements/jobs/{job.id}/download").status_code == 302
    db.session.refresh(job)
    assert job.error == "stopped"  # a code: each reader sees it in its own language
    user.language = "zh"
    db.session.commit()
    state = client.get(f"/statements/jobs/{job.id}/status").json
    assert state["status_label"] == "失败" and "服务器已重启" in state["error"]


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def token_for():
    from accounts.tokens import create_token

    def make(user):
        _token, plain = create_token(user, "finance-system")
        db.session.commit()
        return plain

    return make


def test_api_serves_the_same_workbooks(client, make_user, token_for, quarter):
    finance = make_user("finance")
    headers = {"Authorization": f"Bearer {token_for(finance)}"}
    partner = quarter["partner"]
    url = f"/api/v1/statements/partner/{partner.id}.xlsx?from=2026-01-01&to=2026-03-31"
    wb = workbook(client.get(url, headers=headers))
    assert money(cell_value(wb, "Summary", "I3")) == D("106099.97")
    assert wb["Summary"]["G2"].value == datetime(2026, 3, 31)
    channel = workbook(
        client.get("/api/v1/statements/channel.xlsx?from=2026-01-01&to=2026-03-31", headers=headers)
    )
    assert channel.sheetnames[1] == "Orders by month"
    entries = db.session.scalars(select(AuditLog).where(AuditLog.entity_type == "Statement")).all()
    assert [(e.user_id, e.after["via"]) for e in entries] == [(finance.id, "api")] * 2
    assert "Set-Cookie" not in client.get(url, headers=headers).headers


def test_api_applies_the_same_access_rules(client, make_user, make_partner, token_for):
    own, other = make_partner(), make_partner()
    partner_user = make_user("partner", partner=own)
    headers = {"Authorization": f"Bearer {token_for(partner_user)}"}
    base = "/api/v1/statements"
    assert (
        client.get(f"{base}/partner/{own.id}.xlsx?period=2026", headers=headers).status_code == 200
    )
    missing = client.get(f"{base}/partner/{other.id}.xlsx?period=2026", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]
    assert client.get(f"{base}/channel.xlsx?period=2026", headers=headers).status_code == 403
    assert client.get(f"{base}/partner/{own.id}.xlsx?period=2026").status_code == 401
    bad = client.get(f"{base}/partner/{own.id}.xlsx?from=2026-13-01&to=2026-12-31", headers=headers)
    assert bad.status_code == 422 and bad.json["errors"] == {
        "from": ["Enter a date as YYYY-MM-DD."]
    }
    rep = {"Authorization": f"Bearer {token_for(make_user('rep'))}"}
    assert client.get(f"{base}/partner/{own.id}.xlsx?period=2026", headers=rep).status_code == 403


def test_browser_session_does_not_open_the_statements_api(client, login_as, make_partner):
    partner = make_partner()
    login_as("finance")
    assert (
        client.get(f"/api/v1/statements/partner/{partner.id}.xlsx?period=2026").status_code == 401
    )


def test_purge_removes_old_exports_and_their_files(app, runner, make_user, make_partner, tmp_path):
    from datetime import timedelta

    from accounts.models import utcnow
    from finance.jobs import create_job, export_folder

    user = make_user("finance")
    partner = make_partner()
    old, recent = (
        create_job(user, StatementScope(partner_id=partner.id), _period(), "en") for _ in range(2)
    )
    for job in (old, recent):
        job.status = "done"
        (export_folder() / job.file_name).write_bytes(b"xlsx")
    old.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    old_file = export_folder() / old.file_name
    result = runner.invoke(args=["finance", "purge-exports", "--days", "7"])
    assert result.exit_code == 0 and "1 export(s) removed." in result.output
    assert not old_file.exists() and (export_folder() / recent.file_name).exists()
    assert db.session.scalars(select(ExportJob.id)).all() == [recent.id]


# --- Chinese and English -------------------------------------------------------------------------

ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
KEPT_WORDS = {"CNY", "SKU", "Asia", "Shanghai"}


def _english_words(text) -> list[str]:
    return [w for w in ENGLISH_WORD.findall(str(text or "")) if w not in KEPT_WORDS]


def _speak_chinese(user):
    user.language = "zh"
    db.session.commit()


def test_a_chinese_user_gets_the_page_and_the_workbook_in_chinese(client, login_as, quarter):
    partner = quarter["partner"]
    _speak_chinese(login_as("finance"))
    page = client.get(f"/statements?scope=partner&partner={partner.id}&period={Q1}").text
    assert "对账单" in page and "达成率" in page and "返利" in page and "特价折让" in page
    assert 'data-total="ordered">¥106,099.97<' in page
    assert 'data-total="attainment">11.79%<' in page
    assert '<option value="zh" selected>' in page  # the export language defaults to the user's
    # The direct download without a language follows the user's language too.
    wb = workbook(client.get(f"/statements/partner/{partner.id}.xlsx?period={Q1}"))
    assert wb.sheetnames == ["汇总", "押货订单", "已批准项目", "特价明细", "备注"]
    for ws in wb.worksheets[:-1]:
        assert _english_words(" ".join(str(c.value or "") for c in ws[1])) == [], ws.title
        labels = [row[0].value for row in ws.iter_rows(min_row=2) if row[0].value]
        assert any(label in ("合计", "本页合计") for label in labels), ws.title
    notes = wb["备注"]
    assert [_english_words(row[0].value) for row in notes.iter_rows()] == [[]] * notes.max_row
    definitions = [
        row[1].value for row in notes.iter_rows() if row[0].value is None and row[1].value
    ]
    assert len(definitions) == 6
    assert [w for d in definitions for w in _english_words(d)] == []
    assert "达成率" in " ".join(definitions)


def test_the_export_language_chosen_on_the_page_wins(client, login_as, quarter):
    partner = quarter["partner"]
    _speak_chinese(login_as("finance"))
    page = client.get(f"/statements?scope=partner&partner={partner.id}&period={Q1}&lang=en").text
    assert '<option value="en" selected>' in page and "lang=en" in page
    wb = workbook(client.get(f"/statements/partner/{partner.id}.xlsx?period={Q1}&lang=en"))
    assert wb.sheetnames[0] == "Summary" and wb["Summary"]["A1"].value == "Partner"


def test_period_errors_are_shown_next_to_their_field_in_chinese(client, login_as, make_partner):
    partner = make_partner()
    _speak_chinese(login_as("finance"))
    page = client.get(f"/statements?partner={partner.id}&from=2026-03-01&to=2026-02-01").text
    assert 'aria-describedby="to-error"' in page
    assert re.search(
        r'<p class="error" id="to-error" role="alert">期间的结束日期不能早于开始日期。', page
    )
