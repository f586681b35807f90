"""Rounds from the command line: `analyse`, `open-round`, `close-round`, `invite`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey import invitations, office_time, rounds
from survey.extensions import db
from survey.models import Round, utcnow
from survey.results import satisfaction_table

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


@click.command("analyse")
@click.argument("round_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item, in a list.")
@with_appcontext
def analyse(round_id: int, as_json: bool) -> None:
    """Print a round's satisfaction table: per item n, rate (top two boxes), 95% interval, mean;
    lowest rate first."""
    round_ = round_or_fail(round_id)
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


def round_or_fail(round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise click.ClickException(f"no round {round_id}")
    return round_


@click.command("open-round")
@click.argument("round_id", type=int)
@click.option(
    "--last-day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First set the last day to answer (YYYY-MM-DD, office calendar), e.g. to reopen a "
    "round whose close date has passed; the change is kept in the round's history.",
)
@with_appcontext
def open_round(round_id: int, last_day) -> None:
    """Open a round for answers."""
    round_ = round_or_fail(round_id)
    now = utcnow()
    try:
        if last_day is not None:
            closes_at = office_time.end_of(last_day.date())
            if round_.opens_at and closes_at <= round_.opens_at:
                raise rounds.RoundError("The last day is before the round's first day.")
            rounds.update(round_, round_.name, round_.version, closes_at=closes_at)
        rounds.open_round(round_, now)
    except rounds.RoundError as error:
        db.session.rollback()
        passed = round_.closes_at is not None and round_.closes_at <= now
        hint = " (--last-day YYYY-MM-DD sets a later one)" if passed else ""
        raise click.ClickException(f"{error}{hint}") from None
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
        closed = [round_or_fail(round_id)]
        try:
            rounds.close_round(closed[0], utcnow())
        except rounds.RoundError as error:
            raise click.ClickException(str(error)) from None
    else:
        raise click.UsageError("name a round or pass --due")
    db.session.commit()
    for round_ in closed:
        held = " (figures held back: too few new responses since it last closed)"
        click.echo(f"round {round_.id} closed{held if round_.results_held else ''}")


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
    round_ = round_or_fail(round_id)
    groups = sorted({unit.group.code for unit in rounds.audience_units(round_)})
    if group is not None and group not in groups:
        # A mistyped group would otherwise issue nothing and look like success.
        raise click.ClickException(
            f"group {group!r} is not in this round's audience ({', '.join(groups)})"
        )
    made = invitations.issue_for_round(round_, count, group)
    db.session.commit()
    for line in invitations.csv_lines(round_, made):
        click.echo(line, nl=False)
    if not made:
        click.echo(
            "no invitation issued: every unit of the audience has one already; "
            "--count N issues N more per unit",
            err=True,
        )


COMMANDS = (analyse, open_round, close_round, invite)
