"""Excel imports: templates, whole-file checks that import nothing on any bad row, one
transaction, re-imports that duplicate nothing, and who may import what."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from accounts.models import AuditLog
from app import db
from customers.models import EndCustomer
from partners.models import Partner, StockOrder, StockOrderLine
from pricing.models import Product
from tests.conftest import META_CSRF_RE, valid_uscc

PARTNER_HEADER = ["Name", "Unified social credit code", "Tier", "Region", "Channel manager email"]


def xlsx(header: list, rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, kind: str, content: bytes, filename: str = "upload.xlsx"):
    page = client.get("/imports")
    token = META_CSRF_RE.search(page.text).group(1)
    return client.post(
        f"/imports/{kind}",
        data={f"{kind}-csrf_token": token, f"{kind}-file": (BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def reported_rows(html: str) -> dict[int, str]:
    """Row number → reasons, from the error table."""
    found = re.findall(r'<tr><td class="num">(\d+)</td><td><ul>(.*?)</ul></td></tr>', html, re.S)
    return {int(row): re.sub(r"<[^>]+>", " ", reasons) for row, reasons in found}


def flashes(client) -> str:
    return client.get("/imports").text


# --- templates -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["partners", "customers", "products", "stock_orders"])
def test_each_kind_has_a_template(client, login_as, kind):
    login_as("admin")
    response = client.get(f"/imports/{kind}/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    wb = load_workbook(BytesIO(response.data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[0].endswith(" *") and ws.freeze_panes == "A2" and ws.max_row == 1
    assert wb.sheetnames[1] == "Instructions"
    zh = load_workbook(BytesIO(client.get(f"/imports/{kind}/template.xlsx?lang=zh").data))
    assert re.search(r"[\u4e00-\u9fff]", zh.worksheets[0]["A1"].value)


def test_filled_template_imports(client, login_as, make_user):
    """What the template asks for is what the import reads (English or Chinese headers)."""
    login_as("admin")
    template = load_workbook(BytesIO(client.get("/imports/products/template.xlsx?lang=zh").data))
    ws = template.worksheets[0]
    ws.append(["srv-9", "九号服务器", "服务器", 1200.5, 800])
    out = BytesIO()
    template.save(out)
    response = upload(client, "products", out.getvalue())
    assert response.status_code == 302, response.text
    product = db.session.scalar(select(Product))
    assert (product.sku, product.list_price, product.active) == ("SRV-9", Decimal("1200.50"), True)


# --- partners -------------------------------------------------------------------------------


def test_partners_import_then_reimport_creates_nothing_twice(client, login_as, make_user):
    manager = make_user("manager", email="mgr@example.com")
    admin = login_as("admin")
    content = xlsx(
        PARTNER_HEADER + ["Agreement start", "Notes"],
        [
            [
                "华东科技有限公司",
                valid_uscc(9001),
                "gold",
                "上海",
                "MGR@example.com",
                datetime(2026, 1, 1),
                "首批签约",
            ],
            [
                "西南信息有限公司",
                f" {valid_uscc(9002)} ",
                "Silver",
                "四川",
                None,
                "2026-02-01",
                None,
            ],
        ],
    )
    response = upload(client, "partners", content, "伙伴.xlsx")
    assert response.status_code == 302
    assert "Partners: 2 created, 0 already present." in flashes(client)
    east = db.session.scalar(select(Partner).where(Partner.uscc == valid_uscc(9001)))
    assert (east.name, east.tier, east.region, east.owner_id) == (
        "华东科技有限公司",
        "gold",
        "上海",
        manager.id,
    )
    assert east.agreement_start == date(2026, 1, 1) and east.notes == "首批签约"
    west = db.session.scalar(select(Partner).where(Partner.uscc == valid_uscc(9002)))
    assert (west.tier, west.partner_type, west.status) == ("silver", "reseller", "active")

    again = upload(client, "partners", content, "伙伴.xlsx")
    assert again.status_code == 302
    assert "Partners: 0 created, 2 already present." in flashes(client)
    assert count(Partner) == 2
    imports = db.session.scalars(
        select(AuditLog).where(AuditLog.entity_type == "Import").order_by(AuditLog.id)
    ).all()
    assert [(a.action, a.after["created"], a.after["present"]) for a in imports] == [
        ("import", 2, 0),
        ("import", 0, 2),
    ]
    assert imports[0].user_id == admin.id and imports[0].after["file"] == "伙伴.xlsx"
    assert count(AuditLog) == 2 + 2  # and one "create" entry per partner, from the service


def test_bad_partner_rows_are_listed_and_nothing_is_imported(client, login_as, make_partner):
    existing = make_partner()
    login_as("admin")
    good = valid_uscc(9101)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    content = xlsx(
        PARTNER_HEADER + ["Agreement start", "Agreement end"],
        [
            ["好的伙伴有限公司", good, "gold", "北京", None, None, None],
            ["校验错误有限公司", bad_check, "gold", "", None, None, None],
            ["", valid_uscc(9102), "platinum", "", "nobody@example.com", None, None],
            ["重复代码有限公司", good, "silver", "", None, "2026-05-01", "2026-04-01"],
            [None, None, None, None, None, None, None],  # empty rows are skipped
            ["已存在有限公司", existing.uscc, "gold", "", None, None, None],
            ["数字代码有限公司", 911101080000000000, "gold", "", None, None, None],
        ],
    )
    response = upload(client, "partners", content)
    assert response.status_code == 422
    errors = reported_rows(response.text)
    assert set(errors) == {3, 4, 5, 8}
    assert "check character" in errors[3]
    assert (
        "Name: required" in errors[4] and "Tier: use one of gold, silver, registered" in errors[4]
    )
    assert "no active channel manager" in errors[4]
    assert "same credit code is on row 2" in errors[5] and "cannot end before" in errors[5]
    assert "format this column as text" in errors[8]
    assert "nothing was imported" in response.text
    assert count(Partner) == 1
    refused = db.session.scalar(select(AuditLog).where(AuditLog.action == "import_refused"))
    assert refused.after == {"kind": "partners", "file": "upload.xlsx", "rows": 6, "bad_rows": 4}


def test_a_file_that_is_not_a_workbook_or_lacks_columns_is_refused(client, login_as):
    login_as("admin")
    broken = upload(client, "partners", b"not a zip at all", "fake.xlsx")
    assert broken.status_code == 422 and "not an Excel workbook" in reported_rows(broken.text)[1]
    missing = upload(client, "partners", xlsx(["Name", "Region"], [["甲公司", "北京"]]))
    assert "lacks the column(s) Unified social credit code, Tier" in reported_rows(missing.text)[1]
    empty = upload(client, "partners", xlsx(PARTNER_HEADER, []))
    assert "no rows" in reported_rows(empty.text)[2]
    wrong_type = upload(client, "partners", b"a,b", "partners.csv")
    assert wrong_type.status_code == 200 and "Upload an Excel workbook (.xlsx)" in wrong_type.text
    assert count(Partner) == 0


# --- products and customers --------------------------------------------------------------------


def test_products_checked_with_the_price_rules(client, login_as, make_product):
    make_product(sku="OLD-1")
    login_as("admin")
    header = ["SKU", "Name", "Product line", "List price (CNY)", "Floor price (CNY)", "Active"]
    bad = upload(
        client,
        "products",
        xlsx(
            header,
            [
                ["NEW-1", "新产品", "网络", "1,000.00", 900, "yes"],
                ["NEW-2", "贵底价", "网络", 100, 120, "no"],
                ["NEW-3", "三位小数", "网络", 10.005, 5, "maybe"],
                ["new-1", "重复", "网络", 10, 5, None],
            ],
        ),
    )
    errors = reported_rows(bad.text)
    assert set(errors) == {3, 4, 5}
    assert "floor price cannot be above" in errors[3]
    assert "two decimals" in errors[4] and "Active: yes or no" in errors[4]
    assert "same SKU is on row 2" in errors[5]
    assert count(Product) == 1

    good = upload(
        client,
        "products",
        xlsx(
            header,
            [["NEW-1", "新产品", "网络", "1,000.00", 900, "no"], ["old-1", "旧", "x", 2, 1, None]],
        ),
    )
    assert good.status_code == 302
    assert "Products: 1 created, 1 already present." in flashes(client)
    new = db.session.scalar(select(Product).where(Product.sku == "NEW-1"))
    assert (new.list_price, new.floor_price, new.active) == (
        Decimal("1000.00"),
        Decimal("900.00"),
        False,
    )


def test_customers_match_on_code_or_name(client, login_as, make_user):
    rep = make_user("rep", email="rep@example.com")
    login_as("manager")
    header = ["Name", "Unified social credit code", "Segment", "Coverage", "Direct sales rep email"]
    rows = [
        ["浙江某某医院", valid_uscc(9201), "strategic", "direct", "rep@example.com"],
        ["无代码客户有限公司", None, "TOP", "channel", None],
    ]
    assert upload(client, "customers", xlsx(header, rows)).status_code == 302
    direct = db.session.scalar(select(EndCustomer).where(EndCustomer.uscc == valid_uscc(9201)))
    assert (direct.segment, direct.coverage, direct.owner_rep_id) == ("strategic", "direct", rep.id)
    assert direct.name_key  # set by the service, as for a customer entered in the form
    assert upload(client, "customers", xlsx(header, rows)).status_code == 302
    assert "End customers: 0 created, 2 already present." in flashes(client)
    assert count(EndCustomer) == 2

    bad = upload(client, "customers", xlsx(header, [["直销客户", None, "normal", "direct", None]]))
    assert "needs its owning rep" in reported_rows(bad.text)[2]


# --- stock orders ----------------------------------------------------------------------------

ORDER_HEADER = [
    "Order number",
    "Order date",
    "Partner credit code",
    "SKU",
    "Quantity",
    "Unit price (CNY)",
]


def test_stock_orders_group_lines_by_number(client, login_as, make_partner, make_product):
    partner = make_partner()
    make_product(sku="SRV-1")
    make_product(sku="NET-1")
    user = login_as("finance")
    rows = [
        ["PO-100", date(2026, 3, 1), partner.uscc, "srv-1", 2, 7000],
        ["PO-100", "2026-03-01", partner.uscc, "NET-1", 3.0, "699.99"],
        ["PO-101", datetime(2026, 3, 5), partner.uscc, "SRV-1", 1, 6800.5],
    ]
    assert upload(client, "stock_orders", xlsx(ORDER_HEADER, rows)).status_code == 302
    assert "Stock orders: 2 created, 0 already present." in flashes(client)
    order = db.session.scalar(select(StockOrder).where(StockOrder.number == "PO-100"))
    assert (order.partner_id, order.order_date, order.source, order.created_by_id) == (
        partner.id,
        date(2026, 3, 1),
        "import",
        user.id,
    )
    assert sorted((line.quantity, line.unit_price) for line in order.lines) == [
        (2, Decimal("7000.00")),
        (3, Decimal("699.99")),
    ]
    assert upload(client, "stock_orders", xlsx(ORDER_HEADER, rows)).status_code == 302
    assert "Stock orders: 0 created, 2 already present." in flashes(client)
    assert (count(StockOrder), count(StockOrderLine)) == (2, 3)


def test_bad_stock_order_rows_import_nothing(
    client, login_as, make_partner, make_product, make_user
):
    partner = make_partner()
    other = make_partner(owner=make_user("manager"))
    make_product(sku="SRV-1")
    manager = login_as("manager")
    partner.owner_id = manager.id
    db.session.commit()
    rows = [
        ["PO-1", "2026-03-01", partner.uscc, "SRV-1", 1, 100],  # fine
        ["PO-1", "2026-03-02", partner.uscc, "SRV-1", 1, 100],  # other date, same order
        ["PO-2", "2026-03-01", valid_uscc(9301), "NOPE", 1.5, "12.345"],
        ["PO-3", "31/03/2026", other.uscc, "SRV-1", 0, -1],
    ]
    response = upload(client, "stock_orders", xlsx(ORDER_HEADER, rows))
    errors = reported_rows(response.text)
    assert set(errors) == {3, 4, 5}
    assert "differs from row 2 of the same order PO-1" in errors[3]
    assert (
        "no partner with this credit code" in errors[4] and "no product with this SKU" in errors[4]
    )
    assert "Quantity: a positive whole number" in errors[4] and "two decimals" in errors[4]
    assert "you do not manage this partner" in errors[5] and "YYYY-MM-DD" in errors[5]
    assert "must be above zero" in errors[5]
    assert count(StockOrder) == 0


def test_an_order_number_of_another_partner_is_refused(
    client, login_as, make_partner, make_product
):
    from partners.commitments import OrderLineInput, record_stock_order

    first, second = make_partner(), make_partner()
    product = make_product(sku="SRV-1")
    record_stock_order(
        first,
        number="PO-1",
        order_date=date(2026, 1, 1),
        lines=[OrderLineInput(product.id, 1, "1")],
        user=None,
    )
    db.session.commit()
    login_as("admin")
    response = upload(
        client,
        "stock_orders",
        xlsx(ORDER_HEADER, [["PO-1", "2026-01-01", second.uscc, "SRV-1", 1, 1]]),
    )
    assert "already recorded for another partner" in reported_rows(response.text)[2]


# --- who may import what ---------------------------------------------------------------------


def test_each_role_sees_and_uses_only_its_imports(client, login_as):
    login_as("finance")
    page = client.get("/imports")
    assert page.status_code == 200
    assert 'id="import-stock_orders"' in page.text and 'id="import-partners"' not in page.text
    assert client.get("/imports/partners/template.xlsx").status_code == 403
    response = upload(
        client, "partners", xlsx(PARTNER_HEADER, [["甲", valid_uscc(1), "gold", "", None]])
    )
    assert response.status_code == 403 and count(Partner) == 0
    assert client.get("/imports/nothing/template.xlsx").status_code == 404


def test_manager_imports_customers_and_orders_not_partners(client, login_as):
    login_as("manager")
    page = client.get("/imports").text
    assert 'id="import-customers"' in page and 'id="import-stock_orders"' in page
    assert 'id="import-partners"' not in page and 'id="import-products"' not in page


def test_rep_and_partner_may_not_import(client, login_as):
    login_as("rep")
    assert client.get("/imports").status_code == 403


def test_a_chinese_user_reads_the_bad_rows_in_chinese(client, login_as):
    user = login_as("admin")
    user.language = "zh"
    db.session.commit()
    content = xlsx(PARTNER_HEADER, [["", valid_uscc(9301), "platinum", "", None]])
    response = upload(client, "partners", content)
    assert response.status_code == 422
    errors = reported_rows(response.text)
    assert (
        "名称：必填。" in errors[2]
        and "级别：请使用以下之一：gold, silver, registered。" in errors[2]
    )
    assert "合作伙伴：未导入任何数据" in response.text and "1 行需要修正。" in response.text
    template = load_workbook(BytesIO(client.get("/imports/partners/template.xlsx").data))
    assert template.sheetnames == ["合作伙伴", "填写说明"]
    assert template.worksheets[0]["A1"].value == "名称 *"


def test_a_file_with_many_bad_rows_lists_the_first_ones_and_counts_the_rest(client, login_as):
    from finance.views import IMPORT_ERROR_ROWS_SHOWN

    login_as("admin")
    header = ["SKU", "Name", "Product line", "List price (CNY)", "Floor price (CNY)", "Active"]
    rows = [[f"BAD-{i}", "坏", "网络", "not a price", 1, "yes"] for i in range(250)]
    response = upload(client, "products", xlsx(header, rows))
    assert response.status_code == 422
    assert "250 rows to fix." in response.text
    errors = reported_rows(response.text)
    assert len(errors) == IMPORT_ERROR_ROWS_SHOWN and min(errors) == 2
    assert re.search(r"The first 200 rows to fix are listed; 50 more follow", response.text)
    assert count(Product) == 0
