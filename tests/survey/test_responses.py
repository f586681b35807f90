"""Storing responses: one per invitation, whatever arrives at the same time."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import func, literal, literal_column, select, text

from survey import invitations, responses, rounds
from survey.extensions import db
from survey.models import Answer, Response, utcnow
from tests.conftest import TEST_DATABASE_URL
from tests.statements import sent_statements
from tests.survey.respond.test_views import complete_answers


def _submit_together(app, invitation, keys: list[str]) -> list[int]:
    barrier = threading.Barrier(len(keys))
    statuses: list[int] = []
    url, data = f"/r/{invitation.token}", complete_answers()

    def post(key: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(url, data={**data, "action": "submit", "submission_key": key})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    db.session.rollback()  # end the test's own read snapshot taken before the threads ran
    return statuses


def test_simultaneous_submits_of_one_invitation_store_one(app, make_invitation):
    invitation = make_invitation()
    statuses = _submit_together(app, invitation, ["k1", "k2", "k3", "k4"])
    assert sorted(statuses) == [200, 200, 200, 303]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 19


def test_double_click_with_one_key_stores_one(app, make_invitation):
    invitation = make_invitation()
    statuses = _submit_together(app, invitation, ["same", "same"])
    assert sorted(statuses) == [200, 303]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_simultaneous_submits_in_an_anonymous_round_store_one(app, make_invitation):
    # No unique invitation_id to lean on here: the conditional UPDATE alone decides.
    invitation = make_invitation(anonymous=True)
    statuses = _submit_together(app, invitation, ["a1", "a2", "a3", "a4"])
    assert sorted(statuses) == [200, 200, 200, 303]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_many_first_visits_at_once_all_get_the_page(app, make_round):
    round_ = make_round()
    links = [f"/r/{i.token}" for i in invitations.issue_for_round(round_)[:12]]
    db.session.commit()
    barrier, statuses = threading.Barrier(len(links)), []

    def visit(url: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.get(url, follow_redirects=True).status_code)

    threads = [threading.Thread(target=visit, args=(u,)) for u in links]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [200] * len(links)
    db.session.rollback()
    assert rounds.progress_of(round_).started == len(links)


def test_submit_after_submit_raises_already_submitted(app, make_invitation):
    invitation = make_invitation()
    responses.submit(invitation, {"doc_timeliness": 4}, {}, "one", utcnow())
    with pytest.raises(responses.AlreadySubmitted):
        responses.submit(invitation, {"doc_timeliness": 2}, {}, "two", utcnow())
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_a_failing_listener_of_submissions_loses_no_response(app, make_invitation, caplog):
    """A webhook (or any listener) that fails inside the submit's transaction: its writes are
    undone, the respondent's answers are stored all the same, and the failure is logged."""
    invitation = make_invitation()

    def broken(round_id, **_):
        db.session.add(Answer(response_id=-1, question_code="x"))  # a write that fails
        db.session.flush()

    with responses.response_submitted.connected_to(broken):
        responses.submit(invitation, {"doc_timeliness": 4}, {}, "one", utcnow())
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert db.session.scalars(select(Answer.value)).all() == [4]
    assert "a listener of response_submitted failed" in caplog.text


@pytest.mark.parametrize("wanted", [True, False])
def test_a_listener_that_asks_first_is_told_only_when_the_submit_concerns_it(
    app, make_invitation, wanted
):
    told = []

    @responses.asks_first(lambda round_id: wanted)
    def listener(round_id, anonymous, **_):
        told.append(round_id)

    invitation = make_invitation()
    with responses.response_submitted.connected_to(listener):
        responses.submit(invitation, {"doc_timeliness": 4}, {}, "one", utcnow())
    assert told == ([invitation.round_id] if wanted else [])
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_a_listener_whose_check_fails_is_told_all_the_same(app, make_invitation, caplog):
    told = []

    def check(round_id):
        db.session.execute(text("SELECT * FROM no_such_table"))
        return False

    @responses.asks_first(check)
    def listener(round_id, anonymous, **_):
        told.append(round_id)

    invitation = make_invitation()
    db.session.commit()
    with responses.response_submitted.connected_to(listener):
        responses.submit(invitation, {"doc_timeliness": 4}, {}, "one", utcnow())
    assert told == [invitation.round_id]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert "a listener's check failed" in caplog.text


