"""Invitations: unique unguessable links, CSV, e-mail, reminders, revoking."""

from __future__ import annotations

import csv
import io

import pytest

from survey import invitations, responses
from survey.extensions import db
from survey.mail import outbox_dir
from survey.models import utcnow


def test_issuing_twice_gives_each_unit_one_invitation(make_round):
    round_ = make_round()
    assert len(invitations.issue_for_round(round_)) == 32
    assert invitations.issue_for_round(round_) == []
    assert len(invitations.issue_for_round(round_, count=2, group="cppcc")) == 2


def test_tokens_are_unique_and_long(make_round):
    round_ = make_round()
    made = invitations.issue_for_round(round_, count=3)
    tokens = {i.token for i in made}
    assert len(tokens) == len(made) == 96
    assert min(len(t) for t in tokens) >= 43  # 32 random bytes, base64url


def test_named_people_are_checked_line_by_line(make_round):
    round_ = make_round()
    made = invitations.issue_named(round_, "mayor,王市长,wang@sx.example\ndept_finance,李科长\n")
    assert [(i.unit.code, i.person_name, i.email) for i in made] == [
        ("mayor", "王市长", "wang@sx.example"),
        ("dept_finance", "李科长", None),
    ]
    with pytest.raises(invitations.InvitationError) as error:
        invitations.issue_named(round_, "mayor,甲\nnowhere,乙\n")
    assert error.value.line == 2


def test_csv_has_a_header_and_a_link_per_invitation(make_round):
    round_ = make_round()
    made = invitations.issue_for_round(round_, group="mayors")
    rows = list(csv.reader(io.StringIO("".join(invitations.csv_lines(round_, made)))))
    assert rows[0] == list(invitations.CSV_HEADER)
    assert len(rows) == 8
    assert all(r[-1].startswith("https://survey.test/r/") for r in rows[1:])


def test_email_goes_to_the_outbox_without_a_mail_server(make_round):
    round_ = make_round()
    made = invitations.issue_named(round_, "mayor,王市长,wang@sx.example\nmayor,无邮箱\n")
    assert invitations.send(made).queued == 1
    (message,) = outbox_dir().glob("*.eml")
    text = message.read_text()
    assert "wang@sx.example" in text and made[0].token in text


def test_reminders_go_only_to_those_who_have_not_submitted(make_round):
    round_ = make_round()
    done, waiting = invitations.issue_named(round_, "mayor,甲,a@sx.example\nmayor,乙,b@sx.example")
    responses.submit(done, {"doc_timeliness": 5}, {}, "k", utcnow())
    assert invitations.remind(round_).queued == 1
    assert "b@sx.example" in next(outbox_dir().glob("*.eml")).read_text("utf-8")
    assert waiting.reminded_at is not None and done.reminded_at is None


def test_revoked_invitation_cannot_answer(make_invitation, client):
    invitation = make_invitation()
    invitations.revoke(invitation)
    db.session.commit()
    assert client.get(f"/r/{invitation.token}").status_code == 404


def test_a_submitted_invitation_cannot_be_revoked(make_invitation):
    invitation = make_invitation()
    responses.submit(invitation, {"doc_timeliness": 5}, {}, "k", utcnow())
    with pytest.raises(invitations.InvitationError):
        invitations.revoke(invitation)


@pytest.mark.parametrize(
    "email",
    [
        "wang@sx.example, li@sx.example",
        "wang@sx.example\r\nBcc: li@sx.example",
        "wang@sx.example li@sx.example",
        "wang@",
        "@sx.example",
        "wang",
    ],
)
def test_a_named_invitation_takes_exactly_one_valid_address(make_round, email):
    round_ = make_round()
    field = '"' + email + '"'
    with pytest.raises(invitations.InvitationError) as error:
        invitations.issue_named(
            round_, f"dept_finance,李科长,wang@sx.example\nmayor,王市长,{field}\n"
        )
    assert error.value.line == 2 and invitations.of_round(round_) == []


def test_an_address_is_kept_normalised(make_round):
    made = invitations.issue_named(make_round(), "mayor,王市长, Wang@SX.Example \n")
    assert made[0].email == "Wang@sx.example"


def test_e_mailing_the_invitations_twice_sends_each_once(make_round):
    round_ = make_round()
    made = invitations.issue_named(round_, "mayor,王市长,wang@sx.example\nmayor,无邮箱\n")
    first, again = invitations.send(made), invitations.send(made)
    assert (first.queued, first.no_address, first.already) == (1, 1, 0)
    assert (again.queued, again.no_address, again.already) == (0, 1, 1)
    assert len(list(outbox_dir().glob("*.eml"))) == 1 and made[0].emailed_at is not None


def test_a_reminder_report_says_who_could_not_be_reminded(make_round):
    round_ = make_round()
    invitations.issue_for_round(round_)  # one invitation per unit, none with an address
    invitations.issue_named(round_, "mayor,王市长,wang@sx.example")
    report = invitations.remind(round_)
    assert report.queued == 1 and report.no_address == len(invitations.of_round(round_)) - 1


def test_reminders_of_an_anonymous_round_keep_no_time(make_round):
    # Who was still being reminded when would say who answered after it.
    round_ = make_round(anonymous=True)
    (waiting,) = invitations.issue_named(round_, "mayor,乙,b@sx.example")
    assert invitations.remind(round_).queued == 1
    assert waiting.reminded_at is None
