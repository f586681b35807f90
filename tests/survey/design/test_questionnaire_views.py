"""The questionnaire editor's pages: access, import, edits, versions, export and preview."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from questionnaires import DEFINITIONS_DIR, load, load_dir, loads
from survey.extensions import db
from survey.models import (
    Answer,
    Question,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    Round,
)
from survey.questionnaire_store import save_version, to_model
from tests.factories import PASSWORD

GET_ROUTES = [
    "/design/",
    "/design/questionnaires/new",
    "/design/questionnaires/import",
    "/design/versions/{v}",
    "/design/versions/{v}/settings",
    "/design/versions/{v}/export.yaml",
    "/design/versions/{v}/export.xlsx",
    "/design/versions/{v}/preview",
    "/design/versions/{v}/sections/new",
    "/design/versions/{v}/sections/{s}/edit",
    "/design/versions/{v}/questions/new",
    "/design/versions/{v}/questions/{q}/edit",
]
POST_ROUTES = [
    "/design/versions/{v}/publish",
    "/design/versions/{v}/unpublish",
    "/design/versions/{v}/new-draft",
    "/design/versions/{v}/sections/{s}/delete",
    "/design/versions/{v}/sections/{s}/move",
    "/design/versions/{v}/questions/{q}/delete",
    "/design/versions/{v}/questions/{q}/move",
]


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    version = save_version(load(DEFINITIONS_DIR / "city-residents.yaml"), status="draft")
    db.session.commit()
    return version


def ids(version: QuestionnaireVersion) -> dict[str, int]:
    section = version.sections[0]
    return {"v": version.id, "s": section.id, "q": section.questions[-1].id}


def row(version: QuestionnaireVersion, code: str) -> Question:
    return db.session.scalar(
        select(Question).where(Question.version_id == version.id, Question.code == code)
    )


@pytest.mark.parametrize("route", GET_ROUTES + POST_ROUTES)
def test_anonymous_users_are_sent_to_the_login_page(client, draft, route):
    method = client.post if route in POST_ROUTES else client.get
    response = method(route.format(**ids(draft)))
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("role", ["respondent", "quality_lead"])
@pytest.mark.parametrize("route", GET_ROUTES + POST_ROUTES)
def test_other_roles_are_refused(client, auth, draft, role, route):
    auth.login(role=role)
    method = client.post if route in POST_ROUTES else client.get
    assert method(route.format(**ids(draft))).status_code == 403


@pytest.mark.parametrize("role", ["designer", "admin"])
@pytest.mark.parametrize("route", GET_ROUTES)
def test_designers_and_admins_see_every_page(client, auth, draft, role, route):
    auth.login(role=role)
    assert client.get(route.format(**ids(draft))).status_code == 200


@pytest.mark.parametrize("role", ["designer", "admin"])
@pytest.mark.parametrize("route", POST_ROUTES)
def test_designers_and_admins_use_every_button(client, auth, draft, role, route):
    auth.login(role=role)
    response = client.post(route.format(**ids(draft)), data={"direction": "down"})
    assert response.status_code == 302 and "/design/versions/" in response.location


def test_the_index_lists_versions_with_their_rounds(client, auth, make_round):
    auth.login()
    make_round(name="2004 autumn")
    page = client.get("/design/").text
    assert "office-services" in page and "2004 autumn" in page
    assert "Frozen" in client.get("/design/?lang=en").text


def test_an_empty_index_says_what_to_do(client, auth):
    auth.login()
    assert "No questionnaires yet" in client.get("/design/?lang=en").text


def test_a_new_questionnaire_starts_as_a_draft(client, auth, office_version):
    auth.login()
    response = client.post(
        "/design/questionnaires/new",
        data={"code": "residents-2005", "title_zh": "居民", "title_en": ""},
    )
    version = db.session.scalar(
        select(QuestionnaireVersion).order_by(QuestionnaireVersion.id.desc())
    )
    assert response.location.endswith(f"/design/versions/{version.id}")
    assert (version.questionnaire.code, version.status, version.title_en) == (
        "residents-2005",
        "draft",
        "",
    )


def test_a_used_questionnaire_id_is_refused_next_to_the_field(client, auth, office_version):
    auth.login()
    page = client.post(
        "/design/questionnaires/new?lang=en", data={"code": "office-services", "title_zh": "x"}
    ).text
    assert 'id="code-error">The id office-services is already used' in page


def test_importing_a_broken_file_shows_the_file_line_and_reason(client, auth):
    auth.login()
    text = (DEFINITIONS_DIR / "city-residents.yaml").read_text("utf-8")
    broken = text.replace("type: rating", "type: ratting", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "ratting" in x)) + 1
    upload = (io.BytesIO(broken.encode()), "residents.yaml")
    page = client.post("/design/questionnaires/import?lang=en", data={"file": upload}).text
    assert f"residents.yaml, line {line}:" in page
    assert "unknown type &#39;ratting&#39;" in page
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 0


def test_importing_a_broken_file_in_chinese_gives_the_reason_in_chinese(client, auth):
    auth.login()
    text = (DEFINITIONS_DIR / "city-residents.yaml").read_text("utf-8")
    broken = text.replace("type: rating", "type: ratting", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "ratting" in x)) + 1
    upload = (io.BytesIO(broken.encode()), "residents.yaml")
    page = client.post("/design/questionnaires/import?lang=zh", data={"file": upload}).text
    assert f"residents.yaml, 第 {line} 行:" in page
    assert "未知的题型 &#39;ratting&#39;（应为以下之一：" in page
    assert "unknown type" not in page


def test_importing_pasted_yaml_makes_a_draft_version(client, auth, office_version):
    auth.login()
    text = (DEFINITIONS_DIR / "office-services.yaml").read_text("utf-8")
    changed = text.replace("公文办理的及时性", "公文办理的时效", 1)
    response = client.post("/design/questionnaires/import", data={"text": changed})
    version = db.session.scalar(
        select(QuestionnaireVersion).where(QuestionnaireVersion.number == 2)
    )
    assert response.location.endswith(f"/design/versions/{version.id}")
    assert version.status == "draft" and office_version.number == 1


def test_importing_needs_a_file_or_a_text(client, auth):
    auth.login()
    page = client.post("/design/questionnaires/import?lang=en", data={"text": " "}).text
    assert "Choose a file or paste" in page


def question_form(version: QuestionnaireVersion, code: str, **changes) -> dict:
    """What the edit page posts for a question, with `changes`."""
    from survey.design.questionnaire_forms import question_data

    q = row(version, code)
    data = question_data(to_model(version).question(code), q.section_id)
    data.update(changes)
    data = {k: v for k, v in data.items() if v not in (None, False)}
    return {k: (v if isinstance(v, list) else str(v)) for k, v in data.items()}


def test_editing_a_question_saves_every_field(client, auth, draft):
    auth.login()
    q = row(draft, "overall")
    data = question_form(
        draft,
        "overall",
        text_en="Overall, how satisfied are you?",
        audience=["residents"],
        required="y",
        help_zh="请如实填写",
    )
    response = client.post(f"/design/versions/{draft.id}/questions/{q.id}/edit", data=data)
    assert response.status_code == 302 and response.location.endswith("#question-overall")
    saved = to_model(draft).question("overall")
    assert saved.text.en == "Overall, how satisfied are you?"
    assert (saved.audience, saved.required, saved.help.zh) == (("residents",), True, "请如实填写")


def test_a_refused_edit_shows_the_loaders_reason_next_to_the_field(client, auth, draft):
    auth.login()
    q = row(draft, "overall")
    data = question_form(draft, "overall", category="City Order")
    page = client.post(f"/design/versions/{draft.id}/questions/{q.id}/edit?lang=en", data=data).text
    assert 'id="category-error">question &#39;overall&#39;: category' in page
    assert to_model(draft).question("overall").category != "City Order"


def test_a_refused_edit_in_chinese_gives_the_loaders_reason_in_chinese(client, auth, draft):
    auth.login()
    q = row(draft, "overall")
    data = question_form(draft, "overall", category="City Order")
    page = client.post(f"/design/versions/{draft.id}/questions/{q.id}/edit?lang=zh", data=data).text
    assert 'id="category-error">问题 &#39;overall&#39;：类别 &#39;City Order&#39; 必须是' in page


def test_a_choice_question_is_added_with_its_choices(client, auth, draft):
    auth.login()
    section = draft.sections[0]
    data = {
        "section": section.id,
        "code": "contact",
        "type": "choice",
        "text_zh": "联系方式",
        "served_unit": "",
        "scale": "",
        "choices": "phone|电话|Telephone\nmail|信件|",
    }
    response = client.post(f"/design/versions/{draft.id}/questions/new", data=data)
    assert response.status_code == 302
    added = to_model(draft).question("contact")
    assert [(c.code, c.label.get("en")) for c in added.choices] == [
        ("phone", "Telephone"),
        ("mail", "信件"),
    ]


def test_sections_are_added_edited_and_reordered(client, auth, draft):
    auth.login()
    client.post(
        f"/design/versions/{draft.id}/sections/new",
        data={"code": "extra", "title_zh": "补充", "title_en": "More"},
    )
    last = draft.sections[-1]
    client.post(f"/design/versions/{draft.id}/sections/{last.id}/move", data={"direction": "up"})
    client.post(
        f"/design/versions/{draft.id}/sections/{last.id}/edit",
        data={"code": "extra", "title_zh": "补充问题", "title_en": "More"},
    )
    db.session.expire_all()
    titles = [s.title.zh for s in to_model(draft).sections]
    assert titles[-2] == "补充问题" and len(titles) >= 3


def test_questions_move_up_and_down(client, auth, draft):
    auth.login()
    first, second = draft.sections[1].questions[:2]
    url = f"/design/versions/{draft.id}/questions/{second.id}/move"
    response = client.post(url, data={"direction": "up"})
    assert response.location.endswith(f"#question-{second.code}")
    db.session.expire_all()
    assert [q.code for q in draft.sections[1].questions][:2] == [second.code, first.code]


def test_deleting_a_question_with_answers_is_refused_with_the_reason(client, auth, draft):
    auth.login()
    q = draft.sections[0].questions[0]
    round_ = Round(name="legacy", version=draft, status="closed")  # made before freezing existed
    db.session.add(round_)
    db.session.flush()
    group = db.session.scalar(select(RespondentGroup))
    response = Response(round_id=round_.id, submission_key="k", group_id=group.id)
    response.answers.append(Answer(question_id=q.id, question_code=q.code, value=5))
    db.session.add(response)
    db.session.commit()
    page = client.post(
        f"/design/versions/{draft.id}/questions/{q.id}/delete?lang=en", follow_redirects=True
    ).text
    assert "This question has answers, so it cannot be deleted" in page
    assert row(draft, q.code) is not None


def test_a_frozen_version_offers_a_new_draft_and_keeps_its_questions(
    client, auth, make_round, office_version
):
    auth.login()
    make_round()
    before = [(q.id, q.code, q.text_zh) for s in office_version.sections for q in s.questions]
    page = client.get(f"/design/versions/{office_version.id}?lang=en").text
    assert "Edit as new draft" in page and "/questions/" not in page
    q = office_version.sections[0].questions[0]
    edit = f"/design/versions/{office_version.id}/questions/{q.id}/edit"
    assert client.get(edit).status_code == 302
    response = client.post(f"/design/versions/{office_version.id}/new-draft")
    copy = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.number == 2))
    assert response.location.endswith(f"/design/versions/{copy.id}")
    client.post(f"/design/versions/{copy.id}/questions/{row(copy, q.code).id}/delete")
    db.session.expire_all()
    assert [
        (q.id, q.code, q.text_zh) for s in office_version.sections for q in s.questions
    ] == before
    assert row(copy, q.code) is None and copy.status == "draft"


def test_publishing_a_draft_and_making_it_a_draft_again(client, auth, draft):
    auth.login()
    client.post(f"/design/versions/{draft.id}/publish")
    db.session.expire_all()
    assert draft.status == "published" and draft.frozen_at is None
    client.post(f"/design/versions/{draft.id}/unpublish")
    db.session.expire_all()
    assert draft.status == "draft"


@pytest.mark.parametrize("definition", load_dir(DEFINITIONS_DIR), ids=lambda q: q.id)
def test_the_export_loads_back_to_the_identical_questionnaire(client, auth, definition):
    auth.login()
    version = save_version(definition)
    db.session.commit()
    response = client.get(f"/design/versions/{version.id}/export.yaml")
    assert response.headers["Content-Disposition"].endswith(f'"{definition.id}-v1.yaml"')
    assert loads(response.data) == definition


class _Fields(HTMLParser):
    """The question fields of a survey form, in order: (tag, name, type, value, id)."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea", "select") and attrs.get("name", "").startswith("q_"):
            self.fields.append(
                (
                    tag,
                    attrs["name"],
                    attrs.get("type"),
                    attrs.get("value"),
                    attrs.get("id"),
                    "required" in attrs,
                )
            )


