"""Excel imports of partners, end customers, products and stock orders.

A file is checked whole before anything is written: every row is read (openpyxl read-only) and
checked with the rules of the services that will store it (credit codes with ``uscc_message``,
tiers, product prices, customers' segment and coverage, stock orders' partner, SKU, quantity,
price and date), and against the other rows of the file. If any row is bad, nothing is imported
and the report lists each bad row's number and reasons. Otherwise every row goes through the
services (``create_partner``, ``save_customer``, ``save_product``, ``record_stock_order``) in
one transaction; a row whose key is already recorded is skipped, so importing the same file
again creates nothing: partners match on their credit code, products on their SKU (any case),
stock orders on their number (lines with the same number form one order), end customers on
their credit code, or, without one, on their exact name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from io import BytesIO
from typing import IO, Any
from zipfile import BadZipFile

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import func, select
from stdnum.cn import uscc as uscc_rule

from accounts.audit import record_audit
from accounts.models import ADMIN, FINANCE, MANAGER, REP, User
from app import db
from customers.models import COVERAGES, SEGMENTS, EndCustomer
from customers.services import CustomerDetails, CustomerError, save_customer
from i18n import current_language
from i18n import number as format_number
from partners.commitments import (
    CommitmentError,
    DuplicateRecord,
    OrderLineInput,
    record_stock_order,
)
from partners.forms import uscc_message
from partners.models import (
    PARTNER_STATUSES,
    PARTNER_TYPES,
    TIERS,
    Partner,
    StockOrder,
)
from partners.services import PartnerDetails, PartnerError, create_partner
from pricing.models import Product
from pricing.services import ProductDetails, ProductError, save_product

MAX_ROWS = 20_000
LOOKUP_CHUNK = 500
CENT = Decimal("0.01")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ImportColumn:
    key: str
    en: str
    zh: str
    required: bool = False
    kind: str = "text"  # text | code | date | money | quantity | choice | yesno | email
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for kind "choice"
    hint: str = ""
    example: Any = None
    width: int = 18
    max_length: int = 0

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class ImportKind:
    key: str
    name: str  # English, for the audit log
    title: str  # lazy: in the reader's language
    roles: tuple[str, ...]
    columns: tuple[ImportColumn, ...]
    matched_on: str  # lazy

    def column(self, key: str) -> ImportColumn:
        return next(c for c in self.columns if c.key == key)


_YESNO = (("yes", "Yes"), ("no", "No"))

KINDS: dict[str, ImportKind] = {
    "partners": ImportKind(
        "partners",
        "Partners",
        _l("Partners"),
        (ADMIN,),
        (
            ImportColumn(
                "name", "Name", "名称", True, max_length=200, example="某某科技有限公司", width=36
            ),
            ImportColumn(
                "uscc",
                "Unified social credit code",
                "统一社会信用代码",
                True,
                "code",
                example="91110108MA01ABCD1X",
                width=24,
            ),
            ImportColumn(
                "tier", "Tier", "级别", True, "choice", tuple(TIERS.items()), example="silver"
            ),
            ImportColumn("region", "Region", "区域", max_length=40, example="北京"),
            ImportColumn(
                "partner_type",
                "Type",
                "类型",
                kind="choice",
                choices=tuple(PARTNER_TYPES.items()),
                hint=_l("Default reseller."),
                example="reseller",
            ),
            ImportColumn(
                "status",
                "Status",
                "状态",
                kind="choice",
                choices=tuple(PARTNER_STATUSES.items()),
                hint=_l("Default active."),
                example="active",
            ),
            ImportColumn(
                "owner_email",
                "Channel manager email",
                "渠道经理邮箱",
                kind="email",
                hint=_l("A channel manager's login email."),
                example="manager@example.com",
                width=28,
            ),
            ImportColumn(
                "agreement_start",
                "Agreement start",
                "协议开始日期",
                kind="date",
                example=date(2026, 1, 1),
            ),
            ImportColumn(
                "agreement_end",
                "Agreement end",
                "协议结束日期",
                kind="date",
                example=date(2026, 12, 31),
            ),
            ImportColumn("notes", "Notes", "备注", max_length=2000, width=30),
        ),
        _l("unified social credit code"),
    ),
    "customers": ImportKind(
        "customers",
        "End customers",
        _l("End customers"),
        (ADMIN, MANAGER),
        (
            ImportColumn(
                "name", "Name", "名称", True, max_length=200, example="某某市人民医院", width=36
            ),
            ImportColumn(
                "uscc",
                "Unified social credit code",
                "统一社会信用代码",
                kind="code",
                hint=_l("When known."),
                width=24,
            ),
            ImportColumn("region", "Region", "区域", max_length=40, example="浙江"),
            ImportColumn("industry", "Industry", "行业", max_length=60, example="医疗"),
            ImportColumn(
                "segment",
                "Segment",
                "客户分级",
                kind="choice",
                choices=tuple(SEGMENTS.items()),
                hint=_l("Default normal."),
                example="normal",
            ),
            ImportColumn(
                "coverage",
                "Coverage",
                "覆盖方式",
                kind="choice",
                choices=tuple(COVERAGES.items()),
                hint=_l("Default channel; a direct named account needs its rep."),
                example="channel",
            ),
            ImportColumn(
                "owner_rep_email",
                "Direct sales rep email",
                "直销经理邮箱",
                kind="email",
                width=28,
            ),
        ),
        _l("unified social credit code, or the exact name when there is no code"),
    ),
    "products": ImportKind(
        "products",
        "Products",
        _l("Products"),
        (ADMIN,),
        (
            ImportColumn("sku", "SKU", "物料编码", True, "code", max_length=40, example="SRV-R100"),
            ImportColumn(
                "name", "Name", "名称", True, max_length=200, example="R100 机架服务器", width=36
            ),
            ImportColumn(
                "product_line", "Product line", "产品线", True, max_length=60, example="服务器"
            ),
            ImportColumn(
                "list_price",
                "List price (CNY)",
                "目录价（元）",
                True,
                "money",
                example=Decimal("12000.00"),
            ),
            ImportColumn(
                "floor_price",
                "Floor price (CNY)",
                "底价（元）",
                True,
                "money",
                example=Decimal("8000.00"),
            ),
            ImportColumn(
                "active",
                "Active",
                "在售",
                kind="yesno",
                choices=_YESNO,
                hint=_l("Default yes."),
                example="yes",
            ),
        ),
        _l("SKU (any case)"),
    ),
    "stock_orders": ImportKind(
        "stock_orders",
        "Stock orders",
        _l("Stock orders"),
        (ADMIN, MANAGER, FINANCE),
        (
            ImportColumn(
                "order_number",
                "Order number",
                "订单编号",
                True,
                "code",
                max_length=40,
                hint=_l("One row per line; lines of one order share its number, date and partner."),
                example="PO-2026-0001",
            ),
            ImportColumn(
                "order_date", "Order date", "订单日期", True, "date", example=date(2026, 3, 15)
            ),
            ImportColumn(
                "partner_uscc",
                "Partner credit code",
                "伙伴统一社会信用代码",
                True,
                "code",
                example="91110108MA01ABCD1X",
                width=24,
            ),
            ImportColumn("sku", "SKU", "物料编码", True, "code", example="SRV-R100"),
            ImportColumn("quantity", "Quantity", "数量", True, "quantity", example=10),
            ImportColumn(
                "unit_price",
                "Unit price (CNY)",
                "单价（元）",
                True,
                "money",
                example=Decimal("8400.00"),
            ),
        ),
        _l("order number"),
    ),
}


def kinds_for(user: User) -> list[ImportKind]:
    return [kind for kind in KINDS.values() if user.role in kind.roles]


# --- reading ---------------------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not an xlsx, no header, missing columns)."""


