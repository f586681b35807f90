"""Round lifecycle and response tracking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from survey import responses, rounds
from survey.extensions import db
from survey.models import Invitation, utcnow


def test_creating_a_round_freezes_its_version(office_version):
    assert office_version.frozen_at is None
    round_ = rounds.create("2005 spring", office_version)
    assert round_.status == "draft" and office_version.frozen_at is not None
    assert round_.thresholds == {"rate": 0.8, "mean": 3.5}


def test_a_draft_version_cannot_be_used(office_version):
    office_version.status = "draft"
    with pytest.raises(rounds.RoundError):
        rounds.create("2005 spring", office_version)


def test_groups_the_version_does_not_address_are_refused(office_version):
    with pytest.raises(rounds.RoundError, match="residents"):
        rounds.create("r", office_version, audience_groups=["mayors", "residents"])


def test_open_and_close(office_version):
    round_ = rounds.create("r", office_version)
    now = utcnow()
    rounds.open_round(round_, now)
    assert round_.accepts_answers(now)
    with pytest.raises(rounds.RoundError):
        rounds.open_round(round_, now)
    rounds.close_round(round_, now)
    assert round_.status == "closed" and not round_.accepts_answers(now)
    with pytest.raises(rounds.RoundError):
        rounds.close_round(round_, now)


def test_rounds_past_their_close_date_are_closed(make_round):
    past = make_round(closes_at=utcnow() - timedelta(hours=1))
    current = make_round(name="current")
    assert rounds.close_due_rounds(utcnow()) == [past]
    assert (past.status, current.status) == ("closed", "open")


def test_audience_defaults_to_every_unit_of_the_versions_groups(make_round):
    assert len(rounds.audience_units(make_round())) == 32
    assert len(rounds.audience_units(make_round(audience_groups=["mayors"]))) == 7
    chosen = rounds.audience_units(make_round(audience_units=["mayor", "dept_finance"]))
    assert sorted(u.code for u in chosen) == ["dept_finance", "mayor"]


def test_progress_counts_match_the_invitations(make_invitation):
    first = make_invitation(group="mayors")
    round_ = first.round
    second = make_invitation(group="mayors", round_=round_)
    third = make_invitation(group="departments", round_=round_)
    revoked = make_invitation(group="departments", round_=round_)
    revoked.status, second.status = "revoked", "started"
    db.session.commit()
    responses.submit(third, {"doc_timeliness": 4}, {}, "k", utcnow())
    assert rounds.progress_of(round_) == rounds.Progress(invited=3, started=2, submitted=1)
    by_group = {g.code: p for g, p in rounds.progress_by_group(round_)}
    assert by_group["mayors"] == rounds.Progress(2, 1, 0)
    assert by_group["departments"].rate == 1.0
    assert rounds.progress_by_round()[round_.id].submitted == 1


def test_progress_is_counted_from_the_invitations_index(make_invitation):
    """The counts per status (read from the index alone) equal the sums they replace, and a
    group whose invitations are all revoked is not listed, as before."""
    first = make_invitation(group="mayors")
    round_ = first.round
    others = [make_invitation(group=g, round_=round_) for g in ("mayors", "cppcc", "cppcc")]
    others[0].status, others[1].status, others[2].status = "started", "revoked", "revoked"
    db.session.commit()
    summed = {
        row[0]: rounds._progress(row)
        for row in db.session.execute(
            rounds._progress_query(Invitation.group_id).where(Invitation.round_id == round_.id)
        )
    }
    by_group = {g.id: p for g, p in rounds.progress_by_group(round_)}
    assert by_group == summed
    assert [g.code for g, _ in rounds.progress_by_group(round_)] == ["mayors"]
    assert rounds.progress_by_round()[round_.id] == rounds.Progress(2, 1, 0)
    statement = (
        select(Invitation.group_id, Invitation.status, func.count())
        .where(Invitation.round_id == round_.id, Invitation.status != "revoked")
        .group_by(Invitation.group_id, Invitation.status)
    )
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        assert "COVERING INDEX ix_invitation_round_progress" in " ".join(str(r[-1]) for r in plan)
    else:  # PostgreSQL: a few rows, so keep it from reading the table instead
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(str(r[0]) for r in db.session.execute(text(f"EXPLAIN {compiled}")))
        assert "ix_invitation_round_progress" in plan
        db.session.rollback()


# --- the order of rounds -------------------------------------------------------------------


@pytest.fixture
def answered(make_invitation):
    """Give a round one submitted response."""

    def answer(round_) -> None:
        invitation = make_invitation(group="departments", round_=round_)
        responses.submit(invitation, {"doc_timeliness": 4}, {}, f"k{round_.id}", utcnow())
        db.session.commit()

    return answer


def test_the_previous_round_is_the_latest_earlier_one_with_responses(make_round, answered):
    def ran(name: str, days: int, status: str = "closed", responses: bool = True):
        round_ = make_round(name=name)
        if responses:
            answered(round_)
        # Set after the answers: a draft or a future round accepts none.
        round_.opens_at, round_.status = utcnow() + timedelta(days=days), status
        db.session.commit()
        return round_

    old, last = ran("2002", -700), ran("2003", -300)
    silent = ran("2003 autumn", -200, responses=False)
    ran("draft", -100, status="draft")
    current, later = ran("2004", -1, status="open"), ran("2005", 300, status="open")
    # A round without responses and a draft are never "last time"; nor is a round still
    # open, whose figures are sealed until it closes (survey.results.sealing).
    assert [r.name for r in rounds.earlier_rounds(current)] == ["2003", "2002"]
    assert rounds.previous_round(current) == last and rounds.previous_round(old) is None
    assert rounds.earlier_rounds(later, limit=1) == [last]
    current.status = "closed"
    assert rounds.earlier_rounds(later, limit=1) == [current]
    assert rounds.next_round(last) == silent and rounds.next_round(later) is None
    assert [r.name for r in rounds.in_order(current)] == [
        "2002", "2003", "2003 autumn", "2004", "2005"
    ]  # fmt: skip


# --- changing a round ---------------------------------------------------------------------


@pytest.fixture
def in_request(app):
    """The refusals are translated messages, read in a request (in English here: the office's
    default language is Chinese)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _settings(round_, **changed) -> dict:
    settings = {
        key: getattr(round_, key)
        for key in ("opens_at", "closes_at", "anonymous", "anonymity_threshold", "thresholds")
    }
    settings.update(weights=round_.weights, audience_groups=[], audience_units=[])
    return settings | changed


