"""Corrective actions from the command line: `run-rules`, `send-reminders`,
`import-attachments`; and the public's follow-up cases: `escalate-cases`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from survey import corrective, feedback_cases
from survey.cli.rounds import round_or_fail
from survey.corrective import attachments, reminders
from survey.extensions import db
from survey.models import utcnow


@click.command("run-rules")
@click.argument("round_id", type=int)
@with_appcontext
def run_rules(round_id: int) -> None:
    """Run the low-score rules on a round: new corrective actions, or a note in the history of
    an item's open action; a lowest rating with a comment becomes a note on the item. Prints
    one `action ID QUESTION SERVED_UNIT RULE VALUE N` line per new action and one
    `note ID QUESTION SERVED_UNIT RATE N` line per new or changed note."""
    round_ = round_or_fail(round_id)
    run = corrective.run_rules(round_, utcnow())
    db.session.commit()
    click.echo(
        f"round {round_.id}: {len(run.created)} new actions, "
        f"{len(run.fired_again)} open actions fired again, {len(run.notes)} notes on items"
    )
    for a in run.created:
        click.echo(
            f"action {a.id} {a.question_code} {a.served_unit or '-'} {a.rule} "
            f"{a.observed:.3f} {a.n}"
        )
    for n in run.notes:
        click.echo(f"note {n.id} {n.question_code} {n.served_unit or '-'} {n.observed:.3f} {n.n}")


@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """E-mail owners of corrective actions due within 3 days, and the quality leads about
    overdue ones; each once per due date (run it daily from cron)."""
    sent = reminders.send(utcnow())
    db.session.commit()
    click.echo(f"reminders: {len(sent.to_owners)} to owners, {len(sent.to_leads)} to quality leads")


@click.command("import-attachments")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def import_attachments(folder: Path | None) -> None:
    """Copy the evidence files the shared storage lacks from FOLDER (default: this server's
    instance/attachments/, where releases before migration 0012 kept them). Run it on each
    server that kept files; prints `copied ID NAME` and `missing ID NAME` lines."""
    source = folder or Path(current_app.instance_path) / "attachments"
    copied, missing = attachments.import_folder(source)
    db.session.commit()
    for attachment in copied:
        click.echo(f"copied {attachment.id} {attachment.stored_name}")
    for attachment in missing:
        click.echo(f"missing {attachment.id} {attachment.stored_name}")
    click.echo(f"evidence files: {len(copied)} copied, {len(missing)} still missing")


@click.command("escalate-cases")
@with_appcontext
def escalate_cases() -> None:
    """E-mail the quality leads the public's follow-up cases past their deadline, each case
    once, and erase the contact details of cases closed 90 days ago (the worker does both
    daily; run it from cron without one)."""
    now = utcnow()
    forgotten = feedback_cases.forget_contacts(now)
    db.session.commit()
    escalated = feedback_cases.escalate(now)
    db.session.commit()
    click.echo(f"cases escalated: {len(escalated)}; contact details erased: {forgotten}")


COMMANDS = (run_rules, send_reminders, import_attachments, escalate_cases)
