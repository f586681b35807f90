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


def test_anonymous_rounds_lose_what_older_releases_kept_of_their_respondents(app, make_round):
    from datetime import datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import update

    from survey import invitations, responses
    from survey.models import Invitation, Response, utcnow

    anonymous, closed, named = (
        make_round(anonymous=True),
        make_round(anonymous=True),
        make_round(),
    )
    made = {}
    for round_ in (anonymous, closed, named):
        (invitation,) = invitations.issue_named(round_, "mayor,王市长,wang@sx.example")
        db.session.commit()
        response_id = responses.submit(
            invitation, {"doc_timeliness": 4}, {}, f"m{round_.id}", utcnow()
        )
        made[round_.id] = (invitation.id, response_id)
    closed.status = "closed"
    # As an older release stored them: the unit, the invitation and every time.
    at = datetime(2026, 12, 3, 14, 35, 12)
    for round_ in (anonymous, closed):
        invitation_id, response_id = made[round_.id]
        db.session.execute(
            update(Response)
            .where(Response.id == response_id)
            .values(
                invitation_id=invitation_id,
                unit_id=db.session.get(Invitation, invitation_id).unit_id,
                submitted_at=at,
            )
        )
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id)
            .values(opened_at=at, submitted_at=at, reminded_at=at, emailed_at=at)
        )
    db.session.commit()
    anonymous, closed, named = anonymous.id, closed.id, named.id
    db.session.close()
    downgrade(revision="0007")
    upgrade()

    def kept(round_id):
        invitation_id, response_id = made[round_id]
        response = db.session.get(Response, response_id)
        invitation = db.session.get(Invitation, invitation_id)
        return (
            (response.invitation_id, response.unit_id, response.submitted_at),
            (invitation.person_name, invitation.email, invitation.status),
            (invitation.opened_at, invitation.submitted_at, invitation.reminded_at),
        )

    day = datetime(2026, 12, 3)
    assert kept(anonymous) == (
        (None, None, day),
        ("王市长", "wang@sx.example", "submitted"),  # still open: its invitees may be reminded
        (None, None, None),
    )
    assert kept(closed) == ((None, None, day), (None, None, "submitted"), (None, None, None))
    named_response = kept(named)[0]
    assert named_response[0] == made[named][0] and named_response[1] is not None
    assert kept(named)[1] == ("王市长", "wang@sx.example", "submitted")


def test_actions_stored_before_0009_get_severities_on_the_new_scale(app, action):
    import math

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from survey.models import CorrectiveAction

    action_id = action.id  # 6 of 10 against 80%: the old severity was 0.2 * sqrt(10)
    db.session.commit()
    db.session.close()
    downgrade(revision="0008")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE corrective_action SET severity = 0.632"))
    upgrade()
    certainty = 0.5 * (1 + math.erf((0.2 / math.sqrt(0.8 * 0.2 / 10)) / math.sqrt(2)))
    assert db.session.get(CorrectiveAction, action_id).severity == pytest.approx(0.2 * certainty)


def test_existing_accounts_get_session_version_1_and_keep_their_password(app, make_user):
    from flask_migrate import downgrade, upgrade

    from survey.models import User
    from tests.factories import PASSWORD

    user_id = make_user(role="designer").id
    db.session.close()
    downgrade(revision="0009")
    assert "session_version" not in {
        c["name"] for c in inspect(db.engine).get_columns("user_account")
    }
    upgrade()
    user = db.session.get(User, user_id)
    assert (user.session_version, user.must_change_password) == (1, False)
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("shared", [False, True], ids=["database", "shared-folder"])
def test_0012_moves_evidence_files_into_the_storage_and_keeps_rows_whose_file_is_elsewhere(
    app, action, owner, shared, tmp_path, capsys
):
    from pathlib import Path

    from flask_migrate import downgrade, upgrade

    from survey import storage
    from survey.models import ActionAttachment, utcnow

    def attach(name: str) -> ActionAttachment:
        attachment = ActionAttachment(action=action, filename=f"{name}.pdf", stored_name=name,
                                      kind="pdf", size=5, sha256="0" * 64,
                                      uploaded_by_id=owner.id, uploaded_at=utcnow())  # fmt: skip
        db.session.add(attachment)
        return attachment

    here, elsewhere = attach("aaaa1111"), attach("bbbb2222")
    db.session.commit()
    ids = (here.id, elsewhere.id)
    db.session.close()
    downgrade(revision="0011_mail_message")
    # As releases before 0012 kept them: in this server's instance folder (one file only).
    folder = Path(app.instance_path) / "attachments"
    folder.mkdir(parents=True)
    (folder / "aaaa1111").write_bytes(b"%PDF-here")
    if shared:
        (tmp_path / "shared").mkdir()
        app.config["SHARED_FOLDER"] = str(tmp_path / "shared")
    upgrade()  # logs through alembic.ini's handler on standard error
    log = capsys.readouterr().err
    assert storage.get("attachments/aaaa1111") == b"%PDF-here"
    assert (tmp_path / "shared" / "attachments" / "aaaa1111").exists() == shared
    assert not storage.exists("attachments/bbbb2222")
    assert f"attachment {ids[1]}: " in log and "bbbb2222 is not on this server" in log
    assert [db.session.get(ActionAttachment, i).stored_name for i in ids] == [
        "aaaa1111",
        "bbbb2222",
    ]
    assert (folder / "aaaa1111").exists()  # copied, never deleted