def test_a_change_is_applied_and_recorded_old_to_new(make_round):
    round_ = make_round(status="draft", thresholds={"rate": 0.8, "mean": 3.5})
    changes = rounds.update(
        round_,
        "2005 spring",
        round_.version,
        **_settings(round_, thresholds={"rate": 0.9, "mean": 3.5}),
    )
    assert round_.thresholds == {"rate": 0.9, "mean": 3.5} and round_.name == "2005 spring"
    assert set(changes) == {"name", "thresholds"}
    [event] = rounds.history(round_)
    assert event.action == "round_changed"
    assert event.detail["changes"]["thresholds"] == [
        {"rate": 0.8, "mean": 3.5},
        {"rate": 0.9, "mean": 3.5},
    ]


def test_saving_without_a_change_records_nothing(make_round):
    round_ = make_round(status="draft", thresholds={"rate": 0.8, "mean": 3.5})
    assert rounds.update(round_, round_.name, round_.version, **_settings(round_)) == {}
    assert rounds.history(round_) == []


def test_dates_are_recorded_as_text(make_round):
    round_ = make_round(status="draft")
    later = round_.closes_at + timedelta(days=7)
    rounds.update(round_, round_.name, round_.version, **_settings(round_, closes_at=later))
    old, new = rounds.history(round_)[0].detail["changes"]["closes_at"]
    assert new == later.isoformat() and old < new


def test_an_anonymous_round_with_responses_stays_anonymous(make_invitation, in_request):
    invitation = make_invitation(anonymous=True)
    responses.submit(invitation, {"overall": 4}, {}, "k1", utcnow())
    round_ = invitation.round
    with pytest.raises(rounds.RoundError, match="cannot become a named round"):
        rounds.update(round_, round_.name, round_.version, **_settings(round_, anonymous=False))
    assert round_.anonymous and rounds.history(round_) == []


def test_the_anonymity_threshold_of_a_round_with_responses_can_rise_but_not_fall(
    make_invitation, in_request
):
    invitation = make_invitation(anonymity_threshold=5)
    responses.submit(invitation, {"overall": 4}, {}, "k1", utcnow())
    round_ = invitation.round
    with pytest.raises(rounds.RoundError, match="cannot be lowered below 5"):
        rounds.update(
            round_, round_.name, round_.version, **_settings(round_, anonymity_threshold=3)
        )
    rounds.update(round_, round_.name, round_.version, **_settings(round_, anonymity_threshold=8))
    assert round_.anonymity_threshold == 8


