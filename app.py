"""Application factory, configuration, extension objects and app-wide CLI."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

import i18n

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class Config:
    SECRET_KEY = None  # set via FLASK_SECRET_KEY or instance/config.py; dev fallback below
    SQLALCHEMY_DATABASE_URI = None  # default: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Shared storage so several app processes count login attempts together
    # (e.g. redis://127.0.0.1:6379/0). memory:// is fine for one process.
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_RATE_LIMIT = "10 per minute"
    ITEMS_PER_PAGE = 25
    # Deal approval SLA in working days (Monday to Friday).
    APPROVAL_SLA_WORKING_DAYS = 2
    # The business calendar (periods, pro-rata, SLA days, protection dates): clock.vendor_today.
    VENDOR_TIMEZONE = "Asia/Shanghai"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// both go through psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: Config, instance/config.py, FLASK_* environment; tests pass a mapping."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_file = Path(app.instance_path) / "channel.sqlite"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from accounts.cli import users_cli
    from accounts.views import bp as accounts_bp
    from api.statements import bp as api_statements_bp
    from api.views import bp as api_bp
    from customers.cli import customers_cli
    from customers.grams import keep_name_grams  # noqa: F401 (registers the session hook)
    from customers.views import bp as customers_bp
    from deals.cli import deals_cli
    from deals.pipeline import keep_pipeline  # noqa: F401 (registers the session hook)
    from deals.registration_views import bp as registrations_bp
    from deals.views import bp as deals_bp
    from finance.views import bp as finance_bp
    from notifications.cli import notifications_cli
    from notifications.views import bp as notifications_bp
    from partners.views import bp as partners_bp
    from pricing.views import bp as pricing_bp
    from seed import seed_demo_command

    app.register_blueprint(accounts_bp)
    app.register_blueprint(partners_bp)
    app.register_blueprint(pricing_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(deals_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(finance_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # token-authenticated JSON: no cookies, so CSRF does not apply
    app.register_blueprint(api_statements_bp)
    csrf.exempt(api_statements_bp)
    app.cli.add_command(deals_cli)
    app.cli.add_command(customers_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(seed_demo_command)

    # Partner pages show price-only flags computed from deals, a package to their right:
    # app.py wires the provider in so partners never imports deals.
    from deals.partner_stats import price_only_for

    app.extensions["price_only_signals"] = price_only_for

    from accounts.access import nav_items, public_route

    @app.context_processor
    def inject_nav():
        return {"nav_items": nav_items(current_user)}

    @app.route("/")
    @public_route
    def index():
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        from dashboards.views import home

        return home()

    def api_request() -> bool:
        return request.path == "/api" or request.path.startswith("/api/")

    @app.errorhandler(404)
    def not_found(error):
        if api_request():  # an unknown API address answers JSON like the rest of the API
            return jsonify(error="Not found."), 404
        return render_template("error.html", code=404, message=_("Page not found.")), 404

    @app.errorhandler(405)
    def method_not_allowed(error):
        if api_request():
            response = jsonify(error="This method is not allowed here.")
            response.status_code = 405
            response.headers["Allow"] = ", ".join(error.valid_methods or [])
            return response
        return error

    @app.errorhandler(403)
    def forbidden(error):
        return (
            render_template("error.html", code=403, message=_("You may not use this page.")),
            403,
        )

    @app.errorhandler(429)
    def too_many(error):
        return (
            render_template(
                "error.html", code=429, message=_("Too many attempts. Wait a minute and try again.")
            ),
            429,
        )

    return app


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder (never in the repo)."""
    secret_file = instance / "secret_key"
    if not secret_file.exists():
        import secrets

        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()
