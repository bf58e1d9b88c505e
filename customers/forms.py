"""End customer form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from customers.models import COVERAGES, SEGMENTS
from partners.forms import UnifiedSocialCreditCode


class EndCustomerForm(FlaskForm):
    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[Optional(), UnifiedSocialCreditCode()],
    )
    region = StringField(_l("Region"), validators=[Optional(), Length(max=40)])
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=60)])
    segment = SelectField(_l("Segment"), choices=list(SEGMENTS.items()))
    coverage = SelectField(_l("Coverage"), choices=list(COVERAGES.items()))
    owner_rep_id = SelectField(_l("Owning direct rep"), coerce=int, validate_choice=False)
