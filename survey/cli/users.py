"""`flask create-user`: an account from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from survey import accounts, mail, passwords
from survey.extensions import db
from survey.models import ROLES, Unit, User

# Kept for callers of the old name: the policy lives in survey.passwords.
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--unit", "unit_code", default=None, help="Code of the user's unit.")
@click.option(
    "--password",
    default=None,
    help="A new account's password (asked for when not given); for an existing account, a new "
    "password (its password stays when not given).",
)
@with_appcontext
def create_user(
    email: str, role: str, name: str, unit_code: str | None, password: str | None
) -> None:
    """Create an account, or change the role, name or unit of an existing one (its password
    only with --password)."""
    try:
        email = mail.address(email).lower()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="email") from None
    user = db.session.scalar(User.by_email(email))
    if user is None and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password is not None:
        problem = passwords.problem(password, email, name)
        if problem is not None:
            with force_locale("en"):
                raise click.BadParameter(str(problem), param_hint="password")
    unit = None
    if unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise click.BadParameter(f"no unit {unit_code!r}", param_hint="--unit")
    if user is None:
        user = accounts.create(email, role, name or email, unit)
        user.set_password(password)
    else:
        accounts.change(user, role, name or user.display_name or email, unit or user.unit)
        if password is not None:
            accounts.set_password(user, password, "set")
    db.session.commit()
    click.echo(f"user {email} {role}")


COMMANDS = (create_user,)
