"""Fixtures shared by the app's tests: an app on a fresh database per test, clients, factories.

The schema is built once per session through the Alembic migrations (never create_all), then
each test gets a copy: a copied SQLite file, or on PostgreSQL (TEST_DATABASE_URL set) the same
database emptied after the test.
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from survey import create_app
from survey.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The factories (users, rounds, answers, actions) for every test.
pytest_plugins = ["tests.factories"]


def _config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "https://survey.test",
        "PROPAGATE_EXCEPTIONS": True,
        **extra,
    }


def _migrate(url: str) -> None:
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    # The schema is dropped: refuse anything that is not plainly a test database.
    if "test" not in (engine.url.database or ""):
        raise RuntimeError(f"TEST_DATABASE_URL must name a test database, not {engine.url!r}")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """The URL of a database migrated to head, built once per test session."""
    if TEST_DATABASE_URL:
        _reset_postgres(TEST_DATABASE_URL)
        _migrate(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if TEST_DATABASE_URL:
        yield TEST_DATABASE_URL
        _truncate_all(TEST_DATABASE_URL)
        return
    copy = tmp_path / "survey.sqlite"
    shutil.copyfile(database_template, copy)
    yield f"sqlite:///{copy}"


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The first office, as the migration 0025_offices made it: every test starts with it.
        conn.execute(
            text(
                "INSERT INTO office (code, name_zh, name_en, position, created_at)"
                " VALUES ('shaoxing', '绍兴市人民政府办公室', 'Shaoxing Municipal Government Office',"
                " 0, now())"
            )
        )
    engine.dispose()


@pytest.fixture
def app_config() -> dict:
    """Extra configuration for the `app` fixture; override in a module to change it."""
    return {}


class IsolatedClient(FlaskClient):
    """A test client whose requests run as a separate process would see them.

    The test itself holds an app context (and so a session) to set up and inspect data; Flask
    would reuse that context, and its session, for the request. Each request here runs in an
    empty context instead, so it gets its own session and transaction, and afterwards the test's
    session ends its transaction: it then sees what the request committed and holds no stale
    SQLite snapshot that would make its next write fail.
    """

    def open(self, *args, **kwargs):
        # Buffered: a streamed body is read inside the request's own context too.
        kwargs.setdefault("buffered", True)
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not so in a thread a concurrency test starts
            db.session.rollback()
        return response


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch, app_config: dict) -> Iterator[Flask]:
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(_config(database_url, **app_config))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()