@pytest.mark.parametrize("status", ["open", "closed"])
def test_an_opened_round_keeps_its_promises_before_anyone_has_answered(make_round, status):
    # Respondents may have read "anonymous" on the survey page and saved a draft.
    round_ = make_round(status=status, anonymous=True, anonymity_threshold=5)
    for change in ({"anonymous": False}, {"anonymity_threshold": 3}):
        with pytest.raises(rounds.RoundError, match="Respondents were told"):
            rounds.update(round_, round_.name, round_.version, **_settings(round_, **change))
    assert (round_.anonymous, round_.anonymity_threshold) == (True, 5)


def test_a_round_without_responses_may_become_named_or_lower_its_threshold(make_round):
    round_ = make_round(status="draft", anonymous=True, anonymity_threshold=5)
    rounds.update(
        round_,
        round_.name,
        round_.version,
        **_settings(round_, anonymous=False, anonymity_threshold=3),
    )
    assert (round_.anonymous, round_.anonymity_threshold) == (False, 3)


def test_the_version_of_a_round_with_responses_cannot_change(
    make_invitation, in_request, office_version
):
    from questionnaires import DEFINITIONS_DIR, load
    from survey.questionnaire_store import save_version

    invitation = make_invitation()
    responses.submit(invitation, {"overall": 4}, {}, "k1", utcnow())
    newer = save_version(load(DEFINITIONS_DIR / "city-residents.yaml"))
    round_ = invitation.round
    with pytest.raises(rounds.RoundError, match="version cannot change"):
        rounds.update(round_, round_.name, newer, **_settings(round_, audience_groups=[]))
    assert round_.version_id == office_version.id


def test_reopening_after_a_later_close_date(make_round, in_request):
    now = utcnow()
    round_ = make_round(status="closed", closes_at=now - timedelta(days=1))
    with pytest.raises(rounds.RoundError, match="set a later close date"):
        rounds.open_round(round_, now)
    rounds.update(
        round_, round_.name, round_.version, **_settings(round_, closes_at=now + timedelta(days=5))
    )
    rounds.open_round(round_, now)
    assert round_.status == "open"
    assert [e.action for e in rounds.history(round_)] == ["round_changed", "round_opened"]


def test_a_draft_round_nobody_answered_can_be_deleted(make_invitation):
    invitation = make_invitation(status="draft")
    round_id = invitation.round_id
    rounds.delete(invitation.round)
    db.session.commit()
    from survey.models import AuditEvent, Invitation, Round

    assert db.session.get(Round, round_id) is None
    assert db.session.scalar(select(Invitation).where(Invitation.round_id == round_id)) is None
    assert (
        db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()))
        == "round_deleted"
    )


def test_a_deleted_draft_rounds_exported_files_go_with_it(make_round):
    from survey import storage
    from survey.models import ResultExport

    round_ = make_round(status="draft")
    storage.put("exports/draft-report.pdf", b"%PDF-1.7 a report of nobody's answers")
    db.session.add(
        ResultExport(
            round_id=round_.id,
            kind="pdf",
            language="zh",
            fingerprint="f" * 64,
            status="done",
            storage_key="exports/draft-report.pdf",
        )
    )
    db.session.commit()
    rounds.delete(round_)
    db.session.commit()
    assert db.session.scalars(select(ResultExport)).all() == []
    assert not storage.exists("exports/draft-report.pdf")


def test_a_new_round_does_not_inherit_the_history_of_a_deleted_one(make_round):
    from survey import audit

    old = make_round(status="draft")
    audit.record("round_changed", target=f"round:{old.id}", changes={"name": ["a", "b"]})
    rounds.delete(old)
    db.session.commit()
    new = make_round(status="draft")
    # SQLite hands the deleted round's id to the next one; PostgreSQL does not.
    audit.record("round_opened", target=f"round:{new.id}")
    db.session.commit()
    assert [e.action for e in rounds.history(new)] == ["round_opened"]


def test_a_round_that_ran_or_has_responses_cannot_be_deleted(
    make_invitation, in_request, make_round
):
    with pytest.raises(rounds.RoundError, match="Only a draft round can be deleted"):
        rounds.delete(make_round(status="closed"))
    invitation = make_invitation(status="open")
    responses.submit(invitation, {"overall": 4}, {}, "k1", utcnow())
    invitation.round.status = "draft"
    with pytest.raises(rounds.RoundError, match="has responses"):
        rounds.delete(invitation.round)


def test_a_round_on_the_default_thresholds_records_them_as_the_old_value(make_round):
    round_ = make_round(status="draft", thresholds={})
    rounds.update(
        round_, round_.name, round_.version, **_settings(round_, thresholds={"rate": 0.85})
    )
    old, new = rounds.history(round_)[0].detail["changes"]["thresholds"]
    assert old == {"rate": 0.8, "mean": 3.5} and new == {"rate": 0.85, "mean": 3.5}


