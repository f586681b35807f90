"""An open round's figures are sealed (survey.results.sealing): while it takes answers, every
page, chart, download and API answer of its figures is refused to a reader who could not
already read each response, and its dashboard shows the response rate only. Every route with
a round in its path is enumerated, so a new page of figures is covered without being named."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import ResultExport
from survey.results import clear_cache, sealed
from tests.survey.review.data import audience_round, fill

pytestmark = pytest.mark.usefixtures("fresh_results_cache")

DASHBOARD = "review.round"
NOTICE = "The figures of this round are shown once it closes."
FIGURES = "of all ratings are satisfied"


def _value(name: str, export_id: int) -> str:
    """A value of a path argument that a closed round of the known answers answers with 200
    (or a redirect): so that a 403 of the same URL is the seal, not a bad argument."""
    return {
        "category": "services.documents",
        "question": "doc_timeliness",
        "group": "departments",
        "served_unit": "documents",
        "kind": "rates",
        "fmt": "png",
        "table": "items",
        "export_id": str(export_id),
    }[name]


def round_urls(app, round_id: int, export_id: int) -> dict[str, tuple[str, str]]:
    """{endpoint: (method, URL)} of every route of the review pages and the API that takes a
    round id."""
    urls = {}
    for rule in app.url_map.iter_rules():
        if "round_id" not in rule.arguments or rule.endpoint.split(".")[0] not in ("review", "api"):
            continue
        values = {a: _value(a, export_id) for a in rule.arguments if a != "round_id"}
        path = rule.rule.replace("<int:round_id>", str(round_id))
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
        method = "GET" if "GET" in rule.methods else "POST"
        urls[rule.endpoint] = (method, path + "?lang=en")
    return urls


def _get(client, method: str, url: str):
    return client.get(url) if method == "GET" else client.post(url)


@pytest.fixture
def workbook_of(client):
    def make(round_) -> int:
        assert client.get(f"/review/rounds/{round_.id}/results.xlsx").status_code == 200
        return db.session.scalar(select(ResultExport.id).where(ResultExport.round_id == round_.id))

    return make


def test_every_page_of_an_anonymous_rounds_figures_is_sealed_while_it_is_open(
    app, client, auth, make_round, answer, workbook_of
):
    round_ = audience_round(make_round, anonymity_threshold=3)
    round_.status = "closed"
    db.session.commit()
    auth.login(role="quality_lead")
    urls = round_urls(app, round_.id, workbook_of(round_))
    # The enumeration found the pages of figures, and each opens on the closed round.
    assert {"review.comments", "review.chart", "api.round_results_json"} <= set(urls)
    assert len(urls) >= 15
    closed = {e: _get(client, *u).status_code for e, u in urls.items()}
    assert {e: s for e, s in closed.items() if s not in (200, 302)} == {}

    round_.status = "open"  # reopened: taking answers again, so sealed again
    db.session.commit()
    clear_cache()
    for endpoint, (method, url) in urls.items():
        answer_ = _get(client, method, url)
        if endpoint == DASHBOARD:
            assert answer_.status_code == 200
            assert NOTICE in answer_.text and FIGURES not in answer_.text
            continue
        assert answer_.status_code == 403, endpoint
        if answer_.is_json:
            assert "sealed until it closes" in answer_.json["message"], endpoint
        else:
            assert NOTICE in answer_.text, endpoint
            assert "%" not in answer_.text.split("<main", 1)[-1], endpoint


def test_the_sealed_dashboard_shows_who_answered_and_nothing_of_what(
    client, auth, make_round, answer
):
    round_ = fill(make_round(anonymous=True), answer)
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{round_.id}?lang=en").text
    assert NOTICE in page and "Response rate by respondent group" in page
    assert "10 of 10 invitations submitted" in page
    # No figure, no way to one: no table of ratings, no chart, no download, no comment.
    for absent in (FIGURES, "All items", "/charts/", "answers.csv", "results.xlsx", "/comments"):
        assert absent not in page, absent
    assert "会议纪要请早些下发" not in page and "太慢" not in page


def test_a_named_rounds_figures_stay_live_for_who_may_read_its_responses(
    app, client, auth, known_round, workbook_of
):
    """The quality lead may take a named round's identified answers (RAW_ANSWER_ROLES): two
    views of its figures tell nothing the raw answers do not."""
    auth.login(role="quality_lead")
    urls = round_urls(app, known_round.id, workbook_of(known_round))
    live = {e: _get(client, *u).status_code for e, u in urls.items()}
    assert {e: s for e, s in live.items() if s not in (200, 302)} == {}
    assert FIGURES in client.get(f"/review/rounds/{known_round.id}?lang=en").text


def test_without_the_raw_answers_a_named_open_round_is_sealed_too(
    app, client, auth, known_round, workbook_of
):
    auth.login(role="quality_lead")
    export_id = workbook_of(known_round)
    app.config["RAW_ANSWER_ROLES"] = []  # admins only
    urls = round_urls(app, known_round.id, export_id)
    refused = {e for e, u in urls.items() if _get(client, *u).status_code == 403}
    assert refused == set(urls) - {DASHBOARD}
    assert NOTICE in client.get(f"/review/rounds/{known_round.id}?lang=en").text
    # An admin may take the identified answers: live figures.
    auth.logout()
    auth.login(role="admin")
    assert FIGURES in client.get(f"/review/rounds/{known_round.id}?lang=en").text


def test_a_division_reads_its_scorecard_once_the_round_closes(
    client, known_round, served_user, login_as
):
    login_as(served_user(unit="documents", role="respondent"))
    own = f"/review/rounds/{known_round.id}/units/documents?lang=en"
    page = client.get(own)
    assert page.status_code == 403 and NOTICE in page.text
    assert "/review/rounds/" not in page.text.split("<main", 1)[-1]  # no way into the round
    known_round.status = "closed"
    db.session.commit()
    assert client.get(own).status_code == 200


def test_the_api_says_which_rounds_are_sealed(client, auth, make_round, answer, known_round):
    anonymous = audience_round(make_round, name="anonymous")
    auth.login(role="quality_lead")
    rows = {r["id"]: r for r in client.get("/api/v1/rounds").json["rounds"]}
    assert (rows[anonymous.id]["sealed"], rows[known_round.id]["sealed"]) == (True, False)
    refused = client.get(f"/api/v1/rounds/{anonymous.id}/comments")
    assert refused.status_code == 403 and "sealed until it closes" in refused.json["message"]


@pytest.mark.parametrize(
    ("status", "anonymous", "role", "raw_roles", "expected"),
    [
        ("open", True, "admin", ["quality_lead"], True),
        ("open", False, "quality_lead", ["quality_lead"], False),
        ("open", False, "quality_lead", [], True),
        ("open", False, "admin", [], False),
        ("closed", True, "quality_lead", [], False),
        ("draft", True, "quality_lead", [], False),
    ],
)
def test_who_a_round_is_sealed_for(
    app, make_round, make_user, status, anonymous, role, raw_roles, expected
):
    app.config["RAW_ANSWER_ROLES"] = raw_roles
    round_ = make_round(status=status, anonymous=anonymous)
    assert sealed(round_, make_user(role=role)) is expected


def test_a_later_rounds_comparison_waits_for_the_earlier_round_to_close(
    client, auth, make_round, answer
):
    """Two rounds of one questionnaire that overlap: the later one, closed, would show the
    earlier one's figures, moving, in its comparison and trend."""
    from datetime import timedelta

    from survey.models import utcnow

    earlier = fill(
        make_round(name="2004 spring", anonymous=True, opens_at=utcnow() - timedelta(days=90)),
        answer,
    )
    later = fill(make_round(name="2004 autumn"), answer)
    later.status = "closed"
    db.session.commit()
    auth.login(role="quality_lead")
    body = client.get(f"/api/v1/rounds/{later.id}/results?lang=en").json
    assert body["previous_round"] is None
    assert "2004 spring" not in client.get(f"/review/rounds/{later.id}?lang=en").text
    earlier.status = "closed"
    db.session.commit()
    clear_cache()
    assert client.get(f"/api/v1/rounds/{later.id}/results").json["previous_round"] is not None


def test_a_held_rounds_figures_are_sealed_like_an_open_rounds(
    app, client, auth, make_round, answer, workbook_of
):
    """Reopened and closed again with one new response: the figures of its two closes would
    differ by that response's answers (survey.rounds.release)."""
    from survey import rounds
    from survey.models import utcnow

    round_ = audience_round(make_round, anonymity_threshold=3)
    rounds.close_round(round_, utcnow())
    db.session.commit()
    auth.login(role="quality_lead")
    urls = round_urls(app, round_.id, workbook_of(round_))
    rounds.open_round(round_, utcnow())
    answer(round_, "departments", {"doc_timeliness": 1})
    rounds.close_round(round_, utcnow())
    db.session.commit()
    clear_cache()

    for endpoint, (method, url) in urls.items():
        answer_ = _get(client, method, url)
        if endpoint == DASHBOARD:
            assert answer_.status_code == 200
            assert "held back" in answer_.text and FIGURES not in answer_.text
            continue
        assert answer_.status_code == 403, endpoint
        text = answer_.json["message"] if answer_.is_json else answer_.text
        assert "held back" in text, endpoint
    rows = {r["id"]: r for r in client.get("/api/v1/rounds").json["rounds"]}
    assert rows[round_.id]["sealed"] is True
