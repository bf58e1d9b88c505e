"""Product pages: admin edits, other vendor staff read."""

from __future__ import annotations

from tempfile import SpooledTemporaryFile

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from accounts.access import role_required
from accounts.audit import record_audit
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP
from app import db
from clock import vendor_today
from partners.models import TIERS, Partner
from partners.views import get_partner_for_user
from pricing.forms import ProductForm
from pricing.models import Product
from pricing.pricelist import (
    XLSX_MIMETYPE,
    PriceListFilters,
    active_product_lines,
    price_list_query,
    price_list_row,
    price_list_rows,
    write_price_list,
)
from pricing.services import ProductDetails, ProductError, save_product

bp = Blueprint("pricing", __name__)


@bp.get("/products")
@role_required(ADMIN, MANAGER, REP, FINANCE)
def list_products():
    q = request.args.get("q", "").strip()
    line = request.args.get("line", "")
    active = request.args.get("active", "")
    stmt = select(Product).order_by(Product.product_line, Product.sku)
    if q:
        stmt = stmt.where(or_(Product.sku.contains(q.upper()), Product.name.contains(q)))
    if line:
        stmt = stmt.where(Product.product_line == line)
    if active in ("yes", "no"):
        stmt = stmt.where(Product.active.is_(active == "yes"))
    lines = db.session.scalars(
        select(Product.product_line).distinct().order_by(Product.product_line)
    ).all()
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"])
    return render_template(
        "pricing/products.html", page=page, lines=lines, q=q, line=line, active=active
    )


def _save(form: ProductForm, product: Product | None):
    try:
        product = save_product(
            product,
            ProductDetails(
                sku=form.sku.data,
                name=form.name.data.strip(),
                product_line=form.product_line.data.strip(),
                list_price=form.list_price.data,
                floor_price=form.floor_price.data,
                active=form.active.data,
            ),
        )
        db.session.commit()
    except ProductError as error:
        db.session.rollback()
        getattr(form, error.field).errors.append(error.message)
        return None
    return product


@bp.route("/products/new", methods=["GET", "POST"])
@role_required(ADMIN)
def create_product():
    form = ProductForm()
    if form.validate_on_submit():
        product = _save(form, None)
        if product is not None:
            flash(_("Product %(sku)s created.", sku=product.sku), "success")
            return redirect(url_for("pricing.list_products"))
    return render_template("pricing/product_form.html", form=form, product=None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_product(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        if _save(form, product) is not None:
            flash(_("Product %(sku)s saved.", sku=product.sku), "success")
            return redirect(url_for("pricing.list_products"))
    return render_template("pricing/product_form.html", form=form, product=product)


# --- partner price lists -----------------------------------------------------------------


def _price_list_partner() -> Partner | None:
    """Whose prices: a partner user's own; vendor staff name one with ?partner=<id> (None when
    they have not yet). An unknown id, or another partner's id from a partner user, is a 404."""
    requested = request.args.get("partner", "").strip()
    if current_user.role == PARTNER:
        if current_user.partner_id is None:
            abort(404)
        if not requested:
            return current_user.partner
    elif not requested:
        return None
    if not requested.isdigit():
        abort(404)
    return get_partner_for_user(int(requested))


def _price_list_filters() -> PriceListFilters:
    return PriceListFilters(
        q=request.args.get("q", "").strip(), line=request.args.get("line", "").strip()
    )


# Not reps: they do not read partners' tier discounts or tier prices (list prices: /products).
@bp.get("/prices")
@role_required(PARTNER, ADMIN, MANAGER, FINANCE)
def price_list():
    partner = _price_list_partner()
    if partner is None:
        partners = db.session.execute(
            select(Partner.id, Partner.name, Partner.tier).order_by(Partner.name)
        ).all()
        return render_template(
            "pricing/price_list.html", partner=None, partners=partners, tiers=TIERS
        )
    filters = _price_list_filters()
    policy = partner.tier_policy
    page = db.paginate(price_list_query(filters), per_page=current_app.config["ITEMS_PER_PAGE"])
    rows = [
        price_list_row(p.sku, p.name, p.product_line, p.list_price, policy.discount_rate)
        for p in page.items
    ]
    export_args = {"q": filters.q, "line": filters.line}
    if current_user.role != PARTNER:
        export_args["partner"] = partner.id
    return render_template(
        "pricing/price_list.html",
        partner=partner,
        policy=policy,
        page=page,
        rows=rows,
        filters=filters,
        lines=active_product_lines(),
        export_url=url_for(
            "pricing.price_list_xlsx", **{k: v for k, v in export_args.items() if v}
        ),
    )


@bp.get("/prices.xlsx")
@role_required(PARTNER, ADMIN, MANAGER, FINANCE)
def price_list_xlsx():
    partner = _price_list_partner()
    if partner is None:
        return redirect(url_for("pricing.price_list"))
    filters = _price_list_filters()
    # Spills to disk past a few MB, so a large catalogue does not sit in memory.
    workbook_file = SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        count = write_price_list(
            price_list_rows(filters, partner.tier_policy.discount_rate), workbook_file
        )
        record_audit(
            "export",
            "PriceList",
            after={"partner_id": partner.id, "q": filters.q, "line": filters.line, "rows": count},
            summary=f"Price list of {partner.name} ({partner.uscc}): {count} products",
        )
        db.session.commit()
    except Exception:
        workbook_file.close()
        db.session.rollback()
        raise
    size = workbook_file.tell()
    workbook_file.seek(0)
    response = send_file(
        workbook_file,
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"price-list-{partner.uscc}-{vendor_today():%Y-%m-%d}.xlsx",
    )
    response.content_length = size
    response.headers["Cache-Control"] = "private, no-store"
    return response
