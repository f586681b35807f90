"""Compiled templates are kept in the instance folder: a second process renders without
compiling them again (survey.templating)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from survey import create_app, templating


def test_a_new_app_renders_the_templates_compiled_by_another(app, monkeypatch):
    assert app.test_client().get("/login?lang=en").status_code == 200
    assert list((Path(app.instance_path) / templating.FOLDER).iterdir())

    second = create_app(dict(app.config))
    assert second.instance_path == app.instance_path

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    response = second.test_client().get("/login?lang=en")
    assert response.status_code == 200
    assert b"<form" in response.data
