"""The Flask app of the client-satisfaction survey platform."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from flask import Flask

from survey import office_time
from survey.config import DEFAULTS, database_url, from_environment, instance_secret_key

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py and the environment, then test_config."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("SURVEY_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(from_environment(os.environ))
        app.config.from_prefixed_env("SURVEY")
    else:
        app.config.update(test_config)
    configure_database(app)
    office_time.check_calendar(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)

    register_extensions(app)
    register_listeners()
    register_blueprints(app)
    register_commands(app)
    register_error_handlers(app)
    return app


def configure_database(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = database_url(app.config.get("DATABASE_URL"), app.instance_path)
        app.config["SQLALCHEMY_DATABASE_URI"] = url


def register_extensions(app: Flask) -> None:
    from survey import (
        converters,
        database,
        filters,
        i18n,
        jobs,
        mail,
        operations,
        security,
        templating,
    )
    from survey.extensions import csrf, db, login_manager, migrate

    converters.init_app(app)
    db.init_app(app)
    # After db.init_app: teardown functions run last-registered first, so this sees the
    # request's session before Flask-SQLAlchemy removes it.
    app.teardown_appcontext(partial(database.end_read_transaction, db.session))
    csrf.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    i18n.init_app(app)
    filters.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    jobs.init_app(app)
    mail.init_app(app)
    operations.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine)


def register_listeners() -> None:
    # Imported for what they connect: the corrective-action rules run when a round closes
    # (survey.rounds.round_closed), and the action register is a section of the PDF report.
    # The webhooks hear a round's events (responses, closing, corrective actions).
    from survey import tenancy, webhooks  # noqa: F401
    from survey.corrective import report_section, rules  # noqa: F401

    # Every ORM query of an office's rows is of the current office (survey.tenancy).
    tenancy.register()


def register_blueprints(app: Flask) -> None:
    from survey import admin, auth, design, home, offices, respond
    from survey.extensions import csrf

    # Before any blueprint's own hooks: the office the request works for (survey.tenancy).
    app.before_request(offices.request_office)

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    # The survey form checks its own CSRF token, so that a stale token re-renders the page
    # with every answer kept instead of an error page that loses them.
    csrf.exempt(respond.bp)
    app.register_blueprint(respond.bp)
    app.register_blueprint(design.bp)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    app.jinja_env.globals.update(current_office=offices.current, offices_of=offices.offices_of)
    app.register_blueprint(home.bp)
    from survey import actions

    app.register_blueprint(actions.bp)
    from survey import api, review

    app.register_blueprint(review.bp)
    # The API checks CSRF itself: for requests of a browser session, not for those with a
    # token (survey.api.access).
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    from survey import feedback, public

    # The public's rating form checks the nonce it was signed with instead (survey.public).
    csrf.exempt(public.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(feedback.bp)


def register_commands(app: Flask) -> None:
    from survey import cli

    cli.init_app(app)


def register_error_handlers(app: Flask) -> None:
    from survey import errors

    errors.init_app(app)
