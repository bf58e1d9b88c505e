"""Login, logout, user administration, the audit log and each user's profile (API tokens)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, or_, select

from accounts import tokens as api_tokens
from accounts.access import public_route, role_required, safe_next_url
from accounts.audit import ACTION_LABELS, ENTITY_LABELS, FIELD_LABELS, VALUE_LABELS
from accounts.forms import LoginForm, UserForm
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, ROLES, ApiToken, AuditLog, User
from accounts.services import UserError, create_user, update_user
from app import db, limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public_route
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        )
        if user is None or not user.check_password(form.password.data) or not user.active:
            form.password.errors.append(_("Email or password is not correct."))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next_url(request.args.get("next")) or url_for("index"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@public_route
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


def _partner_choices() -> list[tuple[int, str]]:
    from partners.models import Partner  # accounts sits left of partners; read-only lookup

    rows = db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name))
    return [(0, "—")] + [(pid, name) for pid, name in rows]


@bp.get("/users")
@role_required(ADMIN)
def list_users():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.email)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    return render_template("accounts/users.html", page=page, q=q, role=role, roles=ROLES)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(ADMIN)
def create_user_view():
    form = UserForm()
    form.partner_id.choices = _partner_choices()
    if form.validate_on_submit():
        try:
            user = create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                partner_id=form.partner_id.data or None,
            )
            db.session.commit()
        except UserError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("accounts.list_users"))
    return render_template("accounts/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.partner_id.choices = _partner_choices()
    if request.method == "GET":
        form.partner_id.data = user.partner_id or 0
    if form.validate_on_submit():
        try:
            update_user(
                user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                partner_id=form.partner_id.data or None,
                active=form.active.data,
                password=form.password.data or None,
            )
            db.session.commit()
        except UserError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_("User %(email)s saved.", email=user.email), "success")
            return redirect(url_for("accounts.list_users"))
    return render_template("accounts/user_form.html", form=form, user=user)


@bp.get("/audit")
@role_required(ADMIN)
def audit_log():
    entity = request.args.get("entity", "").strip()
    user_q = request.args.get("user", "").strip()
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if entity:
        stmt = stmt.where(AuditLog.entity_type == entity)
    if user_q:
        stmt = stmt.join(AuditLog.user).where(func.lower(User.email).like(f"%{user_q.lower()}%"))
    entities = db.session.scalars(
        select(AuditLog.entity_type).distinct().order_by(AuditLog.entity_type)
    ).all()
    page = db.paginate(stmt, per_page=50)
    return render_template(
        "accounts/audit.html",
        page=page,
        entity=entity,
        user_q=user_q,
        entities=entities,
        action_labels=ACTION_LABELS,
        entity_labels=ENTITY_LABELS,
        field_labels=FIELD_LABELS,
        value_labels=VALUE_LABELS,
    )


# --- profile: the user's own API tokens ------------------------------------------------


def _profile_page(*, new_token: str | None = None, name: str = "", name_error: str = ""):
    page = db.paginate(
        api_tokens.tokens_of(current_user), per_page=current_app.config["ITEMS_PER_PAGE"]
    )
    response = current_app.make_response(
        render_template(
            "accounts/profile.html",
            page=page,
            new_token=new_token,
            name=name,
            name_error=name_error,
            name_max=api_tokens.TOKEN_NAME_MAX,
        )
    )
    if new_token:
        # The token is in this page only: keep it out of browser and proxy caches.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/profile")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def profile():
    return _profile_page()


@bp.post("/profile/language")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def set_language():
    """The user's language for every page, export and email from now on."""
    from i18n import LANGUAGES

    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    current_user.language = language
    db.session.commit()
    with force_locale(language):
        flash(_("Language saved."), "success")
    return redirect(url_for("accounts.profile"))


@bp.post("/profile/tokens")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def create_token():
    name = request.form.get("name", "")
    try:
        _token, plain = api_tokens.create_token(current_user, name)
        db.session.commit()
    except api_tokens.TokenError as error:
        db.session.rollback()
        return _profile_page(name=name, name_error=error.message)
    # Shown in this response only (not flashed: the session cookie is signed, not secret).
    return _profile_page(new_token=plain)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@role_required(ADMIN, MANAGER, REP, FINANCE, PARTNER)
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if token.revoked_at is not None:
        flash(_("Token %(name)s was already revoked.", name=token.name), "info")
    else:
        api_tokens.revoke_token(token)
        db.session.commit()
        flash(_("Token %(name)s revoked: it no longer opens the API.", name=token.name), "success")
    return redirect(url_for("accounts.profile"))
