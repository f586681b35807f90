"""survey.results.comparisons: offices side by side on a shared template's items, and an
office against the others' unnamed distribution, each office's figures as its own pages
publish them and from final rounds only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from survey import editing, offices, tenancy
from survey import questionnaire_templates as templates
from survey.extensions import db
from survey.models import QuestionnaireVersion, Round, User, utcnow
from survey.results import comparisons

TODAY = date(2026, 12, 7)
ITEM = "doc_timeliness"


@pytest.fixture
def shared(office_version):
    template, _ = templates.share(office_version, None, utcnow())
    db.session.commit()
    return template


def _round(version: QuestionnaireVersion, status: str) -> Round:
    round_ = Round(
        name=f"2004 spring {status}",
        version=version,
        status=status,
        opens_at=utcnow() - timedelta(days=30),
        closes_at=utcnow() + timedelta(days=(1 if status == "open" else -1)),
    )
    version.frozen_at = version.frozen_at or utcnow()
    db.session.add(round_)
    db.session.commit()
    return round_


@pytest.fixture
def office_rated(shared, rate):
    """office_rated(code, satisfied, n, status="closed") -> office id: an office that adopted
    the template (None: the first office, which shares it), with a round of ``n`` answers to
    ITEM, ``satisfied`` of them 5. Works for the first office afterwards."""

    def make(code: str | None, satisfied: int, n: int, status: str = "closed") -> int:
        if code is None:
            tenancy.enter(1)
            version = db.session.scalar(
                select(QuestionnaireVersion).where(QuestionnaireVersion.template_id == shared.id)
            )
        else:
            office = offices.by_code(code) or offices.create(code, f"{code}办", f"{code} Office")
            db.session.commit()
            tenancy.enter(office.id)
            version, _ = templates.adopt(shared)
            if version.status == "draft":
                editing.publish(version, utcnow())
            db.session.commit()
        rate(_round(version, status), satisfied, n, question=ITEM)
        office_id = tenancy.current_office_id()
        tenancy.enter(1)
        return office_id

    return make


def _lead_in(user: User, *office_ids: int) -> None:
    for office_id in office_ids:
        with tenancy.office(office_id):
            user.role = "quality_lead"
    db.session.commit()


def test_offices_side_by_side_each_with_its_own_figures(app, office_rated, make_user):
    a = office_rated(None, 8, 10)
    b = office_rated("beta", 3, 10)
    with tenancy.office(b):
        b_round = db.session.scalar(select(Round))  # held, as a view's variable would be
    columns = comparisons.side_by_side("office-services", [a, b], "en", TODAY)
    assert [c.office_id for c in columns] == [a, b]
    assert [c.name for c in columns] == ["Shaoxing Municipal Government Office", "beta Office"]
    assert [(c.items[ITEM].rate, c.items[ITEM].n) for c in columns] == [(0.8, 10), (0.3, 10)]
    assert all(c.round_name == "2004 spring closed" for c in columns)
    assert tenancy.current_office_id() == 1
    # Nothing of office B stays in the session for a later Session.get to find.
    assert b_round not in db.session
    assert all(getattr(o, "office_id", a) == a for o in db.session.identity_map.values())


def test_only_rounds_with_final_results_count(app, office_rated):
    b = office_rated("beta", 3, 10, status="open")
    (column,) = comparisons.side_by_side("office-services", [b], "en", TODAY)
    assert column.round_name is None and column.items == {}
    with tenancy.office(b):
        round_ = db.session.scalar(select(Round))
        round_.status, round_.results_held = "closed", True  # closed, figures held back
        db.session.commit()
    (column,) = comparisons.side_by_side("office-services", [b], "en", TODAY)
    assert column.items == {}


def test_an_item_too_few_answered_is_not_published(app, office_rated):
    b = office_rated("beta", 2, 3)  # fewer respondents than the anonymity threshold (5)
    (column,) = comparisons.side_by_side("office-services", [b], "en", TODAY)
    assert column.round_name and ITEM not in column.items


def test_an_office_sees_the_others_only_as_a_distribution_of_enough_of_them(app, office_rated):
    office_rated(None, 5, 10)
    for code, satisfied in (("beta", 6), ("gamma", 7)):
        office_rated(code, satisfied, 10)
    row = next(
        r for r in comparisons.benchmark("office-services", "en", TODAY, 3) if r.item.code == ITEM
    )
    assert (row.own.rate, row.others, row.others_count) == (0.5, None, 2)  # two others: hidden
    office_rated("delta", 9, 10)
    office_rated("epsilon", 2, 10, status="open")  # not final: not among them
    row = next(
        r for r in comparisons.benchmark("office-services", "en", TODAY, 3) if r.item.code == ITEM
    )
    assert row.others == comparisons.benchmarks.Distribution(3, 0.6, 0.7, 0.9)
    assert row.standing == "below"
    assert tenancy.current_office_id() == 1


def test_the_offices_led_are_those_with_a_lead_or_admin_role(app, office_rated, make_user):
    b = office_rated("beta", 3, 10)
    c = office_rated("gamma", 3, 10)
    person = make_user("designer", email="province@zj.test")
    _lead_in(person, b)
    with tenancy.office(c):
        person.role = "designer"
    db.session.commit()
    assert [o.id for o in comparisons.led_offices(person)] == [b]


# --- the page -------------------------------------------------------------------------------


def test_the_page_sets_the_office_against_the_others_without_naming_them(
    app, client, office_rated, make_user, login_as
):
    office_rated(None, 5, 10)
    ids = [office_rated(code, s, 10) for code, s in (("beta", 6), ("gamma", 7), ("delta", 9))]
    lead = make_user("quality_lead", email="lead@shaoxing.test")
    login_as(lead)
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "This office against the others" in page.text and "70.0%" in page.text
    assert "range 60.0%–90.0% (3 offices)" in page.text
    for code in ("beta", "gamma", "delta"):
        assert f"{code} Office" not in page.text  # never named
    assert "side by side" not in page.text  # leads one office
    _lead_in(lead, ids[0])
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert "The offices you lead, side by side" in page.text
    assert "beta Office" in page.text and "gamma Office" not in page.text


def test_the_page_says_when_no_questionnaire_is_shared(app, client, make_user, login_as):
    login_as(make_user("quality_lead"))
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "No questionnaire is shared between offices yet" in page.text
