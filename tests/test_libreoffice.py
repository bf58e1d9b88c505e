"""The exported workbooks open in a real spreadsheet program: LibreOffice (headless) computes
their totals' formulas, and the figures are the application's.

Needs ``soffice`` (Debian: ``apt-get install libreoffice-calc-nogui``); without it the tests are
skipped with the reason, unless REQUIRE_LIBREOFFICE is set (CI), where they fail instead.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.test_statements import HOSTILE, Q1, build_quarter

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# CSV of every sheet (the last token, -1, since LibreOffice 7.2), UTF-8 (76), raw values.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"

pytestmark = pytest.mark.skipif(
    SOFFICE is None and not os.environ.get("REQUIRE_LIBREOFFICE"),
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui",
)


@pytest.fixture
def quarter(make_partner, make_product, make_customer, make_user):
    return build_quarter(make_partner, make_product, make_customer, make_user)


def computed_sheets(xlsx: bytes, folder: Path) -> dict[str, list[list[str]]]:
    """Open the workbook in LibreOffice and read every sheet back as computed CSV."""
    assert SOFFICE, "REQUIRE_LIBREOFFICE is set but soffice is not installed"
    source = folder / "statement.xlsx"
    source.write_bytes(xlsx)
    profile = folder / "profile"  # its own profile: no clash with another LibreOffice running
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(folder / "csv"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    sheets = {}
    for path in (folder / "csv").glob("statement-*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[path.stem.removeprefix("statement-")] = list(csv.reader(handle))
    assert sheets, result.stdout + result.stderr
    return sheets


def row_named(rows: list[list[str]], label: str) -> list[str]:
    return next(row for row in rows if row and row[0] == label)


def percent(text: str) -> Decimal:
    """A ratio, as LibreOffice writes a percent-formatted cell ("11.7888855555556%")."""
    return (Decimal(text.rstrip("%")) / 100).quantize(Decimal("0.0001"))


def amount(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


def test_libreoffice_computes_the_partner_statement_totals(client, login_as, quarter, tmp_path):
    partner = quarter["partner"]
    login_as("finance")
    response = client.get(f"/statements/partner/{partner.id}.xlsx?period={Q1}")
    assert response.status_code == 200
    sheets = computed_sheets(response.data, tmp_path)
    assert set(sheets) == {"Summary", "Stock orders", "Approved deals", "Special prices", "Notes"}

    total = row_named(sheets["Summary"], "Total")
    header = sheets["Summary"][0]
    figures = dict(zip(header, total, strict=True))
    assert amount(figures["Committed (CNY)"]) == Decimal("900000.00")
    assert amount(figures["Ordered (CNY)"]) == Decimal("106099.97")
    assert percent(figures["Attainment"]) == Decimal("0.1179")  # the page's 11.79 %
    assert amount(figures["Shortfall (CNY)"]) == Decimal("793900.03")
    assert amount(figures["Special-price discount (CNY)"]) == Decimal("1249.97")
    assert amount(figures["Rebate (CNY)"]) == Decimal("3183.00")

    orders = row_named(sheets["Stock orders"], "Total")
    assert orders[5] == "18" and amount(orders[7]) == Decimal("106099.97")
    special = row_named(sheets["Special prices"], "Total")
    assert amount(special[10]) == Decimal("1249.97")
    assert sheets["Stock orders"][1][:3] == ["2026-01-15", "PO-1", "SRV-A"]


def test_libreoffice_keeps_hostile_text_as_text(client, login_as, make_partner, tmp_path):
    partners = [make_partner(name=name) for name in HOSTILE]
    login_as("admin")
    response = client.get("/statements/channel.xlsx?period=2026")
    assert response.status_code == 200
    sheets = computed_sheets(response.data, tmp_path)
    names = [row[0] for row in sheets["Summary"][1 : len(partners) + 1]]
    # Not a link, not a computed 1 or 2, not an error: the text as typed.
    assert sorted(names) == sorted(p.name for p in partners)
    assert row_named(sheets["Summary"], "Total")[8] in ("0", "0.00")
