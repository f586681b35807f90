"""The background worker: ``flask --app survey worker`` runs Huey's consumer on the app's
queue (mail, reminders, closing rounds, exports), with the periodic jobs on."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey import jobs


@click.command("worker")
@click.option("--threads", default=jobs.WORKER_THREADS, show_default=True, help="Jobs run at once.")
@with_appcontext
def worker(threads: int) -> None:
    """Run the background jobs until stopped (Ctrl-C or SIGTERM finishes the jobs in hand)."""
    try:
        jobs.run_worker(threads)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


COMMANDS = (worker,)
