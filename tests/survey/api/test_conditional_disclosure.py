"""Questions asked only after certain answers (conditions) repeat those answers: how many
answered them, whether anyone did, what they wrote. When the answers they depend on are
withheld, nothing of them is published: not a count, not an n, not a text. (Found by a review:
each test here published a small group's withheld answers before the fix.)"""

from questionnaires import loads
from survey import responses
from survey.models import utcnow
from tests.conditional import conditional_round, invite
from tests.survey.api.conftest import bearer

YAML = """\
id: crossgroup
title: {zh: 调查, en: Survey}
groups:
  - {code: mayors, label: {zh: 市长, en: Mayors}}
  - {code: departments, label: {zh: 部门, en: Departments}}
  - {code: congress, label: {zh: 人大, en: Congress}}
sections:
  - code: main
    title: {zh: 主, en: Main}
    questions:
      - code: overall
        type: rating
        category: overall
        text: {zh: 总体, en: Overall}
      - code: mayor_score
        type: rating
        category: mayoral
        audience: [mayors]
        text: {zh: 市长专项, en: The mayors' own service}
      - code: improve
        type: choice
        text: {zh: 改进, en: What to improve first}
        show_if: not(${mayor_score} >= 3)
        choices:
          - {code: speed, label: {zh: 速度, en: Speed}}
          - {code: quality, label: {zh: 质量, en: Quality}}
"""


def _answer(round_, group, answers):
    invitation = invite(round_, group)
    responses.submit(invitation, answers, {}, f"k-{invitation.id}", utcnow())


def test_a_choice_asked_after_a_withheld_rating_has_no_count(
    client, office_version, make_user, make_token
):
    round_ = conditional_round(office_version, loads(YAML, filename="crossgroup.yaml"))
    for group in ("departments", "congress"):
        for i in range(6):
            _answer(round_, group, {"overall": 4 + i % 2, "improve": "speed"})
    # The three mayors all rate their own service 1 (withheld: 3 < 5), so each is asked "improve".
    for _ in range(3):
        _answer(round_, "mayors", {"overall": 4, "mayor_score": 1, "improve": "quality"})
    secret = make_token(make_user("quality_lead"))
    body = client.get(f"/api/v1/rounds/{round_.id}/results?lang=en", headers=bearer(secret)).json
    assert "mayor_score" in {w["question"] for w in body["withheld_items"]}
    assert "mayors" in body["other_groups"]
    improve = next(q for q in body["choice_questions"] if q["question"] == "improve")
    responses_ = body["round"]["responses"]
    # "improve" is required and shown to everyone but a mayor who rated mayor_score 3 or more:
    # published, its respondents would equal the round's responses (15), so every mayor's
    # withheld mayor_score was below 3 (their answers, worked out from a total).
    assert improve["withheld"] and improve["respondents"] is None, improve
    assert responses_ == 15


NUMBER_YAML = """\
id: numbered
title: {zh: 调查, en: Survey}
groups:
  - {code: mayors, label: {zh: 市长, en: Mayors}}
  - {code: departments, label: {zh: 部门, en: Departments}}
sections:
  - code: main
    title: {zh: 主, en: Main}
    questions:
      - code: used_meetings
        type: choice
        text: {zh: 是否使用, en: 'Used the meeting service?'}
        choices:
          - {code: 'yes', label: {zh: 是, en: 'Yes'}}
          - {code: 'no', label: {zh: 否, en: 'No'}}
      - code: meetings_held
        type: integer
        audience: [mayors]
        show_if: ${used_meetings} = 'yes'
        text: {zh: 会议次数, en: 'How many meetings?'}
      - code: overall
        type: rating
        text: {zh: 总体, en: Overall}
"""


def test_a_whole_number_item_asked_after_withheld_answers_shows_no_n(
    client, office_version, login_as, make_user
):

    round_ = conditional_round(office_version, loads(NUMBER_YAML, filename="numbered.yaml"))
    for _ in range(6):
        _answer(round_, "departments", {"used_meetings": "no", "overall": 4})
    for _ in range(3):
        _answer(round_, "mayors", {"used_meetings": "yes", "meetings_held": 2, "overall": 5})
    login_as(make_user("quality_lead"))
    page = client.get(f"/review/rounds/{round_.id}?lang=en").text
    # n = 3 of a mayors-only item shown only after 'yes' would say each of the three mayors
    # said yes (used_meetings: 9 answers, published; its mayors' part is not).
    row = page.split('id="number-meetings_held"')[1].split("</tr>")[0]
    assert ">3<" not in row and "too few answers to show" in row


def test_free_text_asked_after_a_low_withheld_rating_is_not_listed(
    client, office_version, make_user, make_token
):

    round_ = conditional_round(office_version)
    for _ in range(6):
        _answer(round_, "departments", {"used_meetings": "no", "overall": 4})
    for _ in range(2):
        _answer(
            round_,
            "departments",
            {
                "used_meetings": "yes",
                "mtg_rating": 1,
                "mtg_problem": "the room was cold",
                "overall": 4,
            },
        )
    secret = make_token(make_user("quality_lead"))
    body = client.get(f"/api/v1/rounds/{round_.id}/results?lang=en", headers=bearer(secret)).json
    assert "mtg_rating" in {w["question"] for w in body["withheld_items"]}  # 2 answers < 5
    listed = client.get(
        f"/api/v1/rounds/{round_.id}/comments?question=mtg_problem", headers=bearer(secret)
    ).json
    # mtg_problem is asked only after mtg_rating <= 2: each text listed is a withheld low rating.
    assert listed["total"] == 0, listed["comments"]
