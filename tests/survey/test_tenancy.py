"""survey.tenancy: every ORM read of an office's rows is of the current office, every new row
is stamped with it, and no write puts a row into another office."""

from __future__ import annotations

from importlib import resources

import pytest
from sqlalchemy import delete, func, select, update

from questionnaires import DEFINITIONS_DIR, load
from survey import offices, tenancy
from survey.extensions import db
from survey.models import (
    AuditEvent,
    Invitation,
    Office,
    QuestionnaireVersion,
    RespondentGroup,
    Round,
    Unit,
)
from survey.questionnaire_store import save_version
from survey.units import import_units_csv


def _office_questionnaire():
    version = save_version(load(DEFINITIONS_DIR / "office-services.yaml"))
    import_units_csv(resources.files("survey.demo_data").joinpath("units.csv").read_text("utf-8"))
    return version


@pytest.fixture
def two(app, make_round):
    """Office A (the first) and office B, each with its questionnaire, units and a round."""
    a_round = make_round(name="Alpha round")
    b = offices.create("beta", "乙", "Beta")
    db.session.commit()
    with tenancy.office(b.id):
        b_round = Round(name="Beta round", version=_office_questionnaire(), status="open")
        db.session.add(b_round)
        db.session.commit()
    return a_round.id, b_round.id, b.id


def test_a_query_get_and_count_see_the_current_office_only(two):
    a_round, b_round, b = two
    assert db.session.scalars(select(Round.name)).all() == ["Alpha round"]
    db.session.expire_all()
    db.session.expunge_all()
    assert db.session.get(Round, b_round) is None
    assert db.session.get(Round, a_round).name == "Alpha round"
    with tenancy.office(b):
        db.session.expunge_all()
        assert db.session.scalars(select(Round.name)).all() == ["Beta round"]
        assert db.session.get(Round, a_round) is None
        assert db.session.scalar(select(func.count()).select_from(Unit)) > 0


def test_a_join_is_scoped_too(two):
    _, b_round, _ = two
    # Invitations reached through another office's round: none, though the ids exist.
    query = select(Invitation.id).join(Round, Round.id == Invitation.round_id)
    assert db.session.scalars(query.where(Round.id == b_round)).all() == []


def test_orm_update_and_delete_touch_the_current_office_only(two):
    a_round, b_round, b = two
    db.session.execute(update(Round).values(name="Renamed"))
    db.session.execute(delete(RespondentGroup).where(RespondentGroup.code == "nobody"))
    db.session.commit()
    with tenancy.unscoped():
        names = dict(db.session.execute(select(Round.id, Round.name)).all())
    assert names == {a_round: "Renamed", b_round: "Beta round"}


def test_unscoped_sees_every_office(two):
    with tenancy.unscoped():
        assert sorted(db.session.scalars(select(Round.name))) == ["Alpha round", "Beta round"]


def test_a_new_row_takes_the_office_being_worked_for(two):
    _, _, b = two
    with tenancy.office(b):
        group = RespondentGroup(code="visitors", label_zh="来访者", label_en="Visitors")
        db.session.add(group)
        db.session.commit()
        assert group.office_id == b


def test_the_same_code_may_be_used_by_two_offices(two):
    _, _, b = two
    with tenancy.office(b):
        codes_b = set(db.session.scalars(select(Unit.code)))
    codes_a = set(db.session.scalars(select(Unit.code)))
    assert codes_a & codes_b  # the questionnaire's units, made in each office


def test_a_row_made_for_another_office_is_refused(two):
    _, _, b = two
    db.session.add(RespondentGroup(code="x", label_zh="x", label_en="x", office_id=b))
    with pytest.raises(tenancy.CrossOfficeWrite):
        db.session.flush()
    db.session.rollback()


def _version_of(round_id: int, office_id: int) -> int:
    """The questionnaire version of a round of another office, read while working for it."""
    with tenancy.office(office_id):
        return db.session.get(Round, round_id).version_id


def test_a_row_cannot_refer_to_another_offices_row(two):
    a_round, b_round, b = two
    b_version = _version_of(b_round, b)
    round_ = db.session.get(Round, a_round)
    round_.version_id = b_version  # by id
    with pytest.raises(tenancy.CrossOfficeWrite, match="QuestionnaireVersion of office"):
        db.session.flush()
    db.session.rollback()
    with tenancy.unscoped():
        b_version_row = db.session.get(QuestionnaireVersion, b_version)
    db.session.add(Round(name="Mixed", version=b_version_row))  # by object
    with pytest.raises(tenancy.CrossOfficeWrite):
        db.session.flush()
    db.session.rollback()


def test_a_row_cannot_move_to_another_office(two):
    a_round, _, b = two
    round_ = db.session.get(Round, a_round)
    round_.office_id = b
    with pytest.raises(tenancy.CrossOfficeWrite):
        db.session.flush()
    db.session.rollback()


def test_without_an_office_nothing_is_read_and_nothing_written(two):
    with tenancy.office(None):
        assert db.session.scalars(select(Round)).all() == []
        db.session.add(RespondentGroup(code="y", label_zh="y", label_en="y"))
        with pytest.raises(tenancy.OfficeNotChosen):
            db.session.flush()
        db.session.rollback()
        # An event outside any office (an unknown address's failed login) is allowed.
        db.session.add(AuditEvent(actor="anonymous", action="login_failed", detail={}))
        db.session.commit()


def test_with_several_offices_and_none_chosen_nothing_is_read(two, app):
    with app.app_context():  # a new context: a command, a worker's job, with no office
        assert tenancy.several_offices()
        assert tenancy.current_office_id() is None
        assert db.session.scalars(select(Round)).all() == []
        assert len(db.session.scalars(select(Office)).all()) == 2


def test_with_one_office_a_command_works_for_it(app):
    with app.app_context():
        assert not tenancy.several_offices()
        assert tenancy.current_office_id() == db.session.scalar(select(Office.id))


def test_a_row_loaded_in_another_office_cannot_be_changed_from_this_one(two):
    a_round, b_round, b = two
    with tenancy.office(b):
        theirs = db.session.get(Round, b_round)
    theirs.name = "Changed from A"
    with pytest.raises(tenancy.CrossOfficeWrite, match="changed in office"):
        db.session.flush()
    db.session.rollback()


def test_rows_read_unscoped_leave_the_session_with_the_block(two):
    _, b_round, _ = two
    with tenancy.unscoped():
        assert db.session.get(Round, b_round) is not None
    assert db.session.get(Round, b_round) is None  # not from the identity map


def test_a_move_is_refused_after_a_commit_too(two):
    a_round, _, b = two
    round_ = db.session.get(Round, a_round)
    db.session.commit()  # office_id expired: its old value is not loaded
    with tenancy.unscoped():
        round_.office_id = b
        with pytest.raises(tenancy.CrossOfficeWrite, match="cannot move"):
            db.session.flush()
        db.session.rollback()


def test_a_reference_changed_by_id_is_checked_not_the_loaded_one(two):
    a_round, b_round, b = two
    b_version = _version_of(b_round, b)
    round_ = db.session.get(Round, a_round)
    assert round_.version.office_id == 1  # loaded
    round_.version_id = b_version
    with pytest.raises(tenancy.CrossOfficeWrite):
        db.session.flush()
    db.session.rollback()
