"""Product form."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.validators import ValidationError as FieldError


class ProductForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    product_line = StringField(_l("Product line"), validators=[DataRequired(), Length(max=60)])
    list_price = DecimalField(
        _l("List price (CNY)"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0.01, message=_l("Must be above zero."))],
    )
    floor_price = DecimalField(
        _l("Floor price (CNY)"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0.01, message=_l("Must be above zero."))],
    )
    active = BooleanField(_l("Sold (active)"), default=True)

    def validate_floor_price(self, field):
        if field.data is not None and self.list_price.data is not None:
            if field.data > self.list_price.data:
                raise FieldError(_("The floor price cannot be above the list price."))
