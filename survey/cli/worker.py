"""The background worker: ``flask --app survey worker`` runs Huey's consumer on the app's
queue (mail, reminders, closing rounds, exports), with the periodic jobs on."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey import jobs


@click.command("worker")
@click.option("--threads", default=jobs.WORKER_THREADS, show_default=True, help="Jobs run at once.")
@click.option(
    "--no-periodic",
    is_flag=True,
    help="Leave the schedule (closing rounds, reminders) to another worker: one per site runs it.",
)
@with_appcontext
def worker(threads: int, no_periodic: bool) -> None:
    """Run the background jobs until stopped (SIGTERM lets the jobs in hand finish first;
    Ctrl-C stops at once)."""
    try:
        jobs.run_worker(threads, periodic=not no_periodic)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


COMMANDS = (worker,)
