"""`flask create-user`: an account from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey import audit, mail
from survey.extensions import db
from survey.models import ROLES, Unit, User

# ASVS 5.0 6.2.1: at least 12 characters; no other composition rules.
MIN_PASSWORD_LENGTH = 12


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--unit", "unit_code", default=None, help="Code of the user's unit.")
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_user(email: str, role: str, name: str, unit_code: str | None, password: str) -> None:
    """Create an account, or reset the role and password of an existing one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"use at least {MIN_PASSWORD_LENGTH} characters", param_hint="password"
        )
    try:
        email = mail.address(email).lower()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="email") from None
    user = db.session.scalar(User.by_email(email))
    if user is None:
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        audit.record("user_created", target=f"user:{user.id}", role=role)
    elif user.role != role:
        audit.record("role_changed", target=f"user:{user.id}", before=user.role, after=role)
    user.role, user.display_name = role, name or user.display_name or email
    if unit_code:
        user.unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if user.unit is None:
            raise click.BadParameter(f"no unit {unit_code!r}", param_hint="--unit")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"user {email} {role}")


COMMANDS = (create_user,)