def question_fields(html: str) -> list[tuple]:
    parser = _Fields()
    parser.feed(html)
    return parser.fields


@pytest.mark.parametrize("group", ["mayors", "departments", "cppcc", "congress"])
def test_the_preview_shows_the_live_form_of_each_group(client, auth, make_invitation, group):
    invitation = make_invitation(group=group)
    live = client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True).text
    auth.login()
    preview = client.get(
        f"/design/versions/{invitation.round.version_id}/preview?group={group}&lang=en"
    ).text
    assert question_fields(preview) == question_fields(live)
    assert len(question_fields(live)) > 20
    assert "Preview — answers are not stored" in preview
    assert 'method="post"' not in preview.split('class="survey-form"')[0][-200:]
    assert preview.count(" disabled>") == 2


def test_the_preview_refuses_a_group_the_version_does_not_have(client, auth, office_version):
    auth.login()
    url = f"/design/versions/{office_version.id}/preview?group=nobody"
    assert client.get(url).status_code == 404


class TestWithCsrf:
    """Every button and form of the editor carries the CSRF token; a post without it fails."""

    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    def test_a_move_needs_the_pages_token(self, client, make_user, draft):
        user = make_user(role="designer")
        login = {
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": self.token(client.get("/login").text),
        }
        assert client.post("/login", data=login).status_code == 302
        second = draft.sections[1].questions[1]
        url = f"/design/versions/{draft.id}/questions/{second.id}/move"
        assert client.post(url, data={"direction": "up"}).status_code == 400
        page = client.get(f"/design/versions/{draft.id}").text
        moved = client.post(url, data={"direction": "up", "csrf_token": self.token(page)})
        assert moved.status_code == 302
        db.session.expire_all()
        assert draft.sections[1].questions[0].id == second.id
