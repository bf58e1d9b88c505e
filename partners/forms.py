"""Partner and tier policy forms."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum.cn import uscc as uscc_rule
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as FieldError

from partners.models import PARTNER_STATUSES, PARTNER_TYPES, TIERS


def uscc_message(value: str) -> str | None:
    """Why ``value`` is not a valid unified social credit code, or None when it is."""
    try:
        uscc_rule.validate(value)
    except InvalidLength:
        return _("A unified social credit code has 18 characters.")
    except InvalidChecksum:
        return _("The check character does not match: the code is mistyped.")
    except (InvalidFormat, ValidationError):
        return _("This is not a valid unified social credit code.")
    return None


class UnifiedSocialCreditCode:
    """WTForms validator backed by python-stdnum's cn.uscc."""

    def __call__(self, form, field):
        if field.data:
            field.data = uscc_rule.compact(field.data)
            message = uscc_message(field.data)
            if message:
                raise FieldError(message)


class ContactForm(Form):
    name = StringField(_l("Contact name"), validators=[Optional(), Length(max=80)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("Contact email"), validators=[Optional(), Email(), Length(max=254)])


class PartnerForm(FlaskForm):
    name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(
        _l("Unified social credit code"), validators=[DataRequired(), UnifiedSocialCreditCode()]
    )
    region = StringField(_l("Region"), validators=[Optional(), Length(max=40)])
    partner_type = SelectField(_l("Type"), choices=list(PARTNER_TYPES.items()))
    tier = SelectField(_l("Tier"), choices=list(TIERS.items()))
    status = SelectField(_l("Status"), choices=list(PARTNER_STATUSES.items()))
    owner_id = SelectField(_l("Channel manager"), coerce=int, validate_choice=False)
    agreement_start = DateField(_l("Agreement start"), validators=[Optional()])
    agreement_end = DateField(_l("Agreement end"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    contacts = FieldList(FormField(ContactForm), min_entries=1)

    def validate_agreement_end(self, field):
        if field.data and self.agreement_start.data and field.data < self.agreement_start.data:
            raise FieldError(_("The agreement cannot end before it starts."))


class TierPolicyForm(FlaskForm):
    discount_percent = DecimalField(
        _l("Discount off list price (%)"),
        places=2,
        validators=[InputRequired(), NumberRange(0, 90)],
    )
    min_commitment = DecimalField(
        _l("Minimum stock commitment per year (CNY)"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0)],
    )
    protection_days = IntegerField(
        _l("Deal protection days"), validators=[InputRequired(), NumberRange(1, 730)]
    )
    approval_limit_percent = DecimalField(
        _l("Deepest extra special discount a manager approves (%)"),
        places=2,
        validators=[InputRequired(), NumberRange(0, 90)],
    )
    rebate_percent = DecimalField(
        _l("Rebate rate (%)"), places=2, validators=[InputRequired(), NumberRange(0, 50)]
    )


class CommitmentLineForm(Form):
    target = SelectField(_l("Product line or SKU"), validate_choice=False)
    quantity = StringField(_l("Committed quantity"), validators=[Optional()])


class CommitmentForm(FlaskForm):
    period = StringField(
        _l("Period"), validators=[DataRequired()], description=_l("2026-Q4, 2026-H2 or 2026")
    )
    amount = StringField(_l("Committed amount (CNY)"), validators=[DataRequired()])
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
    lines = FieldList(FormField(CommitmentLineForm), min_entries=3)


class StockOrderLineForm(Form):
    product_id = SelectField(_l("Product"), validate_choice=False)
    quantity = StringField(_l("Quantity"), validators=[Optional()])
    unit_price = StringField(_l("Unit price (CNY)"), validators=[Optional()])


class StockOrderForm(FlaskForm):
    number = StringField(_l("Order number"), validators=[DataRequired(), Length(max=40)])
    order_date = DateField(_l("Order date"), validators=[DataRequired()])
    lines = FieldList(FormField(StockOrderLineForm), min_entries=4)
