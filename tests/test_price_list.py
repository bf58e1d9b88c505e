"""Partner price lists: tier prices on the page and in the Excel download, scoped per partner."""

import re
from datetime import date
from decimal import Decimal
from html import unescape
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from accounts.models import AuditLog
from app import db
from partners.models import TierPolicy
from pricing.models import Product
from pricing.pricelist import plain_text_cell, price_list_row

HEADER = ["SKU", "Name", "Product line", "List price (CNY)", "Discount", "Your price (CNY)"]
CNY = '"¥"#,##0.00'
FORMULA_LIKE_NAMES = [
    '=HYPERLINK("http://x","y")',
    "+cmd",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
]


def _set_discount(tier: str, rate: str) -> None:
    db.session.get(TierPolicy, tier).discount_rate = Decimal(rate)
    db.session.commit()


def _workbook(response):
    return load_workbook(BytesIO(response.data))


def _export_args(html: str) -> dict:
    """The query of the page's "Download Excel" link."""
    match = re.search(r'href="(/prices\.xlsx[^"]*)"', html)
    assert match, "no Download Excel link"
    return parse_qs(urlsplit(unescape(match.group(1))).query)


def _money(value) -> Decimal:
    """A number read back from the workbook, as the Decimal it was written from."""
    assert isinstance(value, (int, float)) and not isinstance(value, bool), repr(value)
    return Decimal(str(value)).quantize(Decimal("0.01"))


# --- price arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("list_price", "discount", "expected"),
    [
        ("999.99", "0.3000", "699.99"),  # 699.993
        ("10.05", "0.2000", "8.04"),
        ("0.05", "0.5000", "0.03"),  # 0.025 half-up, not banker's 0.02
        ("12345.67", "0.0500", "11728.39"),  # 11728.3865
    ],
)
def test_price_is_list_less_tier_discount_in_cents_half_up(list_price, discount, expected):
    row = price_list_row("SKU", "name", "line", Decimal(list_price), Decimal(discount))
    assert row.price == Decimal(expected)
    assert str(row.price) == expected


# --- the page ----------------------------------------------------------------------------


def test_partner_sees_own_prices_at_its_tier(client, login_as, make_partner, make_product):
    partner = make_partner(tier="gold", name="金牌伙伴科技有限公司")
    make_product(sku="SRV-100", name="R100 服务器", list_price="999.99", floor_price="500.00")
    make_product(sku="SRV-OLD", name="停售服务器", list_price="100.00", floor_price="50.00")
    db.session.scalar(select(Product).where(Product.sku == "SRV-OLD")).active = False
    db.session.commit()
    login_as("partner", partner=partner)

    page = client.get("/prices")
    assert page.status_code == 200
    assert "金牌伙伴科技有限公司" in page.text
    assert 'class="tier tier-gold"' in page.text
    assert "30.00% off list price" in page.text
    assert "SRV-100" in page.text and "¥999.99" in page.text and "¥699.99" in page.text
    assert "SRV-OLD" not in page.text  # only active products
    assert 'name="partner"' not in page.text  # a partner user never picks a partner
    assert _export_args(page.text) == {}


def test_silver_partner_sees_silver_prices(client, login_as, make_partner, make_product):
    silver = make_partner(tier="silver")
    make_product(sku="NET-1", list_price="10.05", floor_price="5.00")
    login_as("partner", partner=silver)
    text = client.get("/prices").text
    assert "20.00% off list price" in text and "¥8.04" in text


def test_page_rounds_half_up(client, login_as, make_partner, make_product):
    _set_discount("registered", "0.5000")
    registered = make_partner(tier="registered")
    make_product(sku="NET-2", list_price="0.05", floor_price="0.01")
    login_as("partner", partner=registered)
    text = client.get("/prices").text
    assert "¥0.03" in text and "¥0.02" not in text


def test_partner_cannot_open_another_partners_price_list(
    client, login_as, make_partner, make_product
):
    own = make_partner(tier="gold")
    other = make_partner(tier="silver")
    make_product()
    login_as("partner", partner=own)
    assert client.get(f"/prices?partner={other.id}").status_code == 404
    assert client.get(f"/prices.xlsx?partner={other.id}").status_code == 404
    assert client.get("/prices?partner=999999").status_code == 404
    assert client.get(f"/prices?partner={own.id}").status_code == 200
    assert db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "PriceList")) is None


