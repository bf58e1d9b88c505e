"""Statement workbooks for finance systems: the same .xlsx as the pages, with a Bearer token.

    GET /api/v1/statements/partner/<id>.xlsx?from=YYYY-MM-DD&to=YYYY-MM-DD[&lang=zh]
    GET /api/v1/statements/channel.xlsx?from=...&to=...[&tier=&region=&owner=&lang=]

``period=2026-Q1`` (or 2026, 2026-H1, 2026-03) may replace from and to. The access rules are the
pages': finance and admin any partner, a channel manager its own partners (and the channel
statement of those only), a partner user its own partner; any other partner is 404. Each export
is audited. Errors answer JSON.
"""

from __future__ import annotations

from tempfile import SpooledTemporaryFile

from flask import Blueprint, abort, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from api.auth import api_roles_required, current_api_user
from app import db
from finance.exports import (
    CHANNEL_ROLES,
    STATEMENT_ROLES,
    NotVisible,
    channel_scope,
    consistent_snapshot,
    download_name,
    export_statement,
    normal_lang,
    visible_partner,
)
from finance.statements import PeriodError, StatementScope, statement_period
from pricing.pricelist import XLSX_MIMETYPE

bp = Blueprint("api_statements", __name__, url_prefix="/api/v1")


def http_error(error: HTTPException):
    response = jsonify(error=error.description)
    response.status_code = error.code or 500
    return response


bp.register_error_handler(HTTPException, http_error)
for _code in (400, 403, 404, 405, 429):
    bp.register_error_handler(_code, http_error)


def _period_or_422():
    args = request.args
    try:
        return statement_period(args.get("period"), args.get("from"), args.get("to")), None
    except PeriodError as error:
        errors = {name: [message] for name, message in error.errors.items()}
        return None, (jsonify(error="The period is not valid.", errors=errors), 422)


def _workbook_response(scope: StatementScope, period, name: str):
    user = current_api_user()
    workbook_file = SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        consistent_snapshot()
        export_statement(
            user,
            scope,
            period,
            workbook_file,
            lang=normal_lang(request.args.get("lang")),
            via="api",
        )
        db.session.commit()
    except Exception:
        workbook_file.close()
        db.session.rollback()
        raise
    size = workbook_file.tell()
    workbook_file.seek(0)
    response = send_file(
        workbook_file, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name
    )
    response.content_length = size
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/statements/partner/<int:partner_id>.xlsx")
@api_roles_required(*STATEMENT_ROLES)
def partner_statement(partner_id: int):
    try:
        partner = visible_partner(current_api_user(), partner_id)
    except NotVisible:
        abort(404, description="No such partner.")
    period, problem = _period_or_422()
    if problem:
        return problem
    scope = StatementScope(partner_id=partner.id)
    return _workbook_response(scope, period, download_name(scope, period, partner.uscc))


@bp.get("/statements/channel.xlsx")
@api_roles_required(*CHANNEL_ROLES)
def channel_statement():
    args = request.args
    owner = (args.get("owner") or "").strip()
    if owner and not owner.isdigit():
        return jsonify(error="Some fields are not valid.", errors={"owner": ["A user id."]}), 422
    scope = channel_scope(
        current_api_user(),
        args.get("tier", ""),
        args.get("region", ""),
        int(owner) if owner else None,
    )
    period, problem = _period_or_422()
    if problem:
        return problem
    return _workbook_response(scope, period, download_name(scope, period))
