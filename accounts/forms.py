"""Login and user administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from accounts.models import ROLES


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in")


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=list(ROLES.items()), validators=[DataRequired()])
    partner_id = SelectField("Partner (partner users only)", coerce=int, validate_choice=False)
    password = PasswordField(
        "Password", validators=[Optional(), Length(min=8, message="At least 8 characters.")]
    )
    active = BooleanField("Active", default=True)
