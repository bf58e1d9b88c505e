"""Login and user administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from accounts.models import ROLES


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in"))


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=list(ROLES.items()), validators=[DataRequired()])
    partner_id = SelectField(_l("Partner (partner users only)"), coerce=int, validate_choice=False)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=8, message=_l("At least 8 characters."))],
    )
    active = BooleanField(_l("Active"), default=True)
