"""Finance pages: statements and imports (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("finance", __name__)
