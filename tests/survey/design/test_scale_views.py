"""The scale library's pages, and picking a library scale in the question editor."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from questionnaires import DEFINITIONS_DIR, load
from survey.editing import EditError
from survey.editing.scales import check_scale, copy_into, to_scale
from survey.extensions import db
from survey.models import AuditEvent, LibraryScale, Question, QuestionnaireVersion
from survey.questionnaire_store import save_version, to_model

SEVEN = [
    ("很不满意", "Very dissatisfied"),
    ("不满意", "Dissatisfied"),
    ("有点不满意", "Somewhat dissatisfied"),
    ("一般", "Neutral"),
    ("有点满意", "Somewhat satisfied"),
    ("满意", "Satisfied"),
    ("很满意", "Very satisfied"),
]


def scale_post(code="sat7", points=SEVEN, counts=None, values=None, **extra) -> dict:
    """What the scale page posts: `points` labelled rows, values 1.. unless given."""
    data = {"code": code, "name_zh": "七级满意度", "name_en": "Satisfaction, 1 to 7", **extra}
    for i, (zh, en) in enumerate(points):
        data[f"points-{i}-value"] = str(values[i] if values else i + 1)
        data[f"points-{i}-label_zh"] = zh
        data[f"points-{i}-label_en"] = en
        data[f"points-{i}-counts"] = (counts or {}).get(i + 1, "")
    return data


def library(code="sat7") -> LibraryScale | None:
    db.session.expire_all()
    return db.session.scalar(select(LibraryScale).where(LibraryScale.code == code))


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    version = save_version(load(DEFINITIONS_DIR / "city-residents.yaml"), status="draft")
    db.session.commit()
    return version


@pytest.mark.parametrize("route", ["/design/scales", "/design/scales/new"])
def test_anonymous_users_are_sent_to_log_in(client, route):
    response = client.get(route)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("role", ["respondent", "quality_lead"])
def test_only_designers_and_admins_keep_the_library(client, auth, role):
    auth.login(role=role)
    assert client.get("/design/scales").status_code == 403
    assert client.post("/design/scales/new", data=scale_post()).status_code == 403
    assert library() is None


def test_a_clerk_adds_a_7_point_scale_with_its_satisfied_and_low_points(client, auth):
    user = auth.login(role="designer")
    counts = {1: "low", 2: "low", 3: "low", 6: "satisfied", 7: "satisfied"}
    response = client.post("/design/scales/new", data=scale_post(counts=counts))
    assert response.status_code == 302 and response.location.endswith("/design/scales#scale-sat7")
    row = library()
    assert [p["en"] for p in row.points] == [en for _, en in SEVEN]
    assert (row.satisfied, row.dissatisfied) == ([6, 7], [1, 2, 3])
    assert row.created_by_id == row.updated_by_id == user.id
    scale = to_scale(row)
    assert scale.is_satisfied(6) and not scale.is_satisfied(5) and scale.is_low(3)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scale_created"))
    assert event.target == f"scale:{row.id}" and event.detail == {"name": "sat7"}
    page = client.get("/design/scales?lang=en").text
    assert "Satisfaction, 1 to 7" in page and "1 Very dissatisfied … 7 Very satisfied" in page


def test_an_admin_changes_a_scale_and_the_change_is_audited(client, auth):
    auth.login(role="admin")
    client.post("/design/scales/new", data=scale_post())
    row = library()
    assert (row.satisfied, row.dissatisfied) == ([], [])  # the usual rule: top and bottom two
    page = client.get(f"/design/scales/{row.id}/edit?lang=en").text
    assert 'value="Somewhat satisfied"' in page
    points = [*SEVEN[:4], ("满意", "Satisfied"), ("很满意", "Very satisfied")]
    client.post(
        f"/design/scales/{row.id}/edit", data=scale_post(points=points, counts={6: "satisfied"})
    )
    row = library()
    assert len(row.points) == 6 and row.satisfied == [6] and row.dissatisfied == []
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["scale_created", "scale_changed"]


@pytest.mark.parametrize(
    "post, reason",
    [
        (scale_post(points=SEVEN[:1]), "has 1 point(s); a scale needs at least 2"),
        (
            scale_post(counts={5: "satisfied", 7: "satisfied"}),
            "must be the top 2 point(s) of the scale: 6, 7",
        ),
        (
            scale_post(counts={1: "low", 3: "low"}),
            "must be the bottom 2 point(s) of the scale: 1, 2",
        ),
        (scale_post(values=[1, 2, 3, 3, 5, 6, 7]), "duplicate value 3"),
        (scale_post(values=[1, 2, 3, 4, 5, 6, 700]), "value 700 is outside -100..100"),
        (scale_post(values=[1, 2, 3, 4, 5, 6, "7.5"]), "A whole number."),
        (scale_post(code="satisfaction5"), "is built in"),
        (scale_post(code="Seven Points"), "is not a valid code"),
    ],
)
def test_a_scale_the_loader_refuses_is_refused_with_its_reason(client, auth, post, reason):
    auth.login()
    page = client.post("/design/scales/new?lang=en", data=post).text
    assert reason in page.replace("&#39;", "'")
    assert db.session.scalar(select(LibraryScale.id)) is None


def test_a_labelled_point_needs_a_value(client, auth):
    auth.login()
    post = scale_post()
    post["points-2-value"] = ""
    page = client.post("/design/scales/new?lang=en", data=post).text
    assert "Give this point a value." in page and library() is None


def test_two_library_scales_cannot_share_a_code(client, auth):
    auth.login()
    client.post("/design/scales/new", data=scale_post())
    page = client.post("/design/scales/new?lang=en", data=scale_post(name_en="Again")).text
    assert "already used by another scale" in page
    assert len(db.session.scalars(select(LibraryScale)).all()) == 1


def test_check_scale_uses_the_loaders_messages(app):
    row = LibraryScale(code="two", name_zh="二", name_en="Two", points=[
        {"value": 1, "zh": "否", "en": "No"}, {"value": 2, "zh": "是", "en": "Yes"}],
        satisfied=[1, 2], dissatisfied=[])  # fmt: skip
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(EditError) as info:
            check_scale(to_scale(row))
        assert "point 1 is both satisfied and dissatisfied" in str(info.value)


# --- reuse in a questionnaire -------------------------------------------------------------


def question_post(version: QuestionnaireVersion, code: str, scale: str, **extra) -> dict:
    return {
        "section": version.sections[0].id,
        "code": code,
        "type": "rating",
        "text_zh": "总体满意度（七级）",
        "text_en": "Overall (7 points)",
        "served_unit": "",
        "scale": scale,
        "required": "y",
        **extra,
    }


def test_the_question_editor_offers_library_scales_and_copies_the_one_picked(client, auth, draft):
    auth.login()
    client.post(
        "/design/scales/new", data=scale_post(counts={6: "satisfied", 7: "satisfied", 1: "low"})
    )
    page = client.get(f"/design/versions/{draft.id}/questions/new?lang=en").text
    assert 'value="library:sat7"' in page and "Library: Satisfaction, 1 to 7" in page
    response = client.post(
        f"/design/versions/{draft.id}/questions/new",
        data=question_post(draft, "overall7", "library:sat7"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    definition = to_model(draft)
    copied = next(s for s in definition.scales if s.code == "sat7")
    assert definition.question("overall7").scale == copied
    assert copied.satisfied_values == (6, 7) and copied.dissatisfied_values == (1,)
    # The version's copy is now offered as the version's own scale, not again from the library.
    page = client.get(f"/design/versions/{draft.id}/questions/new?lang=en").text
    assert 'value="sat7"' in page and 'value="library:sat7"' not in page
    # A second question picking it shares the one copy.
    client.post(
        f"/design/versions/{draft.id}/questions/new", data=question_post(draft, "again7", "sat7")
    )
    db.session.expire_all()
    assert [s.code for s in to_model(draft).scales].count("sat7") == 1


def test_a_changed_library_scale_leaves_versions_that_copied_it_alone(client, auth, draft):
    auth.login()
    client.post("/design/scales/new", data=scale_post())
    client.post(
        f"/design/versions/{draft.id}/questions/new",
        data=question_post(draft, "overall7", "library:sat7"),
    )
    row = library()
    client.post(f"/design/scales/{row.id}/edit", data=scale_post(counts={7: "satisfied"}))
    db.session.expire_all()
    assert to_model(draft).question("overall7").scale.satisfied == ()
    # The library's new form differs from the copy: offered again, and refused by code.
    page = client.get(f"/design/versions/{draft.id}/questions/new?lang=en").text
    assert 'value="library:sat7"' in page
    page = client.post(
        f"/design/versions/{draft.id}/questions/new?lang=en",
        data=question_post(draft, "other7", "library:sat7"),
    ).text
    assert "already has a different scale coded sat7" in page
    assert '<option selected value="library:sat7">' in page
    db.session.expire_all()
    assert db.session.scalar(select(Question.id).where(Question.code == "other7")) is None


def test_a_refused_question_copies_no_library_scale(client, auth, draft):
    auth.login()
    client.post("/design/scales/new", data=scale_post())
    client.post(
        f"/design/versions/{draft.id}/questions/new",
        data=question_post(draft, "Bad Code", "library:sat7"),
    )
    db.session.expire_all()
    assert "sat7" not in [s.code for s in to_model(draft).scales]


def test_copy_into_a_published_version_is_refused(app, draft):
    draft.status = "published"
    db.session.add(LibraryScale(code="yes2", name_zh="是", name_en="Yes", points=[
        {"value": 0, "zh": "否", "en": "No"}, {"value": 1, "zh": "是", "en": "Yes"}]))  # fmt: skip
    db.session.commit()
    with app.test_request_context(), pytest.raises(EditError):
        copy_into(draft, "yes2")