def test_vendor_without_partner_sees_the_partner_picker(client, login_as, make_partner):
    make_partner(name="甲伙伴有限公司")
    make_partner(name="乙伙伴有限公司")
    login_as("finance")
    page = client.get("/prices")
    assert page.status_code == 200
    assert '<select name="partner"' in page.text
    assert "甲伙伴有限公司" in page.text and "乙伙伴有限公司" in page.text
    assert "<table>" not in page.text and "Download Excel" not in page.text


@pytest.mark.parametrize("role", ["admin", "manager", "finance"])  # reps: tests/test_access.py
def test_vendor_role_sees_a_chosen_partners_prices(
    client, login_as, make_partner, make_product, role
):
    partner = make_partner(tier="silver", name="银牌伙伴有限公司")
    make_product(sku="NET-9", list_price="10.05", floor_price="5.00")
    login_as(role)
    page = client.get(f"/prices?partner={partner.id}")
    assert page.status_code == 200
    assert "银牌伙伴有限公司" in page.text and "tier-silver" in page.text
    assert "20.00% off list price" in page.text and "¥8.04" in page.text
    assert f'name="partner" value="{partner.id}"' in page.text  # filters keep the partner


def test_vendor_asking_for_unknown_partner_gets_404(client, login_as):
    login_as("manager")
    assert client.get("/prices?partner=999999").status_code == 404
    assert client.get("/prices?partner=abc").status_code == 404
    assert client.get("/prices.xlsx?partner=999999").status_code == 404


def test_vendor_export_without_partner_goes_to_the_picker(client, login_as):
    login_as("admin")
    response = client.get("/prices.xlsx")
    assert response.status_code == 302 and response.headers["Location"].endswith("/prices")


def test_filters_by_search_and_product_line(client, login_as, make_partner, make_product):
    partner = make_partner(tier="gold")
    make_product(sku="SRV-200", name="R200 机架服务器", line="服务器")
    make_product(sku="SW-300", name="S300 交换机", line="网络")
    make_product(sku="SW-301", name="S301 100% 交换机", line="网络")
    login_as("partner", partner=partner)

    by_sku = client.get("/prices?q=sw-30").text  # any case
    assert "SW-300" in by_sku and "SW-301" in by_sku and "SRV-200" not in by_sku
    by_name = client.get("/prices?q=机架").text
    assert "SRV-200" in by_name and "SW-300" not in by_name
    literal_percent = client.get("/prices?q=100%").text  # % is text, not a wildcard
    assert "SW-301" in literal_percent and "SW-300" not in literal_percent
    by_line = client.get("/prices?line=网络").text
    assert "SW-300" in by_line and "SRV-200" not in by_line
    assert "<option selected>网络</option>" in by_line
    combined = client.get("/prices?line=网络&q=S300").text
    assert "SW-300" in combined and "SW-301" not in combined
    assert _export_args(combined) == {"q": ["S300"], "line": ["网络"]}


@pytest.mark.parametrize("app_config", [{"ITEMS_PER_PAGE": 2}])
def test_price_list_is_paginated_and_export_takes_every_page(
    client, login_as, make_partner, make_product
):
    partner = make_partner(tier="gold")
    for n in range(5):
        make_product(sku=f"PG-{n}", line="存储")
    make_product(sku="OTHER-1", line="网络")
    login_as("manager")

    first = client.get(f"/prices?partner={partner.id}&line=存储").text
    assert "PG-0" in first and "PG-1" in first and "PG-2" not in first
    assert "Page 1 of 3" in first
    second = client.get(f"/prices?partner={partner.id}&line=存储&page=2").text
    assert "PG-2" in second and "PG-3" in second and "PG-0" not in second
    assert _export_args(first) == {"partner": [str(partner.id)], "line": ["存储"]}

    ws = _workbook(client.get(f"/prices.xlsx?partner={partner.id}&line=存储"))["Price list"]
    skus = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert skus == ["PG-0", "PG-1", "PG-2", "PG-3", "PG-4"]