def _statements_during(call) -> list[str]:
    with sent_statements() as seen:
        call()
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")
    return [statement for statement in seen if statement.split()[0].upper() not in control]


@pytest.mark.parametrize("wanted", [True, False])
def test_a_listener_that_asks_first_in_sql_is_asked_with_the_round_in_one_statement(
    app, make_invitation, wanted
):
    told = []

    @responses.asks_first(literal(wanted))
    def listener(round_id, anonymous, **_):
        told.append(round_id)

    invitation = make_invitation()
    ids = responses.question_ids_of(invitation.round.version_id)
    db.session.commit()
    with responses.response_submitted.connected_to(listener):
        seen = _statements_during(
            lambda: responses.submit(
                invitation, {"doc_timeliness": 4}, {}, "one", utcnow(), question_ids=ids
            )
        )
    assert told == ([invitation.round_id] if wanted else [])
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    # The round's read under lock carries the check: no statement of its own.
    writes = ["WITH"] if db.engine.dialect.name == "postgresql" else ["UPDATE", "INSERT", "INSERT"]
    # (The ORM invitation this test passes, and its round, are read again after begin_write's
    # commit; the respondent's pages pass a plain Visit.)
    reloads = ("SELECT invitation.", "SELECT survey_round.id, survey_round.name,")
    kept = [s for s in seen if not s.startswith(reloads)]
    assert [s.split()[0].upper() for s in kept] == ["SELECT", *writes], seen
    assert "AS wanted_" in kept[0]


def test_a_listener_whose_sql_check_fails_is_told_all_the_same(app, make_invitation, caplog):
    told = []

    @responses.asks_first(literal_column("no_such_column") == 1)
    def listener(round_id, anonymous, **_):
        told.append(round_id)

    invitation = make_invitation()
    db.session.commit()
    with responses.response_submitted.connected_to(listener):
        responses.submit(invitation, {"doc_timeliness": 4}, {}, "one", utcnow())
    assert told == [invitation.round_id]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert "a listener's check failed" in caplog.text


def test_unique_constraint_holds_even_without_the_status_check(app, make_invitation):
    invitation = make_invitation()
    responses.submit(invitation, {"doc_timeliness": 4}, {}, "one", utcnow())
    # Reopen the invitation behind the app's back: the database still refuses a second row,
    # and as the invitation now looks open, the caller is asked to send again.
    invitation.status = "started"
    db.session.commit()
    with pytest.raises(responses.Conflict):
        responses.submit(invitation, {"doc_timeliness": 2}, {}, "two", utcnow())
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_first_visit_draft_and_submit_record_what_they_say(app, make_invitation):
    invitation = make_invitation()
    responses.mark_opened(invitation.id)
    responses.save_draft(invitation, {"doc_timeliness": "3"}, utcnow())
    db.session.expire_all()
    assert (invitation.status, invitation.draft) == ("started", {"doc_timeliness": "3"})
    opened = invitation.opened_at
    assert opened is not None
    responses.mark_opened(invitation.id)  # a second visit keeps the first one's time
    now = utcnow()
    response_id = responses.submit(
        invitation,
        {"doc_timeliness": 4},
        {"doc_timeliness": "Minutes were late"},
        "key-1",
        now,
        source="paper",
        language="en",
    )
    db.session.expire_all()
    assert (invitation.status, invitation.draft, invitation.opened_at) == (
        "submitted",
        None,
        opened,
    )
    assert abs(invitation.submitted_at - now).total_seconds() < 1
    stored = db.session.get(Response, response_id)
    assert (
        stored.invitation_id,
        stored.unit_id,
        stored.group_id,
        stored.submission_key,
        stored.source,
        stored.language,
    ) == (invitation.id, invitation.unit_id, invitation.group_id, "key-1", "paper", "en")
    assert [(a.question_code, a.value, a.comment) for a in stored.answers] == [
        ("doc_timeliness", 4, "Minutes were late")
    ]