def test_thresholds_the_form_does_not_show_are_kept(make_round):
    round_ = make_round(status="draft", thresholds={"rate": 0.8, "mean": 3.5, "alpha": 0.01})
    rounds.update(
        round_,
        round_.name,
        round_.version,
        **_settings(round_, thresholds={"rate": 0.9, "mean": 3.5}),
    )
    assert round_.thresholds == {"rate": 0.9, "mean": 3.5, "alpha": 0.01}


# --- archiving ------------------------------------------------------------------------------


def test_a_closed_round_is_archived_out_of_the_lists_and_back(make_round, in_request):
    round_ = make_round(status="closed")
    kept = make_round(status="closed", name="2005 spring")
    rounds.archive(round_, utcnow())
    assert list(db.session.scalars(rounds.newest_first())) == [kept]
    assert list(db.session.scalars(rounds.newest_first(archived=True))) == [round_]
    rounds.unarchive(round_, utcnow())
    assert round_.archived_at is None and len(db.session.scalars(rounds.newest_first()).all()) == 2
    assert [e.action for e in rounds.history(round_)] == ["round_archived", "round_unarchived"]


def test_only_a_closed_round_is_archived(make_round, in_request):
    for status in ("draft", "open"):
        with pytest.raises(rounds.RoundError, match="Only a closed round"):
            rounds.archive(make_round(status=status), utcnow())


def test_an_archived_round_is_read_only(make_round, in_request):
    round_ = make_round(status="closed", closes_at=utcnow() + timedelta(days=3))
    rounds.archive(round_, utcnow())
    with pytest.raises(rounds.RoundError, match="archived"):
        rounds.open_round(round_, utcnow())
    with pytest.raises(rounds.RoundError, match="archived"):
        rounds.update(round_, "renamed", round_.version, **_settings(round_))
    assert (round_.status, round_.name) == ("closed", "2004 autumn")


def test_closing_an_anonymous_round_forgets_who_its_invitees_were(make_round):
    from survey import invitations

    round_ = make_round(anonymous=True)
    done, waiting = invitations.issue_named(round_, "mayor,甲,a@sx.example\nmayor,乙,b@sx.example")
    invitations.send([done, waiting])
    responses.save_draft(waiting, {"doc_timeliness": "2"}, utcnow())
    responses.submit(done, {"doc_timeliness": 5}, {}, "k", utcnow())
    rounds.close_round(round_, utcnow())
    db.session.commit()
    db.session.expire_all()
    kept = [
        (i.unit.code, i.status, i.person_name, i.email, i.emailed_at, i.opened_at, i.draft)
        for i in (done, waiting)
    ]
    assert kept == [
        ("mayor", "submitted", None, None, None, None, None),
        ("mayor", "started", None, None, None, None, None),
    ]
    assert rounds.progress_of(round_) == rounds.Progress(2, 2, 1)


def test_a_named_round_keeps_its_invitees_when_it_closes(make_round):
    from survey import invitations

    round_ = make_round()
    (invitation,) = invitations.issue_named(round_, "mayor,甲,a@sx.example")
    rounds.close_round(round_, utcnow())
    db.session.commit()
    assert (invitation.person_name, invitation.email) == ("甲", "a@sx.example")


def test_a_round_answered_by_units_cannot_become_anonymous(make_invitation, in_request):
    invitation = make_invitation()
    responses.submit(invitation, {"doc_timeliness": 4}, {}, "named-1", utcnow())
    round_ = invitation.round
    with pytest.raises(rounds.RoundError, match="cannot become anonymous"):
        rounds.update(round_, round_.name, round_.version, **_settings(round_, anonymous=True))
    assert not round_.anonymous and rounds.history(round_) == []


def test_a_closed_round_made_anonymous_forgets_its_invitees_at_once(make_round, in_request):
    from survey import invitations

    round_ = make_round(status="closed")
    (invitation,) = invitations.issue_named(round_, "mayor,甲,a@sx.example")
    db.session.commit()
    rounds.update(round_, round_.name, round_.version, **_settings(round_, anonymous=True))
    db.session.commit()
    db.session.expire_all()
    assert (invitation.person_name, invitation.email, invitation.status) == (None, None, "sent")


def test_the_workers_periodic_job_closes_due_rounds_runs_their_rules_and_commits(make_round):
    past = make_round(closes_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    heard = []
    with rounds.round_closed.connected_to(lambda round_, **_: heard.append(round_.id)):
        rounds.close_due_rounds_job.call_local()
    db.session.rollback()  # what was committed stays
    assert past.status == "closed" and heard == [past.id]