# --- the Excel download --------------------------------------------------------------------


def test_excel_download_holds_the_same_prices_as_numbers(
    client, login_as, make_partner, make_product
):
    partner = make_partner(tier="gold")
    make_product(sku="A-1", name="R100 服务器", line="服务器", list_price="999.99")
    make_product(sku="A-2", name="S300 交换机", line="网络", list_price="12345.67")
    user = login_as("partner", partner=partner)
    page = client.get("/prices").text
    assert "¥699.99" in page and "¥8,641.97" in page  # 12345.67 × 0.7 = 8641.969

    response = client.get("/prices.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"price-list-{partner.uscc}-{date.today():%Y-%m-%d}.xlsx" in disposition
    assert int(response.headers["Content-Length"]) == len(response.data)

    wb = _workbook(response)
    assert wb.sheetnames == ["Price list"]
    ws = wb["Price list"]
    assert [c.value for c in ws[1]] == HEADER
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F3"
    assert ws.column_dimensions["B"].width > ws.column_dimensions["E"].width

    rows = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    assert set(rows) == {"A-1", "A-2"}
    sku, name, line, list_price, discount, price = rows["A-1"]
    assert (name.value, line.value) == ("R100 服务器", "服务器")
    assert _money(list_price.value) == Decimal("999.99")
    assert Decimal(str(discount.value)) == Decimal("0.3")
    assert _money(price.value) == Decimal("699.99")
    assert _money(rows["A-2"][5].value) == Decimal("8641.97")
    for cell in (list_price, discount, price):
        assert cell.data_type == "n"
    assert list_price.number_format == CNY and price.number_format == CNY
    assert discount.number_format == "0.00%"

    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "PriceList"))
    assert entry.action == "export" and entry.user_id == user.id
    assert entry.after["partner_id"] == partner.id and entry.after["rows"] == 2
    assert partner.uscc in entry.summary


def test_excel_download_keeps_half_up_cents(client, login_as, make_partner, make_product):
    _set_discount("registered", "0.5000")
    partner = make_partner(tier="registered")
    make_product(sku="TINY", list_price="0.05", floor_price="0.01")
    login_as("admin")
    ws = _workbook(client.get(f"/prices.xlsx?partner={partner.id}"))["Price list"]
    assert _money(ws["F2"].value) == Decimal("0.03")
    assert Decimal(str(ws["E2"].value)) == Decimal("0.5")


def test_excel_never_turns_product_text_into_a_formula(
    client, login_as, make_partner, make_product
):
    partner = make_partner(tier="silver")
    for n, name in enumerate(FORMULA_LIKE_NAMES):
        make_product(sku=f"INJ-{n}", name=name, line="=1+2" if n == 0 else "-line")
    login_as("partner", partner=partner)
    ws = _workbook(client.get("/prices.xlsx"))["Price list"]
    names = {row[0].value: (row[1], row[2]) for row in ws.iter_rows(min_row=2)}
    for n, expected in enumerate(FORMULA_LIKE_NAMES):
        name, line = names[f"INJ-{n}"]
        assert name.data_type == "s" and name.value == expected
        assert line.data_type == "s"
    assert names["INJ-0"][1].value == "=1+2"


def test_plain_text_cell_writes_text_never_formulas():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("t")
    values = FORMULA_LIKE_NAMES + ["\r=1+1", "普通文本", "=A1", "bell\x07"]
    ws.append([plain_text_cell(ws, value) for value in values] + [plain_text_cell(ws, None)])
    out = BytesIO()
    wb.save(out)
    cells = next(load_workbook(BytesIO(out.getvalue()))["t"].iter_rows())
    assert [c.value for c in cells[: len(values)]] == FORMULA_LIKE_NAMES + [
        "\n=1+1",  # XML readers turn a carriage return into a line feed
        "普通文本",
        "=A1",
        "bell",  # a control character XML cannot hold is dropped
    ]
    assert all(c.data_type == "s" for c in cells[: len(values)])
    quoted = [c.quotePrefix for c in cells[: len(values)]]
    assert quoted == [True] * (len(FORMULA_LIKE_NAMES) + 1) + [False, True, False]