def test_0012_downgrade_puts_evidence_from_the_database_back_in_the_instance_folder(app):
    from pathlib import Path

    from flask_migrate import downgrade, upgrade

    from survey import storage

    storage.put("attachments/cccc3333", b"%PDF-back")
    db.session.commit()
    db.session.close()
    downgrade(revision="0011_mail_message")
    assert (Path(app.instance_path) / "attachments" / "cccc3333").read_bytes() == b"%PDF-back"
    upgrade()


def test_0022_rounds_closed_before_it_have_released_their_figures(app, make_round, answer):
    """A round closed before 0022 gets its responses per group as released, so a reopening
    after the upgrade is checked against them; an open round has released nothing yet."""
    from flask_migrate import downgrade, upgrade

    from survey.models import Round

    closed = make_round(name="closed before")
    for group in ("departments", "departments", "mayors"):
        answer(closed, group, {"doc_timeliness": 4})
    closed.status = "closed"
    still_open = make_round(name="open")
    answer(still_open, "mayors", {"doc_timeliness": 4})
    ids = (closed.id, still_open.id)
    db.session.commit()
    db.session.close()
    downgrade(revision="0021_invitation_progress")
    upgrade()
    closed, still_open = (db.session.get(Round, i) for i in ids)
    assert closed.released_counts == {"departments": 2, "mayors": 1}
    assert (closed.results_held, still_open.released_counts) == (False, None)


def test_0023_packed_raw_lines_come_and_go(app, known_round):
    """The packed rows' table is made empty (a cache the worker fills) and dropped again."""
    from flask_migrate import downgrade, upgrade

    from survey.models import Round
    from survey.results import raw_store

    round_id = known_round.id
    db.session.commit()
    db.session.close()
    downgrade(revision="0022_round_release")
    assert "raw_line" not in inspect(db.engine).get_table_names()
    upgrade()
    assert "raw_line" in inspect(db.engine).get_table_names()
    with app.test_request_context():
        assert raw_store.fold(db.session.get(Round, round_id)) > 0


def test_0024_saved_tallies_are_stored_uncompressed_on_postgresql(app, known_round):
    """A snapshot is read a page at a time (survey.results.snapshots); of a compressed value
    PostgreSQL decompresses all that comes before each page, for each page. Snapshots saved
    before the upgrade are rewritten uncompressed, the same bytes. On SQLite (no column
    storage to set) the migration leaves the snapshots as they were."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    on_postgresql = db.engine.dialect.name == "postgresql"
    storage = (
        "SELECT attstorage FROM pg_attribute WHERE attrelid = 'tally_snapshot'::regclass"
        " AND attname = 'data'"
    )
    stored = "SELECT octet_length(data), pg_column_size(data), md5(data) FROM tally_snapshot"
    round_id = known_round.id
    db.session.commit()
    db.session.close()
    downgrade(revision="0023_raw_lines")
    if on_postgresql:
        assert db.session.scalar(text(storage)) == "x"  # EXTENDED: compressed when it pays
    data = bytes(range(256)) * 400  # 100 KB, compressible
    db.session.execute(
        text(
            "INSERT INTO tally_snapshot (round_id, version_id, through_id, responses, format,"
            " data, saved_at) VALUES (:id, 1, 1, 1, 3, :data, CURRENT_TIMESTAMP)"
        ),
        {"id": round_id, "data": data},
    )
    db.session.commit()
    if on_postgresql:
        size, before, digest = db.session.execute(text(stored)).one()
        assert before < size
    db.session.close()
    upgrade()
    assert bytes(db.session.scalar(text("SELECT data FROM tally_snapshot"))) == data
    if on_postgresql:
        assert db.session.scalar(text(storage)) == "e"  # EXTERNAL: out of line, uncompressed
        assert tuple(db.session.execute(text(stored)).one()) == (size, size, digest)


def test_0025_everything_there_was_belongs_to_the_first_office_and_roles_become_memberships(
    app, known_round, make_user
):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from survey import offices
    from survey.models import Membership, Office, Round, Unit

    lead_id = make_user(role="quality_lead").id
    round_id = known_round.id
    db.session.commit()
    db.session.close()
    downgrade(revision="0024_tally_uncompressed")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM user_account WHERE id = :i"), {"i": lead_id}).scalar() == "quality_lead"  # fmt: skip
    assert "office" not in inspect(db.engine).get_table_names()
    upgrade()
    (office,) = db.session.scalars(select(Office)).all()
    assert (office.id, office.code) == (1, "shaoxing")
    assert db.session.scalars(select(Membership.role).where(Membership.user_id == lead_id)).all() == ["quality_lead"]  # fmt: skip
    assert db.session.get(Round, round_id).office_id == 1
    assert {u.office_id for u in db.session.scalars(select(Unit))} == {1}
    # The codes are unique in their office now: a second office may use the same.
    second = offices.create("ningbo", "宁波", "Ningbo")
    db.session.commit()
    assert second.id == 2  # PostgreSQL's sequence follows the first office's fixed id


def test_0025_refuses_to_go_back_to_one_office_when_there_are_several(app):
    from flask_migrate import downgrade

    from survey import offices

    offices.create("ningbo", "宁波", "Ningbo")
    db.session.commit()
    db.session.close()
    # Flask-Migrate logs the migration's error ("several offices: ...") and exits.
    with pytest.raises(SystemExit):
        downgrade(revision="0024_tally_uncompressed")
    assert {"office", "membership"} <= set(inspect(db.engine).get_table_names())
