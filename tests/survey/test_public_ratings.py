"""survey.public_ratings: a citizen's rating of a service point, once per device per day, once
per signed form, with bursts of identical answers flagged and poor ratings opening cases."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from survey import public_ratings, tenancy
from survey.extensions import db
from survey.models import FeedbackCase, PublicRating
from survey.public_ratings import Answer

EN = {"Accept-Language": "en"}
# 10:00 in Shanghai on a Wednesday.
NOON = datetime(2026, 12, 9, 2, 0)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context(headers=EN):
        tenancy.enter(1)
        yield


def _rate(point, score=5, device="phone-1", nonce=None, address="203.0.113.7", now=NOON, **kw):
    # A nonce of this test's own, 40 characters: the column holds 64.
    seed = f"{point.id}-{device}-{score}-{now.isoformat()}-{sorted(kw.items())}"
    nonce = nonce or hashlib.sha256(seed.encode()).hexdigest()[:40]
    return public_ratings.submit(
        point, Answer(score=score, **kw), nonce=nonce, device=device, address=address, now=now
    )


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(PublicRating))


def test_a_rating_is_stored_with_no_address_and_a_poor_one_opens_a_case(make_point):
    point = make_point()
    good = _rate(point, 5, device="a")
    poor = _rate(point, 2, device="b", reasons=("waiting",), contact="13800000000")
    assert (good.outcome, good.case) == ("stored", None)
    assert poor.outcome == "stored" and poor.case is not None
    assert poor.case.status == "open" and poor.case.rating_id == poor.rating.id
    stored = db.session.get(PublicRating, poor.rating.id)
    assert stored.reasons == ["waiting"] and stored.contact == "13800000000"
    assert "203.0.113" not in stored.network and len(stored.network) == 40
    assert _count() == 2


def test_the_same_form_sent_twice_stores_one_rating(make_point):
    point = make_point()
    first = _rate(point, 1, nonce="n" * 24, reasons=("attitude",))
    again = _rate(point, 1, nonce="n" * 24, device="another", reasons=("attitude",))
    assert again.outcome == "again" and again.rating.id == first.rating.id
    assert again.case.id == first.case.id
    assert _count() == 1
    assert db.session.scalar(select(func.count()).select_from(FeedbackCase)) == 1


def test_one_rating_per_device_per_point_per_office_day(make_point):
    hall, counter = make_point("hall-1"), make_point("counter-3", kind="counter")
    assert _rate(hall, 4, device="d1").outcome == "stored"
    assert _rate(hall, 1, device="d1", now=NOON + timedelta(hours=5)).outcome == "today"
    assert _rate(counter, 4, device="d1").outcome == "stored"  # another point: counts
    # 00:30 the next day in Shanghai is 16:30 UTC the same UTC day: a new office day.
    next_day = datetime(2026, 12, 9, 16, 30)
    assert _rate(hall, 4, device="d1", now=next_day).outcome == "stored"
    assert _count() == 3
    assert db.session.scalar(select(func.count()).select_from(FeedbackCase)) == 0


def test_the_form_token_is_signed_for_one_point_and_one_device_and_expires(make_point, app):
    hall, counter = make_point("hall-1"), make_point("counter-3")
    token = public_ratings.form_token(hall, "phone-1")
    nonce = public_ratings.nonce_of(token, hall, "phone-1")
    assert nonce and len(nonce) >= 16
    assert public_ratings.nonce_of(token, counter, "phone-1") is None
    # Another device (a cross-site POST carries no cookie: it is a new device) is refused.
    assert public_ratings.nonce_of(token, hall, "phone-2") is None
    assert public_ratings.nonce_of(token[:-2] + "xx", hall, "phone-1") is None
    assert public_ratings.nonce_of("", hall, "phone-1") is None
    with app.test_request_context():
        app.secret_key = "another key"
        assert public_ratings.nonce_of(token, hall, "phone-1") is None


def test_an_old_form_token_is_refused(make_point, monkeypatch):
    hall = make_point()
    token = public_ratings.form_token(hall, "phone-1")
    monkeypatch.setattr(public_ratings, "FORM_MAX_AGE", timedelta(seconds=-1))
    assert public_ratings.nonce_of(token, hall, "phone-1") is None


def test_networks_are_counted_per_24_and_56():
    assert public_ratings.network("203.0.113.7") == "203.0.113.0/24"
    assert public_ratings.network("203.0.113.250") == "203.0.113.0/24"
    assert public_ratings.network("2001:db8:1:2:3::9") == "2001:db8:1::/56"
    assert public_ratings.network_of("203.0.113.7") == public_ratings.network_of("203.0.113.9")
    assert public_ratings.network_of("203.0.113.7") != public_ratings.network_of("203.0.114.7")
    # A dual-stack server sees an IPv4 client as ::ffff:a.b.c.d: still its own /24.
    assert public_ratings.network("::ffff:203.0.113.7") == "203.0.113.0/24"


def test_five_identical_answers_in_ten_minutes_are_flagged(make_point):
    point = make_point()
    for n in range(4):
        _rate(point, 1, device=f"d{n}", address=f"198.51.{n}.1", comment="terrible",
              now=NOON + timedelta(minutes=n))  # fmt: skip
    assert not db.session.scalars(select(PublicRating).where(PublicRating.flag.is_not(None))).all()
    _rate(point, 1, device="d9", address="198.51.9.1", comment="terrible",
          now=NOON + timedelta(minutes=8))  # fmt: skip
    flags = db.session.scalars(select(PublicRating.flag)).all()
    assert flags == ["burst"] * 5
    # Another comment is another answer: not flagged.
    other = _rate(point, 1, device="d10", comment="slow", now=NOON + timedelta(minutes=9))
    assert other.rating.flag is None
    assert len(public_ratings.flagged()) == 5


def test_the_same_ticks_from_many_networks_are_not_a_burst_but_from_one_network_they_are(
    make_point,
):
    point = make_point()
    for n in range(8):
        _rate(point, 2, device=f"d{n}", address=f"198.51.{n}.1", reasons=("waiting",),
              now=NOON + timedelta(minutes=n))  # fmt: skip
    for n in range(8):
        _rate(point, 5, device=f"t{n}", address=f"198.52.{n}.1", now=NOON + timedelta(minutes=n))
    assert public_ratings.flagged() == []
    for n in range(5):
        _rate(point, 5, device=f"e{n}", address="192.0.2.1", now=NOON + timedelta(minutes=n))
    assert len(public_ratings.flagged()) == 5


def test_a_rating_set_aside_closes_its_case_and_no_longer_counts_for_a_burst(make_point, lead):
    point = make_point()
    rated = [_rate(point, 1, device=f"d{n}", comment="awful", now=NOON + timedelta(minutes=n))
             for n in range(5)]  # fmt: skip
    assert all(r.rating.flag == "burst" for r in rated)
    for r in rated:
        public_ratings.set_aside(r.rating, lead, NOON + timedelta(minutes=6))
    db.session.commit()
    assert {(r.case.status, r.case.outcome) for r in rated} == {("closed", "set_aside")}
    # The next identical one is compared with none of them: not flagged.
    assert (
        _rate(point, 1, device="d9", comment="awful", now=NOON + timedelta(minutes=7)).rating.flag
        is None
    )


def test_a_rating_kept_as_genuine_is_not_flagged_again(make_point):
    point = make_point()
    rated = [_rate(point, 5, device=f"d{n}", address="192.0.2.1", now=NOON + timedelta(minutes=n))
             for n in range(5)]  # fmt: skip
    for r in rated:
        public_ratings.keep(r.rating)
    _rate(point, 5, device="d9", address="192.0.2.1", now=NOON + timedelta(minutes=6))
    assert [r.rating.flag for r in rated] == ["kept"] * 5
    assert len(public_ratings.flagged()) == 1  # the sixth: five alike again, it alone new


def test_contact_details_are_kept_only_with_a_poor_rating(make_point):
    point = make_point()
    good = _rate(point, 4, device="a", contact="13800000000", contact_name="Li")
    poor = _rate(point, 2, device="b", contact="13800000000", contact_name="Li")
    assert (good.rating.contact, good.rating.contact_name) == (None, None)
    assert (poor.rating.contact, poor.rating.contact_name) == ("13800000000", "Li")


def test_the_form_knows_a_device_that_rated_today(make_point):
    point = make_point()
    assert not public_ratings.rated_today(point, "a", NOON)
    _rate(point, 5, device="a")
    assert public_ratings.rated_today(point, "a", NOON + timedelta(hours=1))
    assert not public_ratings.rated_today(point, "b", NOON)


def test_figures_count_satisfied_and_poor_and_leave_out_what_was_set_aside(make_point):
    point = make_point()
    scores = [5, 4, 4, 3, 2, 1]
    rated = [_rate(point, s, device=f"d{n}") for n, s in enumerate(scores)]
    public_ratings.set_aside(rated[0].rating, None, NOON)
    db.session.commit()
    [figures] = public_ratings.figures(NOON - timedelta(days=1))
    assert (figures.ratings, figures.satisfied, figures.poor) == (5, 2, 2)
    assert figures.rate == pytest.approx(0.4)
    assert public_ratings.figures(NOON + timedelta(minutes=1))[0].ratings == 0


def test_a_link_finds_its_point_from_no_office_and_enters_the_points_office(make_point):
    point = make_point()
    point_id, key = point.id, point.link_key
    tenancy.enter(None)
    found = public_ratings.enter_by_link(key)
    assert found.id == point_id and tenancy.current_office_id() == 1
    assert found in db.session  # loaded in its office, not left detached
    found.active = False
    db.session.commit()
    tenancy.enter(None)
    assert public_ratings.enter_by_link(key) is None
    assert tenancy.current_office_id() is None
    assert public_ratings.enter_by_link("nothing") is None


def test_a_score_outside_one_to_five_is_refused(make_point):
    with pytest.raises(ValueError):
        _rate(make_point(), 6)
