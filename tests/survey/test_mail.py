"""Mail: a record per message, sent through one SMTP connection per batch by the mail job, to a
real SMTP server (aiosmtpd on a free local port); failures recorded with their reason and
retried by Huey; nothing sent twice. The queue runs inline here (tests/survey/test_jobs.py has
the real one)."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from survey import invitations, jobs, mail, rounds
from survey.config import from_environment
from survey.extensions import db
from survey.models import MailMessage, utcnow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A local SMTP server that keeps what it receives, and each SMTP session that sent it."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.received: list[bytes] = []
        self.sessions: list[object] = []  # kept, so that no two share an id()
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content)
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self):
        return [message_from_bytes(raw, policy=policy.default) for raw in self.received]


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5,
        "MAIL_SENDER": "绍兴市政府办公室 <survey@sx.example>",
    }


def _records() -> list[MailMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def test_a_message_arrives_as_standard_mime_with_date_and_message_id(app, smtp):
    mail.send("password_reset", "wang@sx.example", "设置新密码 / New password", "链接 / link")
    (message,) = smtp.messages()
    assert message["To"] == "wang@sx.example"
    assert message["From"] == "绍兴市政府办公室 <survey@sx.example>"  # MAIL_SENDER, the old name
    assert message["Subject"] == "设置新密码 / New password"
    assert message["Date"] and message["Message-ID"].startswith("<")
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().strip() == "链接 / link"
    (record,) = _records()
    assert (record.status, record.attempts, record.last_error) == ("sent", 1, None)
    assert record.sent_at is not None and record.body == ""  # a password link is not kept


def test_a_batch_goes_through_one_connection(smtp, make_round):
    round_ = make_round()
    lines = "".join(f"mayor,人{i},p{i}@sx.example\n" for i in range(5))
    invitations.send(invitations.issue_named(round_, lines))
    assert len(smtp.received) == 5
    assert len(smtp.sessions) == 1
    assert {r.status for r in _records()} == {"sent"}


def test_a_worker_stopped_in_the_middle_of_a_batch_leaves_the_rest_to_send(app, smtp, monkeypatch):
    messages = [mail.queue("password_reset", f"p{i}@sx.example", "s", "b") for i in range(3)]
    db.session.commit()
    ids = [m.id for m in messages]
    made = []

    def email_then_stop(message):
        made.append(message.id)
        if len(made) == 2:  # the process is killed while the second message goes out
            raise SystemExit
        return real_email(message)

    real_email = mail._email
    monkeypatch.setattr(mail, "_email", email_then_stop)
    with pytest.raises(SystemExit):
        mail.deliver.call_local(ids)
    # Only the message in flight may have gone out: it stays "sending" (never sent twice);
    # the third was never taken, and the next job sends it.
    assert [r.status for r in _records()] == ["sent", "sending", "queued"]
    monkeypatch.setattr(mail, "_email", real_email)
    assert mail.deliver.call_local(ids) == 1
    assert [r.status for r in _records()] == ["sent", "sending", "sent"]
    assert len(smtp.received) == 2


def test_smtp_down_fails_the_records_with_the_reason_and_a_retry_sends_them(
    smtp, make_round, make_user, login_as, client
):
    smtp.stop()
    round_ = make_round()
    invitations.issue_named(round_, "mayor,甲,a@sx.example\nmayor,乙,b@sx.example\n")
    db.session.commit()
    login_as(make_user("designer"))
    response = client.post(f"/design/rounds/{round_.id}/send")
    assert response.status_code == 302  # no error page half-way through the batch
    records = _records()
    assert [r.status for r in records] == ["failed", "failed"]
    assert all("ConnectionRefusedError" in r.last_error for r in records)
    page = client.get(f"/design/rounds/{round_.id}").text
    assert "ConnectionRefusedError" in page and "a@sx.example" in page

    # Huey holds the job for a retry a minute later; the server is back by then.
    (retry,) = jobs.huey.scheduled()
    assert retry.retries == mail.RETRIES - 1
    smtp.start()
    for task in jobs.huey.read_schedule(retry.eta):
        jobs.huey.execute(task, timestamp=retry.eta)
    assert len(smtp.received) == 2
    assert [(r.status, r.attempts) for r in _records()] == [("sent", 2), ("sent", 2)]


def test_a_message_is_never_sent_twice(app, smtp):
    message = mail.queue("invitation", "wang@sx.example", "s", "b")
    db.session.commit()
    # Two jobs with the same message (a retry racing a second worker): one sends it.
    mail.deliver([message.id])
    mail.deliver([message.id])
    assert len(smtp.received) == 1
    assert _records()[0].attempts == 1


def test_pressing_send_twice_sends_each_invitation_once(
    smtp, make_round, make_user, login_as, client
):
    round_ = make_round()
    invitations.issue_named(round_, "mayor,甲,a@sx.example\n")
    db.session.commit()
    login_as(make_user("designer"))
    client.post(f"/design/rounds/{round_.id}/send")
    client.post(f"/design/rounds/{round_.id}/send")
    assert len(smtp.received) == 1 and len(_records()) == 1


def test_an_anonymous_rounds_reminder_keeps_neither_invitation_nor_address(smtp, make_round):
    round_ = make_round(anonymous=True)
    invitations.issue_named(round_, "mayor,乙,b@sx.example")
    invitations.remind(round_)
    assert len(smtp.received) == 1
    (record,) = _records()
    assert (record.kind, record.status, record.round_id) == ("reminder", "sent", round_.id)
    assert record.invitation_id is None and record.recipient == ""


def test_closing_an_anonymous_round_erases_its_mail_records_addresses(smtp, make_round):
    round_ = make_round(anonymous=True)
    invitations.send(
        invitations.issue_named(round_, "mayor,甲,a@sx.example\nmayor,乙,b@sx.example")
    )
    smtp.stop()
    invitations.remind(round_)  # fails: the reminders keep their addresses while open
    assert {(r.kind, r.status, bool(r.recipient)) for r in _records()} == {
        ("invitation", "sent", True),
        ("reminder", "failed", True),
    }
    rounds.close_round(round_, utcnow())
    db.session.commit()
    records = _records()
    # Nothing left says whom a message went to, nor who had not answered when reminded.
    assert {(r.recipient, r.body, r.invitation_id) for r in records} == {("", "", None)}
    assert not any("sx.example" in (r.last_error or "") for r in records)
    assert {r.status for r in records if r.kind == "reminder"} == {"failed"}
    assert mail.retry_failed(round_.id) == 0  # nobody to send them to


def test_a_named_rounds_reminder_keeps_its_invitation(smtp, make_round):
    round_ = make_round()
    (inv,) = invitations.issue_named(round_, "mayor,乙,b@sx.example")
    invitations.remind(round_)
    (record,) = _records()
    assert (record.invitation_id, record.recipient) == (inv.id, "b@sx.example")


def test_the_round_page_counts_the_messages_and_retries_the_failed(
    smtp, make_round, make_user, login_as, client
):
    round_ = make_round()
    invitations.issue_named(round_, "mayor,甲,a@sx.example\n")
    failed = mail.queue("reminder", "x@sx.example", "s", "b", round_id=round_.id)
    failed.status, failed.last_error = "failed", "SMTPRecipientsRefused: x@sx.example"
    db.session.commit()
    invitations.send(invitations.of_round(round_))
    login_as(make_user("designer"))
    page = client.get(f"/design/rounds/{round_.id}").text
    assert "SMTPRecipientsRefused" in page and "x@sx.example" in page
    response = client.post(f"/design/rounds/{round_.id}/mail/retry")
    assert response.status_code == 302
    assert [r.status for r in _records()] == ["sent", "sent"]
    assert len(smtp.received) == 2


def test_the_retry_also_sends_messages_whose_job_the_queue_lost(
    smtp, make_round, make_user, login_as, client
):
    round_ = make_round()
    recent = mail.queue("reminder", "recent@sx.example", "s", "b", round_id=round_.id)
    db.session.commit()
    login_as(make_user("designer"))
    page = f"/design/rounds/{round_.id}"
    assert "/mail/retry" not in client.get(page).text  # its job may still come
    lost = mail.queue("reminder", "lost@sx.example", "s", "b", round_id=round_.id)
    # Queued (committed) but never enqueued: as after a Redis restart without persistence.
    lost.queued_at = recent.queued_at - mail.LOST_AFTER - timedelta(minutes=1)
    db.session.commit()
    # Nothing failed, yet the page offers to send it.
    assert f'action="{page}/mail/retry"' in client.get(page).text
    assert client.post(f"{page}/mail/retry").status_code == 302
    # The recent one's job may still come: it is left to it.
    assert [r.status for r in _records()] == ["queued", "sent"]
    (received,) = smtp.received
    assert b"lost@sx.example" in received


def test_an_archived_rounds_failed_messages_are_not_sent_again(
    smtp, make_round, make_user, login_as, client
):
    round_ = make_round()
    failed = mail.queue("reminder", "x@sx.example", "s", "b", round_id=round_.id)
    failed.status, failed.last_error = "failed", "SMTPRecipientsRefused: x@sx.example"
    round_.archived_at = utcnow()
    db.session.commit()
    login_as(make_user("designer"))
    page = f"/design/rounds/{round_.id}"
    assert "/mail/retry" not in client.get(page).text
    assert client.post(f"{page}/mail/retry").status_code == 302
    with client.session_transaction() as session:
        assert [m for _, m in session["_flashes"]] == [str(rounds.ARCHIVED)]
    assert [r.status for r in _records()] == ["failed"]
    assert smtp.received == []


def test_the_mail_variables_are_read_from_the_environment():
    found = from_environment(
        {
            "MAIL_SERVER": "smtp.sx.example",
            "MAIL_PORT": "465",
            "MAIL_USE_SSL": "true",
            "MAIL_USE_TLS": "false",
            "MAIL_DEFAULT_SENDER": "survey@sx.example",
        }
    )
    assert found == {
        "MAIL_SERVER": "smtp.sx.example",
        "MAIL_PORT": 465,
        "MAIL_USE_SSL": True,
        "MAIL_USE_TLS": False,
        "MAIL_DEFAULT_SENDER": "survey@sx.example",
    }


def test_ssl_settings_reach_the_smtp_connection(app):
    app.config.update(MAIL_USE_SSL=True, MAIL_PORT=465)
    mail.init_app(app)
    connection = mail.mail.get_connection()
    assert connection.use_ssl and connection.port == 465
    assert connection.connection_class.__name__ == "SMTP_SSL"


def test_a_password_link_with_smtp_down_answers_as_usual_and_records_why(smtp, make_user, client):
    smtp.stop()
    user = make_user(role="designer")
    db.session.commit()
    response = client.post("/password/forgot", data={"email": user.email})
    assert response.status_code == 302
    (record,) = _records()
    assert (record.kind, record.recipient, record.status) == (
        "password_reset",
        user.email,
        "failed",
    )
    assert "ConnectionRefusedError" in record.last_error
