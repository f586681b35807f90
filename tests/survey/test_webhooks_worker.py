"""Webhooks with the real queue (Huey's SQLite storage): a web request that raises an event
only enqueues its delivery, after its commit; a worker thread posts it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from survey import jobs, webhooks
from survey.extensions import db
from survey.models import WebhookDelivery
from tests.survey.respond.test_views import complete_answers, submit
from tests.survey.test_webhooks import receiver  # noqa: F401  (the fixture)


@pytest.fixture
def app_config() -> dict:
    return {"QUEUE_IMMEDIATE": False, "WEBHOOK_ALLOW_PRIVATE": True}


def test_the_request_enqueues_and_the_worker_posts(
    app,
    receiver,  # noqa: F811
    make_user,
    client,
    make_invitation,
):
    endpoint = webhooks.create_endpoint(
        receiver.url, ["response.submitted"], "", make_user("admin")
    )
    db.session.commit()
    receiver.secret = endpoint.secret
    assert submit(client, make_invitation(), complete_answers()).status_code == 303
    assert receiver.received == [] and jobs.queue_size() == 1
    db.session.rollback()
    assert db.session.scalar(select(WebhookDelivery.status)) == "pending"

    worker = threading.Thread(target=lambda: jobs.huey.execute(jobs.huey.dequeue()))
    worker.start()
    worker.join(30)
    (got,) = receiver.received
    assert got["verified"] and got["body"]["data"]["responses"] == 1
    db.session.rollback()
    assert db.session.scalar(select(WebhookDelivery.status)) == "delivered"
