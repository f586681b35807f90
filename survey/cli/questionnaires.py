"""`flask load-questionnaires` and `flask export-questionnaire`: definition files in and out;
`flask import-xlsform` and `flask export-xlsform`: the same as XLSForm workbooks (.xlsx)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from questionnaires import DEFINITIONS_DIR, QuestionnaireError, dump, load, load_dir, xlsform
from survey import editing
from survey.editing import find_version
from survey.extensions import db
from survey.questionnaire_store import save_version, to_model


@click.command("load-questionnaires")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def load_questionnaires(path: Path | None) -> None:
    """Load questionnaire files (a file or a folder; default: the shipped definitions)."""
    path = path or DEFINITIONS_DIR
    try:
        definitions = load_dir(path) if path.is_dir() else [load(path)]
    except QuestionnaireError as error:
        raise click.ClickException(str(error)) from None
    for definition in definitions:
        version = save_version(definition)
        click.echo(f"questionnaire {definition.id} version {version.number}")
    db.session.commit()


_VERSION_OPTION = click.option(
    "--version",
    "number",
    type=click.IntRange(min=1),
    default=None,
    help="Version number (default: the latest version, draft or not).",
)


def _version(code: str, number: int | None):
    """The questionnaire's version ``number`` (default: its latest), or a clear refusal."""
    version = find_version(code, number)
    if version is None:
        which = f"version {number} of " if number else ""
        raise click.ClickException(f"no {which}questionnaire {code!r}")
    return version


@click.command("export-questionnaire")
@click.argument("code")
@_VERSION_OPTION
@with_appcontext
def export_questionnaire(code: str, number: int | None) -> None:
    """Print a questionnaire version as YAML that load-questionnaires reads back unchanged."""
    version = _version(code, number)
    click.echo(dump(to_model(version)), nl=False)


@click.command("import-xlsform")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_xlsform(path: Path) -> None:
    """Import an XLSForm workbook (.xlsx) as the next draft version of its questionnaire."""
    try:
        version, new = editing.import_definition(path.read_bytes(), str(path))
    except QuestionnaireError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    code = version.questionnaire.code
    if new:
        click.echo(f"questionnaire {code} draft version {version.number}")
    else:
        click.echo(f"questionnaire {code}: same as version {version.number}, nothing new")


@click.command("export-xlsform")
@click.argument("code")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@_VERSION_OPTION
@with_appcontext
def export_xlsform(code: str, output: Path, number: int | None) -> None:
    """Write a questionnaire version to OUTPUT as an XLSForm workbook (.xlsx) for ODK,
    KoboToolbox or SurveyCTO; import-xlsform reads it back unchanged."""
    version = _version(code, number)
    output.write_bytes(xlsform.dump(to_model(version)))
    click.echo(f"questionnaire {code} version {version.number} written to {output}")


COMMANDS = (load_questionnaires, export_questionnaire, import_xlsform, export_xlsform)
