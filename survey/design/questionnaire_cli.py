"""`flask export-questionnaire CODE [--version N]`: a version as a definition file on stdout."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from questionnaires import dump
from survey.editing import find_version
from survey.questionnaire_store import to_model


@click.command("export-questionnaire")
@click.argument("code")
@click.option(
    "--version",
    "number",
    type=click.IntRange(min=1),
    default=None,
    help="Version number (default: the latest version, draft or not).",
)
@with_appcontext
def export_questionnaire(code: str, number: int | None) -> None:
    """Print a questionnaire version as YAML that load-questionnaires reads back unchanged."""
    version = find_version(code, number)
    if version is None:
        which = f"version {number} of " if number else ""
        raise click.ClickException(f"no {which}questionnaire {code!r}")
    click.echo(dump(to_model(version)), nl=False)


COMMANDS = (export_questionnaire,)
