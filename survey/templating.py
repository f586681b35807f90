"""Compiled templates kept on disk (in the instance folder), so that a fresh process renders
its first page without compiling the templates again.

Compiling the dashboard's templates (with the base and macro templates) takes a few hundred
milliseconds, the largest part of the first dashboard of a new process after the results
themselves. Jinja checks each kept template against the checksum of its source and against
its own and Python's version, so an edited template is compiled afresh; writes are atomic (a
temporary file renamed), so processes sharing the folder never read half a file.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import FileSystemBytecodeCache

FOLDER = "compiled-templates"


def init_app(app: Flask) -> None:
    folder = Path(app.instance_path) / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only instance folder: compile in each process, as before
        return
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))