def test_a_submit_without_answers_stores_its_response_alone(app, make_invitation):
    # On PostgreSQL the answers come from arrays in the submit's one statement: empty ones
    # still store the response and switch the invitation.
    invitation = make_invitation()
    response_id = responses.submit(invitation, {}, {}, "empty", utcnow())
    db.session.expire_all()
    assert invitation.status == "submitted"
    assert db.session.get(Response, response_id).invitation_id == invitation.id
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    with pytest.raises(responses.AlreadySubmitted):
        responses.submit(invitation, {"doc_timeliness": 4}, {}, "again", utcnow())
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_the_first_visit_time_is_stored_like_every_other_time(app, make_invitation, monkeypatch):
    # A whole second (no microseconds) is where a time bound without its column type was stored
    # differently on SQLite: '12:00:00' instead of SQLAlchemy's '12:00:00.000000'.
    invitation = make_invitation()
    visited = datetime(2026, 11, 24, 12, 0, 0)
    monkeypatch.setattr(responses, "utcnow", lambda: visited)
    responses.mark_opened(invitation.id)
    db.session.expire_all()
    assert invitation.opened_at == visited
    if db.engine.dialect.name == "sqlite":
        stored = db.session.scalar(
            text("SELECT opened_at FROM invitation WHERE id = :id"), {"id": invitation.id}
        )
        assert stored == "2026-11-24 12:00:00.000000"


def test_an_anonymous_round_keeps_no_time_or_unit_of_a_named_invitee(app, make_round, client):
    # The promise of the survey page: "your answers are stored without your name or unit".
    round_ = make_round(anonymous=True)
    (invitation,) = invitations.issue_named(round_, "mayor,王市长,wang@sx.example")
    db.session.commit()
    page = client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True)
    assert "your answers are stored without your name or unit" in page.text
    db.session.expire_all()
    assert (invitation.status, invitation.opened_at) == ("started", None)
    responses.save_draft(invitation, {"doc_timeliness": "3"}, utcnow())
    now = utcnow()
    response_id = responses.submit(invitation, {"doc_timeliness": 4}, {}, "anon-1", now)
    db.session.expire_all()
    assert (invitation.status, invitation.opened_at, invitation.submitted_at) == (
        "submitted",
        None,
        None,
    )
    stored = db.session.get(Response, response_id)
    assert (stored.invitation_id, stored.unit_id, stored.group_id, stored.submitted_at) == (
        None,
        None,
        invitation.group_id,
        datetime(now.year, now.month, now.day),
    )


@pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="PostgreSQL: SQLite's one write lock serialises the two"
)
def test_a_close_in_progress_holds_a_submit_until_it_commits_and_then_refuses_it(
    app, make_invitation
):
    # The respondent's POST submits in one statement that commits alone; it locks the round's
    # row for share, so a close not yet committed holds it, and once the close commits the
    # submit stores nothing and says the round is closed (409). Without the lock it would
    # store a response in a round already counted as closed.
    invitation = make_invitation()
    url, data = f"/r/{invitation.token}", complete_answers()
    statuses: list[int] = []
    with db.engine.connect() as closing:
        closing.execute(
            text("UPDATE survey_round SET status = 'closed' WHERE id = :id"),
            {"id": invitation.round_id},
        )
        thread = threading.Thread(
            target=lambda: statuses.append(
                app.test_client()
                .post(url, data={**data, "action": "submit", "submission_key": "k-close"})
                .status_code
            )
        )
        thread.start()
        assert _a_backend_waits_for_a_lock(closing), "the submit did not wait for the close"
        closing.commit()
    thread.join(timeout=30)
    db.session.rollback()
    assert statuses == [409]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def _a_backend_waits_for_a_lock(connection, seconds: float = 10.0) -> bool:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.engine.connect() as watcher:
            if watcher.scalar(waiting):
                return True
        time.sleep(0.02)
    return False
