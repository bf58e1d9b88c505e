"""Finance pages: statements (figures, Excel downloads, background exports) and Excel imports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from io import BytesIO
from tempfile import SpooledTemporaryFile

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.access import role_required
from accounts.audit import record_audit
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, User
from app import db
from clock import vendor_today
from finance.cli import purge_exports_command
from finance.exports import (
    CHANNEL_ROLES,
    STATEMENT_ROLES,
    NotVisible,
    channel_scope,
    consistent_snapshot,
    download_name,
    export_statement,
    normal_lang,
    partner_choices,
    visible_partner,
)
from finance.forms import ImportForm
from finance.imports import KINDS, import_file, kinds_for, template_workbook
from finance.jobs import (
    create_job,
    give_up_if_stale,
    job_file,
    may_view_job,
    read_progress,
    start_job,
)
from finance.models import DONE, ExportJob
from finance.statements import PeriodError, StatementScope, build_statement, statement_period
from finance.workbook import LANGUAGES
from i18n import current_language
from i18n import number as format_number
from partners.models import TIERS, Partner
from pricing.pricelist import XLSX_MIMETYPE

bp = Blueprint("finance", __name__)
bp.cli.add_command(purge_exports_command)  # flask finance purge-exports

IMPORT_ROLES = (ADMIN, MANAGER, FINANCE)
RECENT_JOBS = 10


# --- reading the statement parameters -----------------------------------------------------------


def _period(args):
    return statement_period(args.get("period"), args.get("from"), args.get("to"))


def _owner_arg(args) -> int | None:
    owner = (args.get("owner") or "").strip()
    return int(owner) if owner.isdigit() else None


def _channel_scope(args) -> StatementScope:
    return channel_scope(
        current_user, args.get("tier", ""), args.get("region", ""), _owner_arg(args)
    )


def _statement_args(scope: StatementScope, args) -> dict:
    """The query of a statement's links: the period as asked, the filters, the language."""
    values = {
        "period": (args.get("period") or "").strip(),
        "from": "" if args.get("period") else args.get("from", ""),
        "to": "" if args.get("period") else args.get("to", ""),
        "lang": _export_lang(args),
    }
    if scope.is_channel:
        values.update(tier=scope.tier, region=scope.region)
        if current_user.role != MANAGER and scope.owner_id:
            values["owner"] = scope.owner_id
    return {k: v for k, v in values.items() if v}


def _export_lang(args) -> str:
    """The language chosen on the statements page, else the user's own."""
    return normal_lang(args.get("lang"), current_language())


def _partner_or_404(partner_id: int | None) -> Partner:
    try:
        return visible_partner(current_user, partner_id)
    except NotVisible:
        abort(404)


