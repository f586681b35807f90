"""Review (issue 20): asks_first asks the webhook listener before the write lock; an endpoint
subscribed between that question and the submit's commit misses the response."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import jobs, responses
from survey.database import reads_only
from survey.extensions import db
from survey.models import WebhookDelivery, WebhookEndpoint, utcnow


@pytest.fixture
def no_sending(monkeypatch):
    # Only the outbox record matters here, not the post.
    from survey import webhooks

    monkeypatch.setattr(webhooks, "deliver", lambda *a, **k: None, raising=False)
    monkeypatch.setattr(jobs, "enqueue", lambda *a, **k: None, raising=False)


def _subscribe(admin) -> None:
    """Another request (the administrator's) commits an endpoint for response.submitted."""
    with db.engine.begin() as connection:
        connection.execute(
            WebhookEndpoint.__table__.insert().values(
                url="https://receiver.example/hook", events=["response.submitted"], office_id=1,
                description="OA", secret="whsec_x", active=True,
                created_by_id=admin.id, created_at=utcnow(),
            )
        )  # fmt: skip


@pytest.mark.usefixtures("no_sending")
def test_an_endpoint_subscribed_before_the_submit_writes_gets_its_event(
    make_round, make_invitation, make_user, monkeypatch
):
    round_ = make_round()
    invitation = make_invitation(group="departments", round_=round_)
    admin = make_user("admin")
    original = responses.begin_write

    def another_request_subscribes_first(session, *args, **kwargs):
        # The administrator's request commits the endpoint after the submit asked whether
        # anyone listens, before it takes the write lock (on SQLite it may wait seconds for
        # the lock behind other submits; on PostgreSQL it reads on at READ COMMITTED).
        _subscribe(admin)
        return original(session, *args, **kwargs)

    monkeypatch.setattr(responses, "begin_write", another_request_subscribes_first)
    db.session.commit()  # the respondent's request starts now
    response_id = responses.submit(invitation, {"overall": 4}, {}, "k-review-1", utcnow())
    assert response_id
    deliveries = db.session.scalars(select(WebhookDelivery)).all()
    # The endpoint existed (committed) before this response was written and committed: the
    # outbox promises "one committed is never lost".
    assert [d.event for d in deliveries] == ["response.submitted"]


@pytest.mark.usefixtures("no_sending")
def test_control_an_endpoint_subscribed_earlier_gets_the_event(
    make_round, make_invitation, make_user
):
    round_ = make_round()
    invitation = make_invitation(group="departments", round_=round_)
    _subscribe(make_user("admin"))
    db.session.commit()  # the respondent's request begins after the endpoint was committed
    responses.submit(invitation, {"overall": 4}, {}, "k-review-2", utcnow())
    deliveries = db.session.scalars(select(WebhookDelivery)).all()
    assert [d.event for d in deliveries] == ["response.submitted"]


@pytest.mark.usefixtures("no_sending")
def test_an_endpoint_subscribed_before_a_submit_in_one_statement_gets_its_event(
    make_round, make_invitation, make_user, monkeypatch
):
    # The respondent's POST on PostgreSQL reads in autocommit and submits in one statement
    # that commits alone (survey.responses._submit_alone): the endpoint committed after the
    # request read the invitation, before the store, is told of this response all the same
    # (the one statement stores nothing when someone listens; the transaction then tells).
    invitation = make_invitation(group="departments", round_=make_round())
    admin = make_user("admin")
    prepare = responses._answer_rows

    def another_request_subscribes_first(*args):
        _subscribe(admin)
        return prepare(*args)

    monkeypatch.setattr(responses, "_answer_rows", another_request_subscribes_first)
    db.session.commit()  # the respondent's request starts now
    reads_only(db.session)
    response_id = responses.submit(invitation, {"overall": 4}, {}, "k-review-3", utcnow())
    assert response_id
    deliveries = db.session.scalars(select(WebhookDelivery)).all()
    assert [d.event for d in deliveries] == ["response.submitted"]
