"""Template filters every page may use, registered on the app rather than on one blueprint."""

from __future__ import annotations

from flask import Flask

from survey.formatting import percent, percent_as_set


def init_app(app: Flask) -> None:
    app.add_template_filter(percent, "pct1")
    app.add_template_filter(percent_as_set, "pct")
