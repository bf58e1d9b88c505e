"""Product pages: admin edits, other vendor staff read."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from accounts.access import role_required
from accounts.models import ADMIN, FINANCE, MANAGER, REP
from app import db
from pricing.forms import ProductForm
from pricing.models import Product
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
            flash(f"Product {product.sku} created.", "success")
            return redirect(url_for("pricing.list_products"))
    return render_template("pricing/product_form.html", form=form, product=None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_product(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        if _save(form, product) is not None:
            flash(f"Product {product.sku} saved.", "success")
            return redirect(url_for("pricing.list_products"))
    return render_template("pricing/product_form.html", form=form, product=product)