@dataclass
class ListPage:
    """Enough of Flask-SQLAlchemy's pagination for the pagination macro, over a list."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _list_page(rows: list) -> ListPage:
    per_page = current_app.config["ITEMS_PER_PAGE"]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    page = min(page, max(1, math.ceil(len(rows) / per_page)))
    start = (page - 1) * per_page
    return ListPage(rows[start : start + per_page], page, per_page, len(rows))


# --- the statements page -------------------------------------------------------------------------


def _owner_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(User.id, User.name).where(User.role.in_((MANAGER, ADMIN))).order_by(User.name)
    )
    return [tuple(row) for row in rows]


def _regions() -> list[str]:
    return list(
        db.session.scalars(
            select(Partner.region).where(Partner.region != "").distinct().order_by(Partner.region)
        )
    )


@bp.route("/statements", methods=["GET", "POST"])
@role_required(*STATEMENT_ROLES)
def statements():
    """The form (scope, period, filters, language); with a period, the figures; POST exports."""
    args = request.values
    may_channel = current_user.role in CHANNEL_ROLES
    scope_kind = args.get("scope", "partner")
    if scope_kind != "channel" or not may_channel:
        scope_kind = "partner"
    choices = partner_choices(current_user)
    partner_arg = args.get("partner", "")
    if current_user.role == PARTNER:
        partner_arg = str(current_user.partner_id or "")
    asked = any(args.get(k) for k in ("period", "from", "to"))
    errors: dict[str, str] = {}
    statement = scope = partner = None
    if asked:
        try:
            period = _period(args)
        except PeriodError as error:
            errors = error.errors
        if not errors:
            if scope_kind == "partner":
                if not partner_arg.isdigit():
                    errors["partner"] = _("Choose a partner.")
                else:
                    partner = _partner_or_404(int(partner_arg))
                    scope = StatementScope(partner_id=partner.id)
            else:
                scope = _channel_scope(args)
    if request.method == "POST":
        if errors or scope is None:
            flash(_("Choose the partner and the period to export."), "error")
        else:
            job = create_job(
                current_user,
                scope,
                period,
                _export_lang(args),
                partner.uscc if partner else "",
            )
            db.session.commit()
            start_job(current_app._get_current_object(), job.id)
            return redirect(url_for("finance.statement_job", job_id=job.id))
    if scope is not None and not errors:
        statement = build_statement(scope, period)
    download_url = None
    if statement is not None:
        query = _statement_args(scope, args)
        if scope.is_channel:
            download_url = url_for("finance.channel_statement", **query)
        else:
            download_url = url_for("finance.partner_statement", partner_id=partner.id, **query)
    jobs = db.session.scalars(
        select(ExportJob)
        .where(ExportJob.user_id == current_user.id)
        .order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
        .limit(RECENT_JOBS)
    ).all()
    return render_template(
        "finance/statements.html",
        args=args,
        scope_kind=scope_kind,
        may_channel=may_channel,
        choices=choices,
        partner_arg=partner_arg,
        errors=errors,
        statement=statement,
        rows_page=_list_page(statement.rows) if statement and scope.is_channel else None,
        download_url=download_url,
        tiers=TIERS,
        regions=_regions() if may_channel else [],
        owners=_owner_choices() if current_user.role in (ADMIN, FINANCE) else [],
        export_languages=LANGUAGES,
        export_lang=_export_lang(args),
        jobs=jobs,
        period_years=_period_years(args.get("period", "")),
    )


def _period_years(period: str) -> list[int]:
    """The years the period picker suggests: this one, the last, and the one asked for."""
    this_year = vendor_today().year
    years = {this_year, this_year - 1}
    if period[:4].isdigit():
        years.add(int(period[:4]))
    return sorted(years, reverse=True)


# --- direct downloads --------------------------------------------------------------------------


def _send_statement(scope: StatementScope, period, lang: str, name: str):
    """Write the workbook to a temporary file (spills to disk past 8 MB) and stream it."""
    workbook_file = SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        consistent_snapshot()
        export_statement(current_user, scope, period, workbook_file, lang=lang, via="web")
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
@role_required(*STATEMENT_ROLES)
def partner_statement(partner_id: int):
    """One partner's statement as .xlsx: ?period=2026-Q1 or ?from=YYYY-MM-DD&to=YYYY-MM-DD."""
    partner = _partner_or_404(partner_id)
    try:
        period = _period(request.args)
    except PeriodError as error:
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("finance.statements", scope="partner", partner=partner.id))
    scope = StatementScope(partner_id=partner.id)
    return _send_statement(
        scope,
        period,
        _export_lang(request.args),
        download_name(scope, period, partner.uscc),
    )


@bp.get("/statements/channel.xlsx")
@role_required(*CHANNEL_ROLES)
def channel_statement():
    """The channel's statement as .xlsx, with ?tier=&region=&owner= (a manager: its partners)."""
    scope = _channel_scope(request.args)
    try:
        period = _period(request.args)
    except PeriodError as error:
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("finance.statements", scope="channel"))
    return _send_statement(scope, period, _export_lang(request.args), download_name(scope, period))


# --- background exports ------------------------------------------------------------------------


def _job_or_404(job_id: int) -> ExportJob:
    job = db.get_or_404(ExportJob, job_id)
    if not may_view_job(current_user, job):
        abort(404)
    if give_up_if_stale(job):
        db.session.commit()
    return job


