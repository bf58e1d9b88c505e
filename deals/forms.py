"""End customer form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from deals.models import COVERAGES, SEGMENTS
from partners.forms import UnifiedSocialCreditCode


class EndCustomerForm(FlaskForm):
    name = StringField("Customer name", validators=[DataRequired(), Length(max=200)])
    uscc = StringField(
        "Unified social credit code",
        validators=[Optional(), UnifiedSocialCreditCode()],
    )
    region = StringField("Region", validators=[Optional(), Length(max=40)])
    industry = StringField("Industry", validators=[Optional(), Length(max=60)])
    segment = SelectField("Segment", choices=list(SEGMENTS.items()))
    coverage = SelectField("Coverage", choices=list(COVERAGES.items()))
    owner_rep_id = SelectField("Owning direct rep", coerce=int, validate_choice=False)
