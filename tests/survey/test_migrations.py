"""The schema comes from the Alembic migrations, and they match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from survey.extensions import db


def test_migrations_create_every_model_table(app):
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_differ(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_form_made_round_dates_become_days_at_the_office(app, make_round):
    from datetime import datetime

    from flask_migrate import downgrade, upgrade

    from survey.models import Round

    old = make_round(opens_at=datetime(2026, 12, 1), closes_at=datetime(2026, 12, 31, 23, 59, 59))
    by_hand = make_round(opens_at=datetime(2026, 12, 1, 3, 4, 5), closes_at=datetime(2027, 1, 5, 6))
    ids = (old.id, by_hand.id)
    db.session.commit()
    db.session.close()
    downgrade(revision="0005")  # 0006's downgrade changes nothing: run its upgrade again
    upgrade()
    old, by_hand = (db.session.get(Round, i) for i in ids)
    # Beijing: 00:00 of Dec 1 and 24:00 of Dec 31 (the form's old 08:00 and next day's 07:59).
    assert (old.opens_at, old.closes_at) == (datetime(2026, 11, 30, 16), datetime(2026, 12, 31, 16))
    assert (by_hand.opens_at, by_hand.closes_at) == (
        datetime(2026, 12, 1, 3, 4, 5),
        datetime(2027, 1, 5, 6),
    )


def test_actions_stored_before_0008_get_severities_on_the_new_scale(app, action):
    import math

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from survey.models import CorrectiveAction

    action_id = action.id  # 6 of 10 against 80%: the old severity was 0.2 * sqrt(10)
    db.session.commit()
    db.session.close()
    downgrade(revision="0007")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE corrective_action SET severity = 0.632"))
    upgrade()
    certainty = 0.5 * (1 + math.erf((0.2 / math.sqrt(0.8 * 0.2 / 10)) / math.sqrt(2)))
    assert db.session.get(CorrectiveAction, action_id).severity == pytest.approx(0.2 * certainty)