@dataclass
class RowError:
    row: int
    reasons: list[str]


@dataclass
class ImportReport:
    kind: ImportKind
    rows: int = 0
    created: int = 0
    present: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def message(self) -> str:
        return _(
            "%(created)s created, %(present)s already present.",
            created=self.created,
            present=self.present,
        )

    @property
    def english_message(self) -> str:
        return f"{self.created} created, {self.present} already present."


def _header_key(kind: ImportKind, text: Any) -> str | None:
    wanted = re.sub(r"\s+", " ", str(text or "")).strip().casefold().rstrip("*").strip()
    for column in kind.columns:
        if wanted in (column.key, column.en.casefold(), column.zh.casefold()):
            return column.key
    return None


def read_rows(kind: ImportKind, file: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, values by column key) of each non-empty row of the first sheet."""
    try:
        wb = load_workbook(file, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportFileError(
            _("This is not an Excel workbook (.xlsx) that can be read.")
        ) from error
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ImportFileError(_("The first sheet is empty: start from the template."))
        keys = [_header_key(kind, text) for text in header]
        lang = current_language()
        missing = [c.label(lang) for c in kind.columns if c.required and c.key not in keys]
        if missing:
            raise ImportFileError(
                _(
                    "Row 1 lacks the column(s) %(columns)s: start from the template.",
                    columns=", ".join(missing),
                )
            )
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            yield number, {k: v for k, v in zip(keys, values, strict=False) if k is not None}
    finally:
        wb.close()


# --- checking values -----------------------------------------------------------------------


class _Row:
    """One row's values as read, and the reasons it is bad."""

    def __init__(self, number: int, raw: dict[str, Any], kind: ImportKind):
        self.number = number
        self.raw = raw
        self.kind = kind
        self.reasons: list[str] = []
        self.values: dict[str, Any] = {}

    def fail(self, column: ImportColumn | None, message: str) -> None:
        if column is None:
            self.reasons.append(message)
        else:
            label = column.label(current_language())
            self.reasons.append(_("%(column)s: %(reason)s", column=label, reason=message))

    def read(self) -> None:
        for column in self.kind.columns:
            self.values[column.key] = self._value(column, self.raw.get(column.key))

    def _value(self, column: ImportColumn, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if column.required:
                self.fail(column, _("required."))
            return None
        reader = getattr(self, f"_{column.kind}")
        return reader(column, value)

    def _text(self, column, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if column.max_length and len(text) > column.max_length:
            self.fail(column, _("at most %(count)s characters.", count=column.max_length))
        return text

    def _code(self, column, value):
        if isinstance(value, (int, float, Decimal)):
            # Excel turned it into a number: leading zeros and digits past 15 are lost.
            self.fail(
                column, _("format this column as text (Excel turned the code into a number).")
            )
            return None
        return self._text(column, value)

    def _email(self, column, value):
        text = str(value).strip().lower()
        if not EMAIL_RE.match(text):
            self.fail(column, _("not an email address."))
        return text

    def _date(self, column, value):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            self.fail(column, _("enter a date as YYYY-MM-DD."))
            return None

    def _money(self, column, value):
        try:
            amount = Decimal(str(value).replace(",", "").replace("¥", "").strip())
        except InvalidOperation:
            self.fail(column, _("enter an amount, e.g. 1000.00."))
            return None
        if not amount.is_finite() or amount <= 0:
            self.fail(column, _("must be above zero."))
            return None
        if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
            self.fail(column, _("at most two decimals (cents)."))
            return None
        return amount.quantize(CENT)

    def _quantity(self, column, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if not text.isdigit() or int(text) <= 0:
            self.fail(column, _("a positive whole number."))
            return None
        return int(text)

    def _choice(self, column, value):
        wanted = str(value).strip().casefold()
        for key, label in column.choices:
            if wanted in (key.casefold(), label.casefold()):
                return key
        self.fail(
            column,
            _("use one of %(values)s.", values=", ".join(key for key, _label in column.choices)),
        )
        return None

    def _yesno(self, column, value):
        if isinstance(value, bool):
            return value
        wanted = str(value).strip().casefold()
        if wanted in ("yes", "y", "true", "1", "是"):
            return True
        if wanted in ("no", "n", "false", "0", "否"):
            return False
        self.fail(column, _("yes or no."))
        return None


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _lookup(column, wanted: set, *selected) -> dict:
    """{key: row} for the keys found (one query per 500 keys)."""
    found = {}
    for chunk in _chunks(sorted(wanted)):
        for row in db.session.execute(select(column, *selected).where(column.in_(chunk))):
            found[row[0]] = row[1:] if len(row) > 2 else row[1]
    return found


def _users_by_email(emails: set[str]) -> dict[str, User]:
    users = {}
    for chunk in _chunks(sorted(emails)):
        for user in db.session.scalars(select(User).where(func.lower(User.email).in_(chunk))):
            users[user.email.lower()] = user
    return users


def _duplicates(rows: list[_Row], key: str, label: str, normal=lambda v: v) -> None:
    first_seen: dict[Any, int] = {}
    for row in rows:
        value = row.values.get(key)
        if value in (None, ""):
            continue
        value = normal(value)
        if value in first_seen:
            row.fail(
                None, _("The same %(what)s is on row %(row)s.", what=label, row=first_seen[value])
            )
        else:
            first_seen[value] = row.number


# --- the kinds: check every row, then store them -----------------------------------------------


def _check_partners(rows: list[_Row], user: User) -> None:
    kind = KINDS["partners"]
    for row in rows:
        code = row.values.get("uscc")
        if code:
            code = uscc_rule.compact(code)
            row.values["uscc"] = code
            message = uscc_message(code)
            if message:
                row.fail(kind.column("uscc"), message)
        start, end = row.values.get("agreement_start"), row.values.get("agreement_end")
        if start and end and end < start:
            row.fail(kind.column("agreement_end"), _("The agreement cannot end before it starts."))
    _duplicates(rows, "uscc", _("credit code"))
    owners = _users_by_email({r.values["owner_email"] for r in rows if r.values.get("owner_email")})
    for row in rows:
        email = row.values.get("owner_email")
        if email:
            owner = owners.get(email)
            if owner is None or owner.role not in (MANAGER, ADMIN) or not owner.active:
                row.fail(
                    kind.column("owner_email"), _("no active channel manager with this email.")
                )
            else:
                row.values["owner_id"] = owner.id
    existing = _lookup(
        Partner.uscc, {r.values["uscc"] for r in rows if r.values.get("uscc")}, Partner.id
    )
    for row in rows:
        row.values["present"] = row.values.get("uscc") in existing


def _store_partner(values: dict, user: User) -> None:
    create_partner(
        PartnerDetails(
            name=values["name"],
            uscc=values["uscc"],
            tier=values["tier"],
            region=values.get("region") or "",
            partner_type=values.get("partner_type") or "reseller",
            status=values.get("status") or "active",
            owner_id=values.get("owner_id"),
            agreement_start=values.get("agreement_start"),
            agreement_end=values.get("agreement_end"),
            notes=values.get("notes") or "",
        )
    )


def _check_customers(rows: list[_Row], user: User) -> None:
    kind = KINDS["customers"]
    for row in rows:
        code = row.values.get("uscc")
        if code:
            code = uscc_rule.compact(code)
            row.values["uscc"] = code
            message = uscc_message(code)
            if message:
                row.fail(kind.column("uscc"), message)
    _duplicates(rows, "uscc", _("credit code"))
    for row in rows:
        if not row.values.get("uscc"):
            row.values["name_key"] = row.values.get("name")
    _duplicates(rows, "name_key", _("name without a credit code"))
    reps = _users_by_email(
        {r.values["owner_rep_email"] for r in rows if r.values.get("owner_rep_email")}
    )
    for row in rows:
        email = row.values.get("owner_rep_email")
        if email:
            rep = reps.get(email)
            if rep is None or rep.role != REP or not rep.active:
                row.fail(
                    kind.column("owner_rep_email"), _("no active direct sales rep with this email.")
                )
            else:
                row.values["owner_rep_id"] = rep.id
        if row.values.get("coverage") == "direct" and not email:
            row.fail(
                kind.column("owner_rep_email"), _("a named direct account needs its owning rep.")
            )
    by_code = _lookup(
        EndCustomer.uscc, {r.values["uscc"] for r in rows if r.values.get("uscc")}, EndCustomer.id
    )
    by_name = _lookup(
        EndCustomer.name,
        {r.values["name"] for r in rows if not r.values.get("uscc") and r.values.get("name")},
        EndCustomer.id,
    )
    for row in rows:
        code = row.values.get("uscc")
        row.values["present"] = code in by_code if code else row.values.get("name") in by_name


def _store_customer(values: dict, user: User) -> None:
    save_customer(
        None,
        CustomerDetails(
            name=values["name"],
            uscc=values.get("uscc"),
            region=values.get("region") or "",
            industry=values.get("industry") or "",
            segment=values.get("segment") or "normal",
            coverage=values.get("coverage") or "channel",
            owner_rep_id=values.get("owner_rep_id"),
        ),
    )


def _check_products(rows: list[_Row], user: User) -> None:
    kind = KINDS["products"]
    for row in rows:
        if row.values.get("sku"):
            row.values["sku"] = row.values["sku"].upper()
        list_price, floor_price = row.values.get("list_price"), row.values.get("floor_price")
        if list_price and floor_price and floor_price > list_price:
            row.fail(
                kind.column("floor_price"), _("The floor price cannot be above the list price.")
            )
    _duplicates(rows, "sku", _("SKU"))
    existing = _lookup(
        func.upper(Product.sku), {r.values["sku"] for r in rows if r.values.get("sku")}, Product.id
    )
    for row in rows:
        row.values["present"] = row.values.get("sku") in existing


def _store_product(values: dict, user: User) -> None:
    save_product(
        None,
        ProductDetails(
            sku=values["sku"],
            name=values["name"],
            product_line=values["product_line"],
            list_price=values["list_price"],
            floor_price=values["floor_price"],
            active=True if values.get("active") is None else values["active"],
        ),
    )


def _check_stock_orders(rows: list[_Row], user: User) -> None:
    kind = KINDS["stock_orders"]
    for row in rows:
        if row.values.get("partner_uscc"):
            row.values["partner_uscc"] = uscc_rule.compact(row.values["partner_uscc"])
        if row.values.get("sku"):
            row.values["sku"] = row.values["sku"].upper()
    # Lines of one order must agree on its date and partner.
    orders: dict[str, _Row] = {}
    for row in rows:
        number = row.values.get("order_number")
        if not number:
            continue
        first = orders.setdefault(number, row)
        if first is row:
            continue
        for key in ("order_date", "partner_uscc"):
            if (
                row.values.get(key)
                and first.values.get(key)
                and row.values[key] != first.values[key]
            ):
                row.fail(
                    kind.column(key),
                    _(
                        "differs from row %(row)s of the same order %(number)s.",
                        row=first.number,
                        number=number,
                    ),
                )
    partners = _lookup(
        Partner.uscc,
        {r.values["partner_uscc"] for r in rows if r.values.get("partner_uscc")},
        Partner.id,
        Partner.owner_id,
    )
    products = _lookup(
        func.upper(Product.sku), {r.values["sku"] for r in rows if r.values.get("sku")}, Product.id
    )
    existing = _lookup(StockOrder.number, set(orders), StockOrder.partner_id)
    for row in rows:
        code, sku = row.values.get("partner_uscc"), row.values.get("sku")
        if code:
            found = partners.get(code)
            if found is None:
                row.fail(kind.column("partner_uscc"), _("no partner with this credit code."))
            else:
                partner_id, owner_id = found
                row.values["partner_id"] = partner_id
                if user.role == MANAGER and owner_id not in (None, user.id):
                    row.fail(kind.column("partner_uscc"), _("you do not manage this partner."))
        if sku:
            if sku in products:
                row.values["product_id"] = products[sku]
            else:
                row.fail(kind.column("sku"), _("no product with this SKU."))
        number = row.values.get("order_number")
        if number in existing:
            recorded_for = existing[number]
            if row.values.get("partner_id") not in (None, recorded_for):
                row.fail(
                    kind.column("order_number"),
                    _("this number is already recorded for another partner's order."),
                )
            row.values["present"] = True
        else:
            row.values["present"] = False


def _store_stock_orders(rows: list[_Row], user: User) -> tuple[int, int, list[RowError]]:
    """Orders grouped by number: (created, already present, errors from the service)."""
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.values["order_number"]].append(row)
    created = present = 0
    errors = []
    for number, lines in grouped.items():
        first = lines[0]
        if first.values["present"]:
            present += 1
            continue
        try:
            record_stock_order(
                db.session.get(Partner, first.values["partner_id"]),
                number=number,
                order_date=first.values["order_date"],
                lines=[
                    OrderLineInput(
                        product_id=line.values["product_id"],
                        quantity=line.values["quantity"],
                        unit_price=line.values["unit_price"],
                    )
                    for line in lines
                ],
                user=user,
                source="import",
            )
            created += 1
        except (CommitmentError, DuplicateRecord) as error:
            errors.append(RowError(first.number, [str(error)]))
    return created, present, errors


CHECKS = {
    "partners": (_check_partners, _store_partner),
    "customers": (_check_customers, _store_customer),
    "products": (_check_products, _store_product),
    "stock_orders": (_check_stock_orders, None),
}
SERVICE_ERRORS = (PartnerError, CustomerError, ProductError, CommitmentError, DuplicateRecord)


def import_file(kind: ImportKind, file: IO[bytes], user: User, filename: str = "") -> ImportReport:
    """Check the whole file, then import it in the current transaction, all rows or none.

    On any bad row the report lists the errors and the session is rolled back; on success the
    rows are flushed and the caller commits. Each import is audited (also a refused one, after
    the rollback: the caller commits that entry too).
    """
    report = ImportReport(kind=kind)
    rows: list[_Row] = []
    try:
        for number, raw in read_rows(kind, file):
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(
                    _(
                        "At most %(count)s rows per file: split the file.",
                        count=format_number(MAX_ROWS),
                    )
                )
            row = _Row(number, raw, kind)
            row.read()
            rows.append(row)
    except ImportFileError as error:
        report.errors.append(RowError(1, [str(error)]))
        return _refused(report, user, filename)
    report.rows = len(rows)
    if not rows:
        report.errors.append(RowError(2, [_("The file has no rows to import.")]))
        return _refused(report, user, filename)
    check, store = CHECKS[kind.key]
    check(rows, user)
    report.errors = [RowError(r.number, r.reasons) for r in rows if r.reasons]
    if report.errors:
        return _refused(report, user, filename)

    if store is None:
        report.created, report.present, report.errors = _store_stock_orders(rows, user)
    else:
        for row in rows:
            if row.values["present"]:
                report.present += 1
                continue
            try:
                store(row.values, user)
                report.created += 1
            except SERVICE_ERRORS as error:
                report.errors.append(RowError(row.number, [getattr(error, "message", str(error))]))
    if report.errors:
        return _refused(report, user, filename)
    record_audit(
        "import",
        "Import",
        after={
            "kind": kind.key,
            "file": filename[:200],
            "rows": report.rows,
            "created": report.created,
            "present": report.present,
        },
        summary=f"{kind.name} from {filename or 'a file'}: {report.english_message}",
        user_id=user.id,
    )
    return report


def _refused(report: ImportReport, user: User, filename: str) -> ImportReport:
    db.session.rollback()
    report.created = report.present = 0
    record_audit(
        "import_refused",
        "Import",
        after={
            "kind": report.kind.key,
            "file": filename[:200],
            "rows": report.rows,
            "bad_rows": len(report.errors),
        },
        summary=f"{report.kind.name} from {filename or 'a file'}: refused, "
        f"{len(report.errors)} bad row(s)",
        user_id=user.id,
    )
    return report


# --- templates ----------------------------------------------------------------------------------


def template_workbook(kind: ImportKind, lang: str = "en") -> bytes:
    """The import template in ``lang``: the header row (frozen), columns formatted for their
    values (codes as text so Excel keeps leading zeros), drop-downs for the choices, and a sheet
    that says what each column takes with an example row."""
    with force_locale(lang):
        wb = _template(kind, lang)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _template(kind: ImportKind, lang: str) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = str(kind.title)
    bold = Font(bold=True)
    for index, column in enumerate(kind.columns, start=1):
        letter = get_column_letter(index)
        title = column.label(lang)
        cell = ws.cell(row=1, column=index, value=title + (" *" if column.required else ""))
        cell.font = bold
        dimension = ws.column_dimensions[letter]
        dimension.width = max(column.width, len(title) * (2 if lang == "zh" else 1) + 4)
        if column.kind in ("text", "code", "email", "choice", "yesno"):
            dimension.number_format = "@"
        elif column.kind == "date":
            dimension.number_format = "yyyy-mm-dd"
        elif column.kind == "money":
            dimension.number_format = "#,##0.00"
        if column.choices:
            values = ",".join(key for key, _label in column.choices)
            validation = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
            validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"

    guide = wb.create_sheet(_("Instructions"))
    guide.append([_("Column"), _("Required"), _("Values"), _("Example")])
    for cell in guide[1]:
        cell.font = bold
    kinds_of_value = {
        "date": _("date, YYYY-MM-DD"),
        "money": _("amount in CNY, two decimals"),
        "quantity": _("whole number above zero"),
        "code": _("text"),
        "email": _("email address"),
    }
    for column in kind.columns:
        if column.choices:
            values = ", ".join(key for key, _label in column.choices)
        else:
            values = kinds_of_value.get(column.kind, _("text"))
            if column.max_length:
                values = _(
                    "%(values)s, at most %(count)s characters",
                    values=values,
                    count=column.max_length,
                )
        if column.hint:
            values = _("%(values)s. %(hint)s", values=values, hint=column.hint)
        guide.append(
            [
                f"{column.en} / {column.zh}",
                _("yes") if column.required else "",
                values,
                column.example,
            ]
        )
    guide.append([])
    guide.append(
        [_("Rows already recorded are skipped (matched on the %(key)s).", key=kind.matched_on)]
    )
    guide.append(
        [_("If any row is bad, nothing is imported: fix the rows listed and upload again.")]
    )
    for letter, width in zip("ABCD", (40, 10, 70, 24), strict=True):
        guide.column_dimensions[letter].width = width
    return wb
