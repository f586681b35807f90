"""Command-line tasks: ``flask --app survey <command>``, one module per area, each command a thin
wrapper over a function of the domain."""

from __future__ import annotations

from flask import Flask

from survey.cli import actions, database, demo, offices, questionnaires, rounds, users, worker

COMMANDS = (
    *database.COMMANDS,
    *questionnaires.COMMANDS,
    *users.COMMANDS,
    *demo.COMMANDS,
    *rounds.COMMANDS,
    *actions.COMMANDS,
    *worker.COMMANDS,
)
# What works for one office; the database's commands, the worker's and the offices' own
# work for the installation.
FOR_AN_OFFICE = (
    *questionnaires.COMMANDS,
    *users.COMMANDS,
    demo.demo,
    *rounds.COMMANDS,
    *actions.COMMANDS,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        if command in FOR_AN_OFFICE and not getattr(command, "for_office", False):
            offices.for_office(command)
            command.for_office = True  # once per process: the tests build many apps
        app.cli.add_command(command)
    app.cli.add_command(offices.offices)
