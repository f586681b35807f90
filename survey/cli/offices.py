"""``flask offices ...``: list, create and rename offices; ``--office CODE`` on every command
says which office it works for (needed once there are several)."""

from __future__ import annotations

import functools

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from survey import offices as office_rules
from survey import tenancy
from survey.extensions import db
from survey.models import Office


def for_office(command: click.Command) -> click.Command:
    """Give ``command`` the option ``--office CODE`` (or SURVEY_OFFICE): it then works for that
    office. Without it, a command works for the only office, and fails when there are
    several."""
    callback = command.callback

    @functools.wraps(callback)
    def run(*args, office: str | None = None, **kwargs):
        if office:
            found = office_rules.by_code(office)
            if found is None:
                raise click.UsageError(f"no office has the code {office!r} (flask offices list)")
            tenancy.enter(found.id)
        elif tenancy.several_offices():
            raise click.UsageError(
                "this installation serves several offices: name one with --office CODE"
                " (flask offices list)"
            )
        return callback(*args, **kwargs)

    command.params.append(
        click.Option(
            ["--office"],
            envvar="SURVEY_OFFICE",
            metavar="CODE",
            help="The office to work for (flask offices list).",
        )
    )
    command.callback = with_appcontext(run)
    return command


@click.group("offices")
def offices() -> None:
    """The offices this installation serves."""


@offices.command("list")
@with_appcontext
def list_offices() -> None:
    for office in db.session.scalars(select(Office).order_by(Office.position, Office.id)):
        click.echo(f"{office.code}\t{office.name_zh}\t{office.name_en}")


@offices.command("create")
@click.argument("code")
@click.option("--name-zh", required=True)
@click.option("--name-en", required=True)
@with_appcontext
def create(code: str, name_zh: str, name_en: str) -> None:
    try:
        office = office_rules.create(code, name_zh, name_en)
    except office_rules.OfficeError as error:
        raise click.UsageError(str(error)) from error
    db.session.commit()
    click.echo(f"office {office.code} created")


@offices.command("rename")
@click.argument("code")
@click.option("--name-zh")
@click.option("--name-en")
@click.option("--new-code")
@with_appcontext
def rename(code: str, name_zh: str | None, name_en: str | None, new_code: str | None) -> None:
    office = office_rules.by_code(code)
    if office is None:
        raise click.UsageError(f"no office has the code {code!r}")
    if new_code and new_code.strip().lower() != office.code:
        if office_rules.by_code(new_code) is not None:
            raise click.UsageError(f"an office with the code {new_code!r} exists already")
        office.code = new_code.strip().lower()
    office.name_zh = name_zh or office.name_zh
    office.name_en = name_en or office.name_en
    db.session.commit()
    current_app.extensions.pop("survey.office_names", None)  # this process's pages at once
    click.echo(f"office {office.code}: {office.name_zh} / {office.name_en}")


COMMANDS = (offices,)
