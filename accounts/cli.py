"""`flask users ...` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from accounts.models import ROLES, User
from accounts.services import UserError, create_user
from accounts.tokens import TokenError, create_token
from app import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@click.option("--partner", "partner_id", type=int, help="Partner id (partner users only).")
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.password_option(help="Password (asked for when not given).")
def create_user_command(email, role, partner_id, name, password):
    """Create a user with EMAIL and --role ROLE."""
    from partners.models import Partner

    if partner_id is not None and db.session.get(Partner, partner_id) is None:
        raise click.BadParameter(f"no partner with id {partner_id}", param_hint="--partner")
    try:
        user = create_user(
            email=email, name=name or email, role=role, password=password, partner_id=partner_id
        )
        db.session.commit()
    except UserError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from error
    click.echo(f"Created {user.email} ({user.role}), id {user.id}.")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="Command line", show_default=True, help="What the token is for.")
def create_token_command(email, name):
    """Create an API token for the user with EMAIL and print it (it is shown only this once)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    try:
        token, plain = create_token(user, name)
        db.session.commit()
    except TokenError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from error
    # Only the token on stdout, so it can be piped; the note goes to stderr.
    click.echo(plain)
    click.echo(
        f"API token {token.prefix}… ({token.name}) for {user.email}. "
        "Store it now: it is not shown again.",
        err=True,
    )
