"""Command-line tasks: `flask --app survey <command>`. Each is a thin wrapper over a function."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from questionnaires import DEFINITIONS_DIR, QuestionnaireError, load, load_dir
from survey import audit, backups, corrective, invitations, rounds
from survey import demo as demo_data
from survey.corrective import reminders
from survey.extensions import db
from survey.invitations import invitation_url
from survey.models import ROLES, Round, Unit, User, utcnow
from survey.questionnaire_store import save_version
from survey.results import satisfaction_table

# ASVS 5.0 6.2.1: at least 12 characters; no other composition rules.
MIN_PASSWORD_LENGTH = 12
ANALYSE_COLUMNS = (
    "question",
    "category",
    "served_unit",
    "n",
    "satisfied",
    "rate",
    "ci_low",
    "ci_high",
    "mean",
    "dissatisfied_share",
)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations to head)."""
    upgrade()
    click.echo("database at the newest schema")


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
    email = email.strip().lower()
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


@click.command("demo")
@click.option(
    "--responses",
    "wanted",
    default=0,
    show_default=True,
    help="Top the demo round up to this many simulated responses.",
)
@with_appcontext
def demo(wanted: int) -> None:
    """Load the demo: questionnaires, units, one account per role, an open round, invitations."""
    report = demo_data.run(responses_wanted=wanted)
    click.echo(f"# demo loaded; {report.simulated} simulated responses added")
    for role, email, password in report.logins:
        click.echo(f"login {role} {email} {password}")
    click.echo(f"round {report.round.id} {report.round.name}")
    for group, invitation in report.invites:
        click.echo(f"invite {group} {invitation_url(invitation)}")
    if report.previous_round:
        click.echo(f"previous-round {report.previous_round.id} {report.previous_round.name}")
    for unit, email, password in report.owners:
        click.echo(f"owner {unit} {email} {password}")
    click.echo(f"actions {report.open_actions} open")


@click.command("analyse")
@click.argument("round_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item, in a list.")
@with_appcontext
def analyse(round_id: int, as_json: bool) -> None:
    """Print a round's satisfaction table: per item n, rate (top two boxes), 95% interval, mean;
    lowest rate first."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise click.ClickException(f"no round {round_id}")
    table = satisfaction_table(round_)[list(ANALYSE_COLUMNS)]
    if as_json:
        click.echo(table.to_json(orient="records", force_ascii=False, indent=2))
        return
    click.echo(f"# {round_.name}: {len(table)} items")
    if table.empty:
        click.echo("no responses yet")
        return
    shown = table.assign(**{c: (table[c] * 100).round(1) for c in ("rate", "ci_low", "ci_high")})
    click.echo(shown.round({"mean": 2, "dissatisfied_share": 3}).to_string(index=False))


def _round(round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise click.ClickException(f"no round {round_id}")
    return round_


@click.command("open-round")
@click.argument("round_id", type=int)
@with_appcontext
def open_round(round_id: int) -> None:
    """Open a round for answers."""
    round_ = _round(round_id)
    try:
        rounds.open_round(round_, utcnow())
    except rounds.RoundError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"round {round_.id} open")


@click.command("close-round")
@click.argument("round_id", type=int, required=False)
@click.option("--due", is_flag=True, help="Close every open round whose close date has passed.")
@with_appcontext
def close_round(round_id: int | None, due: bool) -> None:
    """Close a round (no more answers), or with --due every round past its close date."""
    if due:
        closed = rounds.close_due_rounds(utcnow())
    elif round_id is not None:
        closed = [_round(round_id)]
        try:
            rounds.close_round(closed[0], utcnow())
        except rounds.RoundError as error:
            raise click.ClickException(str(error)) from None
    else:
        raise click.UsageError("name a round or pass --due")
    db.session.commit()
    for round_ in closed:
        click.echo(f"round {round_.id} closed")


@click.command("invite")
@click.argument("round_id", type=int)
@click.option("--group", default=None, help="Only this respondent group.")
@click.option(
    "--count",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Invitations per unit; 1 issues only to units that have none yet.",
)
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@with_appcontext
def invite(round_id: int, group: str | None, count: int, fmt: str) -> None:
    """Issue invitations for a round's audience and print them as CSV with their links."""
    round_ = _round(round_id)
    made = invitations.issue_for_round(round_, count, group)
    db.session.commit()
    for line in invitations.csv_lines(round_, made):
        click.echo(line, nl=False)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Copy the live SQLite database to PATH, consistently, while the app keeps running (SQLite's
    online backup API). For PostgreSQL use pg_dump (see the README)."""
    try:
        pages = backups.backup_sqlite(db.engine, path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    audit.record("backup", target=str(path), pages=pages)
    db.session.commit()
    click.echo(f"backup {path} ({pages} pages)")


@click.command("run-rules")
@click.argument("round_id", type=int)
@with_appcontext
def run_rules(round_id: int) -> None:
    """Run the low-score rules on a round: new corrective actions, or a note in the history of
    an item's open action. Prints one `action ID QUESTION SERVED_UNIT RULE VALUE N` line per
    new action."""
    round_ = _round(round_id)
    run = corrective.run_rules(round_, utcnow())
    db.session.commit()
    click.echo(
        f"round {round_.id}: {len(run.created)} new actions, "
        f"{len(run.fired_again)} open actions fired again"
    )
    for a in run.created:
        click.echo(
            f"action {a.id} {a.question_code} {a.served_unit or '-'} {a.rule} "
            f"{a.observed:.3f} {a.n}"
        )


@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """E-mail owners of corrective actions due within 3 days, and the quality leads about
    overdue ones; each once per due date (run it daily from cron)."""
    sent = reminders.send(utcnow())
    db.session.commit()
    click.echo(f"reminders: {len(sent.to_owners)} to owners, {len(sent.to_leads)} to quality leads")


COMMANDS = (
    backup,
    init_db,
    load_questionnaires,
    create_user,
    demo,
    analyse,
    open_round,
    close_round,
    invite,
    run_rules,
    send_reminders,
)
