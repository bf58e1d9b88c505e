"""Access decisions declared at the route, and the navigation each role sees."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP

PUBLIC = "public"


def role_required(*roles: str) -> Callable:
    """Allow the view to logged-in users holding one of ``roles``; others get 403.

    The allowed roles are kept on the view so the access test can read every
    route's decision (a route without one fails that test).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            from app import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


def public_route(view: Callable) -> Callable:
    """Mark a view as reachable without logging in (login page, home redirect)."""
    view.allowed_roles = PUBLIC
    return view


def is_partner_user() -> bool:
    return current_user.is_authenticated and current_user.role == PARTNER


def safe_next_url(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//' tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


# endpoint, label, roles
NAVIGATION = [
    ("index", _l("Home"), (ADMIN, MANAGER, REP, FINANCE, PARTNER)),
    ("deals.approval_queue", _l("Approval queue"), (ADMIN, MANAGER)),
    ("registrations.list_registrations", _l("Registrations"), (PARTNER,)),
    ("registrations.list_direct_deals", _l("Direct deals"), (REP,)),
    ("deals.list_deals", _l("Deals"), (ADMIN, MANAGER, REP, FINANCE)),
    ("deals.list_conflicts", _l("Conflicts"), (ADMIN, MANAGER, REP, FINANCE)),
    ("partners.list_partners", _l("Partners"), (ADMIN, MANAGER, REP, FINANCE)),
    ("partners.my_partner", _l("My company"), (PARTNER,)),
    ("pricing.list_products", _l("Products"), (ADMIN, MANAGER, REP, FINANCE)),
    ("customers.list_customers", _l("End customers"), (ADMIN, MANAGER, REP, FINANCE)),
    ("partners.list_tier_policies", _l("Tier policies"), (ADMIN, MANAGER, FINANCE)),
    ("pricing.price_list", _l("Price list"), (PARTNER,)),
    ("finance.statements", _l("Statements"), (ADMIN, MANAGER, FINANCE, PARTNER)),
    ("finance.imports", _l("Imports"), (ADMIN, MANAGER, FINANCE)),
    ("partners.tier_review", _l("Tier review"), (ADMIN, MANAGER)),
    ("partners.edit_settings", _l("Thresholds"), (ADMIN,)),
    ("accounts.list_users", _l("Users"), (ADMIN,)),
    ("accounts.audit_log", _l("Audit log"), (ADMIN,)),
    ("accounts.profile", _l("Profile"), (ADMIN, MANAGER, REP, FINANCE, PARTNER)),
]


def nav_items(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = []
    for endpoint, label, roles in NAVIGATION:
        if user.role in roles and endpoint in current_app.view_functions:
            url = url_for(endpoint)
            active = request.path == url or (url != "/" and request.path.startswith(url))
            items.append({"url": url, "label": label, "active": active})
    return items
