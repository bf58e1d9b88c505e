"""The home page: each role's dashboard (app.index renders it once the user is logged in)."""

from __future__ import annotations

import logging

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP
from app import db
from clock import vendor_today
from dashboards.charts import bar_chart, grouped_bar_chart
from dashboards.labels import TIER_LABELS
from dashboards.services import (
    default_period,
    finance_dashboard,
    manager_dashboard,
    partner_dashboard,
    rep_dashboard,
)
from finance.statements import PeriodError, statement_period
from i18n import number, percent

log = logging.getLogger(__name__)


def _counts_chart(title: str, description: str, rows) -> object:
    return bar_chart(
        title, description, [r.label for r in rows], [r.count for r in rows], formatter=number
    )


def _amounts_chart(title: str, description: str, rows) -> object:
    return bar_chart(
        title, description, [r.label for r in rows], [r.amount for r in rows], axis="money"
    )


def _manager_context() -> dict:
    board = manager_dashboard(current_user)
    charts = {
        "tier": _amounts_chart(
            _("Open pipeline by tier"),
            _("Estimated value of open channel deals per partner tier; the table lists it."),
            board.pipeline_by_tier,
        ),
        "stage": _amounts_chart(
            _("Open pipeline by buying stage"),
            _("Estimated value of open channel deals per buying stage; the table lists it."),
            board.pipeline_by_stage,
        ),
        "attainment": bar_chart(
            _("Attainment against pro-rata"),
            _("Ordered against the pro-rata share of each commitment, most behind first."),
            [r.name for r in board.attainment_rows],
            [(r.attainment.pro_rata_attainment or 0) * 100 for r in board.attainment_rows],
            formatter=lambda v: percent((v or 0) / 100),
            width=1100,  # drawn across the card, above its table
        ),
    }
    return {"board": board, "charts": charts}


def _partner_context() -> dict:
    board = partner_dashboard(current_user.partner)
    charts = {
        "status": _counts_chart(
            _("My deals by status"),
            _("Number of registrations in each status; the table lists them."),
            board.deals_by_status,
        )
    }
    return {"board": board, "charts": charts}


def _rep_context() -> dict:
    board = rep_dashboard(current_user)
    charts = {
        "status": _counts_chart(
            _("My direct deals by status"),
            _("Number of direct deals in each status; the table lists them."),
            board.deals_by_status,
        )
    }
    return {"board": board, "charts": charts}


def _finance_context() -> dict:
    today = vendor_today()
    asked = (request.args.get("period") or "").strip()
    error = None
    try:
        period = statement_period(asked or default_period(today))
    except PeriodError:
        error = _("Use a period like 2026, 2026-Q3 or 2026-03.")
        period = statement_period(default_period(today))
    board = finance_dashboard(period)
    labels = [r.label for r in board.tiers]
    chart = grouped_bar_chart(
        _("Ordered, special-price discount and rebates by tier"),
        _("Amounts in CNY for %(period)s per partner tier; the table lists them.")
        % {"period": period.label},
        labels,
        [
            (_("Ordered"), [r.ordered for r in board.tiers]),
            (_("Special-price discount"), [r.special_discount for r in board.tiers]),
            (_("Rebate"), [r.rebate for r in board.tiers]),
        ],
    )
    quarter = (today.month - 1) // 3 + 1
    previous = f"{today.year}-Q{quarter - 1}" if quarter > 1 else f"{today.year - 1}-Q4"
    choices = [
        (f"{today.year}-{today.month:02d}", _("This month")),
        (default_period(today), _("This quarter")),
        (previous, _("Last quarter")),
        (str(today.year), _("This year")),
    ]
    return {
        "board": board,
        "charts": {"tiers": chart},
        "period_error": error,
        "asked_period": asked or period.label,
        "period_choices": choices,
    }


CONTEXTS = {
    ADMIN: ("dashboards/manager.html", _manager_context),
    MANAGER: ("dashboards/manager.html", _manager_context),
    PARTNER: ("dashboards/partner.html", _partner_context),
    REP: ("dashboards/rep.html", _rep_context),
    FINANCE: ("dashboards/finance.html", _finance_context),
}


def home():
    """The logged-in user's dashboard; a partner user without a partner gets the plain home."""
    template, context = CONTEXTS.get(current_user.role, ("home.html", dict))
    if current_user.role == PARTNER and current_user.partner is None:
        template, context = "home.html", dict
    page = render_template(template, tier_labels=TIER_LABELS, **context())
    try:
        db.session.commit()  # the at-risk memos a manager's dashboard worked out (partners.signals)
    except SQLAlchemyError:
        # The memos only save the next view some work; the page is right without them (on
        # SQLite another process may hold the write lock). Worked out again next time.
        db.session.rollback()
        log.warning("at-risk memos not saved", exc_info=True)
    return page
