"""create_app(): configuration sources and the SQLite connection settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from survey import create_app
from survey.config import database_url
from survey.database import default_begin_mode
from survey.extensions import db


def test_test_config_is_used(app):
    assert app.testing
    assert app.config["BASE_URL"] == "https://survey.test"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "sqlite:////srv/instance/survey.sqlite"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_url_defaults_to_sqlite_and_points_postgres_at_psycopg(raw, expected):
    assert database_url(raw, "/srv/instance") == expected


def test_environment_overrides_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/other.sqlite")
    monkeypatch.setenv("BASE_URL", "https://survey.example.gov.cn")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/other.sqlite"
    assert app.config["BASE_URL"] == "https://survey.example.gov.cn"
    assert app.config["SECRET_KEY"] == "from-env"


def test_instance_config_file_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    for name in ("DATABASE_URL", "SECRET_KEY", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config.py").write_text('BASE_URL = "https://from-file.example"\n')
    app = create_app()
    assert app.config["BASE_URL"] == "https://from-file.example"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/survey.sqlite"


def test_secret_key_is_made_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    assert len(first) == 64
    assert create_app().config["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_connections_are_set_for_concurrent_writes(app):
    if db.engine.dialect.name != "sqlite":  # the PostgreSQL run: the one driver we install
        assert db.engine.dialect.driver == "psycopg"
        return
    with db.engine.connect() as conn:
        pragmas = [
            conn.execute(text(f"PRAGMA {p}")).scalar()
            for p in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        ]
    assert pragmas == ["wal", 2, 5000, 1]


@pytest.mark.parametrize(
    ("method", "mode"),
    [("GET", "DEFERRED"), ("HEAD", "DEFERRED"), ("POST", "IMMEDIATE"), ("PUT", "IMMEDIATE")],
)
def test_write_requests_begin_immediate_transactions(app, method, mode):
    with app.test_request_context("/", method=method):
        assert default_begin_mode() == mode


def test_the_mail_settings_the_readme_lists_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    for name, value in {"MAIL_SERVER": "smtp.sx.example", "MAIL_PORT": "2525",
                        "MAIL_USE_TLS": "false", "MAIL_USERNAME": "survey",
                        "MAIL_PASSWORD": "secret", "MAIL_SENDER": "survey@sx.example"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    config = create_app().config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"]) == (
        "smtp.sx.example", 2525, False
    )  # fmt: skip
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"], config["MAIL_SENDER"]) == (
        "survey", "secret", "survey@sx.example"
    )  # fmt: skip
    monkeypatch.setenv("MAIL_USE_TLS", "yes")
    assert create_app().config["MAIL_USE_TLS"] is True
