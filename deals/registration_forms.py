"""Deal entry forms: a partner's registration and a rep's direct deal share one form.

The fields are deliberately lenient (quantities and prices are text, choices are not
checked here): the rules live in deals.workflow, and its messages are the ones the user
sees, field by field.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional

from deals.models import CONTACT_ROLES, FUNDING_SOURCES, STAGES
from i18n import money
from partners.forms import UnifiedSocialCreditCode

MAX_LINES = 100
MAX_CONTACTS = 30
BLANK_LINE_ROWS = 3
BLANK_CONTACT_ROWS = 2


def optional_int(value) -> int | None:
    """Coerce a submitted id; anything that is not a number becomes None (no coercion error)."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


class NewCustomerForm(Form):
    name = StringField(_l("New customer's name"), validators=[Optional(), Length(max=200)])
    uscc = StringField(
        _l("Unified social credit code"), validators=[Optional(), UnifiedSocialCreditCode()]
    )
    region = StringField(_l("Region"), validators=[Optional(), Length(max=40)])
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=60)])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in self)


class DealLineForm(Form):
    product_id = SelectField(_l("Product"), coerce=optional_int, validate_choice=False)
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric"})
    unit_price = StringField(_l("Requested unit price (CNY)"), render_kw={"inputmode": "decimal"})

    def is_blank(self) -> bool:
        return not self.product_id.data and not any(
            (f.data or "").strip() for f in (self.quantity, self.unit_price)
        )


class DealContactForm(Form):
    name = StringField(_l("Contact name"), validators=[Optional(), Length(max=80)])
    role = SelectField(
        _l("Role"), choices=[("", "—")] + list(CONTACT_ROLES.items()), validate_choice=False
    )
    title = StringField(_l("Title"), validators=[Optional(), Length(max=80)])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in self)


class DealForm(FlaskForm):
    # What the user typed to find the customer; the pick (by script) fills customer_id.
    customer_query = StringField(
        _l("End customer"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    customer_id = HiddenField()
    new_customer = FormField(NewCustomerForm)
    project_name = StringField(_l("Project name"), validators=[Optional(), Length(max=200)])
    estimated_value = StringField(_l("Estimated value (CNY)"), render_kw={"inputmode": "decimal"})
    expected_close_date = DateField(
        _l("Expected close date"),
        validators=[Optional()],
        invalid_value_message=_l("Enter a valid date."),
    )
    stage = SelectField(
        _l("Stage"), choices=[("", _l("Choose…"))] + list(STAGES.items()), validate_choice=False
    )
    funding_source = SelectField(
        _l("Funding source"),
        choices=[("", _l("Choose…"))] + list(FUNDING_SOURCES.items()),
        validate_choice=False,
    )
    competitors = StringField(_l("Competitors"), validators=[Optional(), Length(max=300)])
    lines = FieldList(FormField(DealLineForm), min_entries=BLANK_LINE_ROWS, max_entries=MAX_LINES)
    contacts = FieldList(
        FormField(DealContactForm), min_entries=BLANK_CONTACT_ROWS, max_entries=MAX_CONTACTS
    )

    def set_product_choices(self, products) -> None:
        choices = [("", _("Choose a product…"))] + [
            (p.id, f"{p.sku} · {p.name} · {money(p.list_price)}") for p in products
        ]
        for entry in self.lines:
            entry.form.product_id.choices = choices
