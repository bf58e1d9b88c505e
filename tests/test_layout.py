"""Imports flow one way between the business packages: a package never imports one to its right
(accounts ← partners ← pricing ← customers ← deals ← finance; notifications beside accounts;
dashboards and api on top)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["accounts", "notifications", "partners", "pricing", "customers", "deals", "finance"]
ON_TOP = ["dashboards", "api"]
# Known and left for the foundations work (a user belongs to a partner: the user pages and
# `flask users create --partner` read partners). A new entry here needs a reason.
KNOWN = {("accounts/cli.py", "partners"), ("accounts/views.py", "partners")}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


@pytest.mark.parametrize("package", ORDER)
def test_a_package_never_imports_one_to_its_right(package):
    # notifications sits beside accounts: any package may tell someone, it imports none.
    right = set(ORDER[ORDER.index(package) + 1 :]) | set(ON_TOP)
    if package == "notifications":
        right = set(ORDER) - {"accounts", "notifications"} | set(ON_TOP)
    offenders = []
    for path in sorted((ROOT / package).glob("*.py")):
        name = str(path.relative_to(ROOT))
        wrong = {p for p in _imported_packages(path) & right if (name, p) not in KNOWN}
        if wrong:
            offenders.append(f"{name} imports {', '.join(sorted(wrong))}")
    assert not offenders, "\n".join(offenders)
