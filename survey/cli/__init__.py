"""Command-line tasks: ``flask --app survey <command>``, one module per area, each command a thin
wrapper over a function of the domain."""

from __future__ import annotations

from flask import Flask

from survey.cli import actions, database, demo, questionnaires, rounds, users, worker

COMMANDS = (
    *database.COMMANDS,
    *questionnaires.COMMANDS,
    *users.COMMANDS,
    *demo.COMMANDS,
    *rounds.COMMANDS,
    *actions.COMMANDS,
    *worker.COMMANDS,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
