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


def _row(bench, code=ITEM):
    return next(r for r in bench.rows if r.item.code == code)


def test_an_office_sees_the_others_only_as_a_distribution_of_enough_of_them(app, office_rated):
    office_rated(None, 5, 10)
    for code, satisfied in (("beta", 6), ("gamma", 7), ("delta", 8), ("zeta", 9)):
        office_rated(code, satisfied, 10)
    bench = comparisons.benchmark("office-services", "en", TODAY, 5, visible=set())
    assert bench.takes_part and (_row(bench).own.rate, _row(bench).others) == (0.5, None)
    office_rated("epsilon", 2, 10, status="open")  # not final: not among them
    assert _row(comparisons.benchmark("office-services", "en", TODAY, 5, set())).others is None
    office_rated("eta", 10, 10)
    row = _row(comparisons.benchmark("office-services", "en", TODAY, 5, visible=set()))
    assert (row.others.offices, row.others.median) == (5, 0.8)
    # The quartiles fall between offices' rates: no office's own figure, lowest or highest.
    assert (row.others.lower_quartile, row.others.upper_quartile) == pytest.approx((0.675, 0.925))
    assert row.standing == "below"
    assert tenancy.current_office_id() == 1


def test_offices_the_visitor_sees_by_name_are_left_out_of_the_distribution(app, office_rated):
    office_rated(None, 5, 10)
    ids = [office_rated(c, s, 10) for c, s in (("b", 6), ("c", 7), ("d", 8), ("e", 9), ("f", 10))]
    assert _row(comparisons.benchmark("office-services", "en", TODAY, 5, set())).others
    # A lead of office b too would otherwise take b's rate (shown side by side) out of the
    # distribution of five, and narrow down the other four.
    bench = comparisons.benchmark("office-services", "en", TODAY, 5, visible={ids[0]})
    assert (_row(bench).others, bench.left_out) == (None, 1)
    four = comparisons.benchmark("office-services", "en", TODAY, 4, visible={ids[0]})
    assert _row(four).others.offices == 4


def test_an_office_that_does_not_take_part_sees_nothing_of_the_others(app, office_rated):
    for code, satisfied in (("b", 6), ("c", 7), ("d", 8), ("e", 9), ("f", 10)):
        office_rated(code, satisfied, 10)
    bench = comparisons.benchmark("office-services", "en", TODAY, 5, visible=set())
    assert not bench.takes_part  # the first office has no round on the template
    assert all(r.others is None and r.own is None for r in bench.rows)


def test_a_closed_round_without_responses_does_not_hide_the_one_before(app, office_rated):
    b = office_rated("beta", 3, 10)
    with tenancy.office(b):
        version = db.session.scalar(select(QuestionnaireVersion))
        later = _round(version, "closed")
        later.opens_at = utcnow() - timedelta(days=2)
        db.session.commit()
    (column,) = comparisons.side_by_side("office-services", [b], "en", TODAY)
    assert column.items[ITEM].rate == 0.3


def test_a_change_is_shown_against_a_round_on_the_template_only(app, office_rated, rate):
    b = office_rated("beta", 9, 10)
    with tenancy.office(b):
        linked = db.session.scalar(select(Round)).version
        # The office's own questionnaire before it adopted the template, asked in spring.
        own = editing.new_draft(linked)
        own.template = None
        db.session.flush()
        editing.publish(own, utcnow())
        spring = _round(own, "closed")
        spring.opens_at = utcnow() - timedelta(days=90)
        db.session.commit()
        rate(spring, 5, 10, question=ITEM)
    (column,) = comparisons.side_by_side("office-services", [b], "en", TODAY)
    assert column.items[ITEM].rate == 0.9 and column.items[ITEM].change is None
    with tenancy.office(b):  # (the comparison took office b's rows out of the session)
        own, linked = db.session.get(QuestionnaireVersion, own.id), linked.id
        own.template_id = db.session.get(QuestionnaireVersion, linked).template_id
        db.session.commit()  # the same template: the change is shown
    (column,) = comparisons.side_by_side("office-services", [b], "en", TODAY)
    assert column.items[ITEM].change == pytest.approx(0.4)


# --- the page -------------------------------------------------------------------------------


def test_the_page_sets_the_office_against_the_others_without_naming_them(
    app, client, office_rated, make_user, login_as
):
    office_rated(None, 5, 10)
    codes = ("beta", "gamma", "delta", "zeta", "theta")
    ids = [office_rated(code, s, 10) for code, s in zip(codes, (6, 7, 8, 9, 10))]
    lead = make_user("quality_lead", email="lead@shaoxing.test")
    login_as(lead)
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "This office against the others" in page.text and "50.0%" in page.text
    assert "median <strong>80%</strong>" in page.text and "(5 offices)" in page.text
    for code in codes:
        assert f"{code} Office" not in page.text  # never named
    for rate in ("60.0%", "60%", "100.0%", "100%"):  # nor their lowest or highest rate
        assert rate not in page.text
    assert "side by side" not in page.text  # leads one office
    _lead_in(lead, ids[0])
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert "The offices you lead, side by side" in page.text
    assert "beta Office" in page.text and "gamma Office" not in page.text
    # beta is named now: it leaves the distribution, which four offices are too few for.
    assert "The offices you also lead (1) are not counted here" in page.text
    assert "median <strong>" not in page.text


def test_the_page_says_when_no_questionnaire_is_shared(app, client, make_user, login_as):
    login_as(make_user("quality_lead"))
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "No questionnaire is shared between offices yet" in page.text


def test_the_page_states_the_minimum_it_applies_not_a_setting_below_the_floor(
    app, client, office_rated, make_user, login_as
):
    office_rated(None, 5, 10)
    login_as(make_user("quality_lead"))
    app.config["BENCHMARK_MIN_OFFICES"] = 1
    page = client.get("/review/offices", headers={"Accept-Language": "en"})
    assert "at least 3 other offices publish" in page.text