def _job_state(job: ExportJob) -> dict:
    progress = read_progress(job) if not job.finished else {}
    rows, total = progress.get("rows", job.rows or 0), progress.get("total")
    if job.status == DONE:
        percent = 100
    elif total:
        percent = min(99, int(rows * 100 / total))
    else:
        percent = 0
    if job.status == DONE:
        progress_text = _("Written: %(total)s detail rows.", total=format_number(job.rows or 0))
    elif total:
        progress_text = _(
            "%(rows)s of %(total)s detail rows written (%(percent)s %%).",
            rows=format_number(rows),
            total=format_number(total),
            percent=percent,
        )
    elif not job.finished:
        progress_text = _("Computing the figures…")
    else:
        progress_text = ""
    return {
        "id": job.id,
        "status": job.status,
        "status_label": job.status_label,
        "progress_text": progress_text,
        "rows": rows,
        "total": total if job.status != DONE else job.rows,
        "percent": percent,
        "finished": job.finished,
        "error": job.error_message or None,
        "download_url": url_for("finance.download_statement_job", job_id=job.id)
        if job.status == DONE
        else None,
    }


@bp.get("/statements/jobs/<int:job_id>")
@role_required(*STATEMENT_ROLES)
def statement_job(job_id: int):
    job = _job_or_404(job_id)
    return render_template("finance/job.html", job=job, state=_job_state(job))


@bp.get("/statements/jobs/<int:job_id>/status")
@role_required(*STATEMENT_ROLES)
def statement_job_status(job_id: int):
    return jsonify(_job_state(_job_or_404(job_id)))


@bp.get("/statements/jobs/<int:job_id>/download")
@role_required(*STATEMENT_ROLES)
def download_statement_job(job_id: int):
    job = _job_or_404(job_id)
    if job.status != DONE:
        return redirect(url_for("finance.statement_job", job_id=job.id))
    path = job_file(job)
    if path is None:
        abort(404)  # removed by `flask finance purge-exports`
    record_audit(
        "download",
        "Statement",
        after={"job_id": job.id, "file": job.download_name},
        summary=f"Export {job.id} downloaded: {job.download_name}",
    )
    db.session.commit()
    response = send_file(
        path, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=job.download_name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- imports ---------------------------------------------------------------------------------


def _import_kind_or_404(kind: str):
    found = KINDS.get(kind)
    if found is None:
        abort(404)
    if current_user.role not in found.roles:
        abort(403)
    return found


IMPORT_ERROR_ROWS_SHOWN = 200  # a rejected file lists this many rows to fix, then counts the rest


@bp.get("/imports")
@role_required(*IMPORT_ROLES)
def imports():
    kinds = kinds_for(current_user)
    return render_template(
        "finance/imports.html",
        kinds=kinds,
        forms={k.key: ImportForm(prefix=k.key) for k in kinds},
        report=None,
    )


@bp.get("/imports/<kind>/template.xlsx")
@role_required(*IMPORT_ROLES)
def import_template(kind: str):
    found = _import_kind_or_404(kind)
    lang = _export_lang(request.args)
    response = send_file(
        BytesIO(template_workbook(found, lang)),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"import-{found.key.replace('_', '-')}.xlsx",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/imports/<kind>")
@role_required(*IMPORT_ROLES)
def upload_import(kind: str):
    found = _import_kind_or_404(kind)
    kinds = kinds_for(current_user)
    forms = {
        k.key: ImportForm(prefix=k.key)
        if k.key == found.key
        else ImportForm(formdata=None, prefix=k.key)
        for k in kinds
    }
    form = forms[found.key]
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_file(found, upload.stream, current_user, upload.filename or "")
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if report.ok:
            flash(_("%(kind)s: %(outcome)s", kind=found.title, outcome=report.message), "success")
            return redirect(url_for("finance.imports"))
    status = 200 if report is None else 422
    return (
        render_template(
            "finance/imports.html",
            kinds=kinds,
            forms=forms,
            report=report,
            active=found.key,
            error_rows_shown=IMPORT_ERROR_ROWS_SHOWN,
        ),
        status,
    )
