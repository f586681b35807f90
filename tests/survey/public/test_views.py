"""The public's rating pages: a citizen opens a service point's link, rates with no account,
and is thanked in words that say what happens next; bad input keeps what was chosen; a
double submit, a second rating the same day and a stale form store nothing more; a network
sending too many ratings is slowed down."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import FeedbackCase, PublicRating

EN = {"Accept-Language": "en"}


@pytest.fixture
def app_config():
    return {"PUBLIC_RATING_RATE_LIMIT": "6 per hour"}


@pytest.fixture
def point(make_point):
    return make_point("hall-1")


def _token(client, point, **kw) -> str:
    page = client.get(f"/s/{point.link_key}", headers=EN, **kw)
    assert page.status_code == 200
    return re.search(r'name="nonce_token" value="([^"]+)"', page.text).group(1)


def _rate(client, point, token=None, **data):
    form = {"nonce_token": token or _token(client, point), "score": "5", **data}
    return client.post(f"/s/{point.link_key}", data=form, headers=EN)


def _count(model=PublicRating) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_form_names_the_point_and_asks_no_account(client, point):
    page = client.get(f"/s/{point.link_key}", headers=EN)
    assert page.status_code == 200
    assert "hall-1 service hall" in page.text and "no account" in page.text
    assert "survey_device=" in page.headers["Set-Cookie"]
    assert "HttpOnly" in page.headers["Set-Cookie"]
    assert 'action="/login"' not in page.text and "Log out" not in page.text


def test_a_good_rating_is_stored_and_thanked(client, point):
    sent = _rate(client, point, score="4")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/thanks")
    thanks = client.get(sent.headers["Location"], headers=EN)
    assert "Thank you for your rating" in thanks.text
    assert "uses them to improve" in thanks.text
    assert _count() == 1 and _count(FeedbackCase) == 0


def test_a_poor_rating_with_contact_opens_a_case_and_says_by_when(client, point):
    sent = _rate(client, point, score="1", reasons=["waiting", "attitude"],
                 comment="An hour in line", contact_name="Li", contact="138 0000 0000")  # fmt: skip
    thanks = client.get(sent.headers["Location"], headers=EN)
    assert "will contact you within 5 working days" in thanks.text
    case = db.session.scalar(select(FeedbackCase))
    assert case.rating.reasons == ["waiting", "attitude"] and case.rating.contact_name == "Li"
    assert case.rating.comment == "An hour in line"


def test_a_poor_rating_without_contact_says_no_reply_will_come(client, point):
    sent = _rate(client, point, score="2")
    assert "will not get a personal reply" in client.get(sent.headers["Location"], headers=EN).text
    assert _count(FeedbackCase) == 1


def test_a_missing_score_or_a_bad_contact_keeps_what_was_typed(client, point):
    token = _token(client, point)
    page = client.post(f"/s/{point.link_key}", headers=EN,
                       data={"nonce_token": token, "comment": "Rude at counter 3",
                             "contact": "not a phone", "reasons": ["attitude"]})  # fmt: skip
    assert page.status_code == 400
    assert "Choose how satisfied you are." in page.text
    assert "Give a phone number" in page.text
    assert "Rude at counter 3" in page.text and 'value="not a phone"' in page.text
    assert re.search(r'value="attitude"[^>]*checked|checked[^>]*value="attitude"', page.text)
    assert _count() == 0
    # Corrected, the same page's token stores it.
    assert _rate(client, point, token, score="2", contact="13800000000").status_code == 303
    assert _count() == 1


def test_a_double_submit_stores_one_rating(client, point):
    token = _token(client, point)
    first, second = _rate(client, point, token, score="1"), _rate(client, point, token, score="1")
    assert first.status_code == second.status_code == 303
    assert _count() == 1 and _count(FeedbackCase) == 1


def test_a_second_rating_from_the_device_the_same_day_is_not_counted(client, point):
    _rate(client, point, score="5")
    again = _rate(client, point, score="1")
    assert (
        "rated this service today already" in client.get(again.headers["Location"], headers=EN).text
    )
    assert _count() == 1 and _count(FeedbackCase) == 0
    # Another device (no cookie) counts.
    client.delete_cookie("survey_device")
    _rate(client, point, score="3")
    assert _count() == 2


def test_a_forged_or_other_points_token_keeps_the_answers_and_stores_nothing(
    client, point, make_point
):
    other = make_point("counter-2", kind="counter")
    for token in ("forged", _token(client, other)):
        page = _rate(client, point, token, score="4", comment="Quick and kind")
        assert page.status_code == 400
        assert "open too long" in page.text and "Quick and kind" in page.text
    assert _count() == 0


def test_an_unknown_or_inactive_link_is_not_found(client, point):
    assert client.get("/s/no-such-link").status_code == 404
    point.active = False
    db.session.commit()
    assert client.get(f"/s/{point.link_key}").status_code == 404


def test_one_network_is_limited_whatever_the_device(client, point):
    statuses = []
    for _ in range(7):
        client.delete_cookie("survey_device")
        statuses.append(_rate(client, point, score="5").status_code)
    assert statuses == [303] * 6 + [429]
    assert _count() == 6


def test_the_page_is_in_chinese_by_default(client, point):
    page = client.get(f"/s/{point.link_key}")
    assert "hall-1 服务大厅" in page.text
    assert "您对本次服务满意吗？" in page.text and "非常不满意" in page.text
    # The blank questions are kept per language: English after Chinese is English.
    english = client.get(f"/s/{point.link_key}", headers=EN)
    assert "How satisfied are you" in english.text and "非常不满意" not in english.text


def test_another_sites_page_cannot_send_ratings_through_its_visitors(client, point, app):
    # The other site fetched a token with its own cookie; its visitor's browser posts it
    # cross-site, without this site's cookie (SameSite=Lax): a new device, refused.
    token = _token(app.test_client(), point)
    page = _rate(client, point, token, score="1", contact="13800000000")
    assert page.status_code == 400 and "open too long" in page.text
    assert _count() == 0 and _count(FeedbackCase) == 0


def test_the_limit_counts_stored_ratings_per_point(client, point, make_point):
    for _ in range(3):  # forms with a mistake do not use the limit up
        client.post(f"/s/{point.link_key}", data={"nonce_token": _token(client, point)})
    for _ in range(6):
        client.delete_cookie("survey_device")
        assert _rate(client, point, score="5").status_code == 303
    client.delete_cookie("survey_device")
    refused = _rate(client, point, score="5")
    assert refused.status_code == 429 and "Too many ratings from your network" in refused.text
    other = make_point("counter-2", kind="counter")
    assert _rate(client, other, score="5").status_code == 303  # another point: its own limit


def test_an_old_posters_link_says_so(client, point):
    point.active = False
    db.session.commit()
    page = client.get(f"/s/{point.link_key}", headers=EN)
    assert page.status_code == 404 and "This rating link is not in use" in page.text


def test_resends_and_second_ratings_do_not_use_up_the_limit(client, point):
    token = _token(client, point)
    for _ in range(8):  # one stored, seven told "again"
        assert _rate(client, point, token, score="5").status_code == 303
    for _ in range(4):  # the same device: told "today"
        assert _rate(client, point, score="4").status_code == 303
    for _ in range(5):  # new devices: five more stored, six in all
        client.delete_cookie("survey_device")
        assert _rate(client, point, score="5").status_code == 303
    client.delete_cookie("survey_device")
    assert _rate(client, point, score="5").status_code == 429
    assert _count() == 6


def test_ratings_sent_all_at_once_are_held_to_the_limit(app, point):
    import threading

    clients = [app.test_client() for _ in range(12)]
    tokens = [_token(c, point) for c in clients]
    start, statuses = threading.Barrier(len(clients)), []

    url = f"/s/{point.link_key}"  # read here: a thread has no app context to load it in

    def send(client, token):
        start.wait()
        sent = client.post(url, data={"nonce_token": token, "score": "5"}, headers=EN)
        statuses.append(sent.status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(statuses) == [303] * 6 + [429] * 6
    db.session.rollback()
    assert _count() == 6
