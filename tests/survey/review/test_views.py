"""The quality lead's results pages: who may see them, what they show, what they hide."""

from __future__ import annotations

import re

import pytest

import analysis
from survey.extensions import db
from survey.results import answers_frame
from tests.factories import OTHER_SCALES
from tests.survey.review.data import INJECTION

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.

ROUTES = [
    "/review/", "/review/rounds/{r}", "/review/rounds/{r}/categories/services.documents",
    "/review/rounds/{r}/items/doc_timeliness", "/review/rounds/{r}/groups/departments",
    "/review/rounds/{r}/units/documents", "/review/rounds/{r}/comments",
    "/review/rounds/{r}/charts/rates.png", "/review/rounds/{r}/charts/heatmap.svg",
    "/review/rounds/{r}/answers.csv", "/review/rounds/{r}/tables/items.csv",
    "/review/rounds/{r}/results.xlsx", "/review/rounds/{r}/report.pdf",
]  # fmt: skip


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("respondent", 403), ("designer", 403), ("quality_lead", 200), ("admin", 200)],
)
def test_only_quality_leads_and_admins_see_results(client, auth, known_round, path, role, status):
    if role:
        auth.login(role=role)
    response = client.get(path.format(r=known_round.id))
    assert response.status_code == status
    if role is None:
        assert "/login" in response.headers["Location"]


def test_a_quality_lead_lands_on_the_results(client, auth):
    auth.login(role="quality_lead")
    assert client.get("/").headers["Location"].endswith("/review/")


def test_the_rounds_list_shows_response_rates(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get("/review/").text
    assert f'href="/review/rounds/{known_round.id}"' in page and "100%" in page


def test_headline_figures_equal_those_of_the_analysis(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}?lang=en").text
    headline = analysis.headline_table(answers_frame(known_round))
    for row in headline.itertuples():
        assert f"{row.rate * 100:.0f}%" in page
        assert f"{row.ci_low * 100:.1f}–{row.ci_high * 100:.1f}%" in page
        assert f'href="/review/rounds/{known_round.id}/categories/{row.category}"' in page
    # 7 of 10 document ratings are 4 or 5: "70% satisfied with document processing".
    assert re.search(r"70%</span>\s*<span[^>]*>satisfied with Document processing", page)


def test_items_below_the_threshold_come_first(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}?lang=en").text
    below = page.split('id="below"')[1].split('id="items"')[0]
    # mtg_minutes 3/6 = 50% before doc_timeliness 7/10 and overall 7/10.
    assert below.index("minutes") < below.index("Timeliness of document handling")


def test_a_group_of_four_is_suppressed_under_a_threshold_of_five(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}?lang=en").text
    groups = page.split('id="groups"')[1].split('id="units"')[0]
    mayors_row = groups.split("Mayors and vice-mayors")[1].split("</tr>")[0]
    assert ">hidden<" in mayors_row and "%" not in mayors_row
    assert f"/review/rounds/{known_round.id}/groups/mayors" not in page
    group_page = client.get(f"/review/rounds/{known_round.id}/groups/mayors?lang=en").text
    assert "not shown on their own" in group_page and "%" not in group_page.split("<main")[1]


def test_a_round_without_responses_says_so(client, auth, empty_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{empty_round.id}?lang=en").text
    assert "No responses yet." in page and "<img" not in page


def test_an_item_shows_its_distribution_groups_and_comments(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}/items/mtg_minutes?lang=en").text
    assert "50.0%" in page and "Very dissatisfied" in page
    assert "HYPERLINK" in page and INJECTION not in page  # shown, but escaped
    assert f"/review/rounds/{known_round.id}/comments?question=mtg_minutes" in page


def test_comments_filter_by_item_group_and_rating(client, auth, known_round, answer):
    # Five congress offices: the 4 mayors are then hidden with them, not with the departments,
    # whose comments can be filtered on.
    for _ in range(5):
        answer(known_round, "congress", {"doc_timeliness": 4, "overall": 4})
    auth.login(role="quality_lead")
    base = f"/review/rounds/{known_round.id}/comments?lang=en"
    assert "3 comments" in client.get(base).text
    assert "1 comment" in client.get(base + "&question=mtg_minutes&rating=1").text
    assert "0 comments" in client.get(base + "&group=departments&rating=5").text


def test_comments_never_name_or_filter_a_small_group(client, auth, known_round):
    auth.login(role="quality_lead")
    base = f"/review/rounds/{known_round.id}/comments?lang=en"
    page = client.get(base).text
    assert "太慢" in page and "other groups" in page
    assert 'value="mayors"' not in page
    assert "Not a valid choice" in client.get(base + "&group=mayors").text


def test_weighted_figures_stand_beside_the_unweighted(client, auth, weighted_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{weighted_round.id}?lang=en").text
    assert "Weighted by group" in page and "n_eff" in page


def test_the_previous_round_is_compared_with_p_values(client, auth, two_rounds):
    _before, after = two_rounds
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{after.id}?lang=en").text
    comparison = page.split('id="comparison"')[1].split('id="drivers"')[0]
    assert "2003 autumn" in comparison and "p " in comparison and "significant" in comparison


def test_the_comparison_names_the_exact_test_and_shows_adjusted_p_values(client, auth, two_rounds):
    _before, after = two_rounds
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{after.id}?lang=en").text
    comparison = page.split('id="comparison"')[1].split('id="drivers"')[0]
    # Documents, 6 of 6 -> 7 of 10: Fisher's exact test; its adjusted p beside the p-value.
    assert "(exact test) · adjusted p" in comparison and "Benjamini" in comparison


def test_charts_are_images_with_alt_text(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}?lang=en").text
    images = re.findall(r"<img [^>]*>", page)
    # The trend chart appears only beside a previous round.
    assert len(images) == 4 and all('alt="' in img and 'alt=""' not in img for img in images)
    png = client.get(re.search(r'src="([^"]+)"', images[0]).group(1).replace("&amp;", "&"))
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "/review/rounds/999",
        "/review/rounds/{r}/categories/nope",
        "/review/rounds/{r}/items/nope",
        "/review/rounds/{r}/units/x",
        "/review/rounds/{r}/charts/pie.png",
        "/review/rounds/{r}/charts/rates.gif",
        "/review/rounds/{r}/tables/secrets.csv",
    ],
)
def test_unknown_things_are_not_found(client, auth, known_round, path):
    auth.login(role="quality_lead")
    assert client.get(path.format(r=known_round.id)).status_code == 404


def test_an_item_with_too_few_pairs_is_listed_without_a_quadrant(client, auth, make_round, answer):
    round_ = make_round()
    for k in range(12):
        rating = 5 - k % 4
        answers = {"doc_timeliness": rating, "overall": rating}
        if k < 6:  # asked of, or answered by, six respondents only (enough to publish it)
            answers["mtg_minutes"] = rating
        answer(round_, "departments", answers)
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{round_.id}?lang=en").text
    drivers = page.split('id="drivers"')[1].split('id="downloads"')[0]
    assert "1 item was rated together with the overall item by fewer than 10 respondents" in drivers
    row = next(r for r in drivers.split("<tr>") if "/items/mtg_minutes" in r)
    assert "No quadrant: too few respondents rated it with the overall item" in row
    placed = next(r for r in drivers.split("<tr>") if "/items/doc_timeliness" in r)
    assert "No quadrant" not in placed and "Keep up the good work" in placed
    # its importance is 1 in every resample: interval 1.00 – 1.00, stable in all of them
    assert "1.00 – 1.00" in placed and "100%" in placed


def test_an_unplaced_item_does_not_hide_that_every_placed_correlation_is_weak(
    client, auth, make_round, answer
):
    round_ = make_round()
    for k in range(12):
        # doc_timeliness varies at random against overall (|r| < 0.2); mtg_minutes follows
        # overall exactly, but for six respondents only.
        overall = [5, 4, 2, 5, 4, 2, 5, 4, 2, 5, 4, 2][k]
        answers = {"overall": overall, "doc_timeliness": [4, 4, 4, 2, 2, 2, 5, 5, 5, 3, 3, 3][k]}
        if k < 6:
            answers["mtg_minutes"] = overall
        answer(round_, "departments", answers)
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{round_.id}?lang=en").text
    assert "Every correlation is weak" in page
    item = client.get(f"/review/rounds/{round_.id}/items/mtg_minutes?lang=en").text
    assert "no quadrant: only 6 respondents rated it together with the overall item" in item


def _links_answer(client, page, round_id: int) -> list[tuple[str, int]]:
    """Every link of a page into the round's review pages, with the status it answers."""
    hrefs = set(re.findall(rf'href="(/review/rounds/{round_id}/[^"]*)"', page.text))
    return [(href, client.get(href.replace("&amp;", "&")).status_code) for href in sorted(hrefs)]


def test_a_rating_item_without_a_category_keeps_the_dashboard(
    client, auth, make_round, answer, office_version
):
    # The editor lets a rating question go without a category.
    office_version.sections[0].questions[0].category = None
    db.session.commit()
    round_ = make_round()
    for _ in range(5):  # enough respondents to publish the item
        answer(round_, "departments", {office_version.sections[0].questions[0].code: 4})
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{round_.id}?lang=en")
    assert page.status_code == 200 and "Items without a category" in page.text
    assert [link for link in _links_answer(client, page, round_.id) if link[1] != 200] == []
    for download in ("report.pdf", "results.xlsx", "answers.csv"):
        assert client.get(f"/review/rounds/{round_.id}/{download}?lang=en").status_code == 200


def test_every_link_of_the_comments_page_leads_somewhere(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}/comments?lang=en")
    assert page.status_code == 200 and "/items/comment" not in page.text
    assert [link for link in _links_answer(client, page, known_round.id) if link[1] != 200] == []


def test_an_items_page_links_to_its_corrective_action(client, lead, action, login_as):
    login_as(lead)
    page = client.get(f"/review/rounds/{action.round_id}/items/{action.question_code}?lang=en")
    assert page.status_code == 200
    assert (
        f'href="/actions/{action.id}"' in page.text
        and "Corrective actions on this item" in page.text
    )
    assert client.get(f"/actions/{action.id}").status_code == 200


def test_a_division_sees_its_own_scorecard_and_nothing_else(
    client, known_round, served_user, login_as
):
    known_round.status = "closed"  # an open round's scorecard is sealed (test_sealing.py)
    db.session.commit()
    division = served_user(unit="documents", role="respondent")
    login_as(division)
    home = client.get("/?lang=en").text
    own = f"/review/rounds/{known_round.id}/units/documents"
    assert f'href="{own}"' in home
    page = client.get(own)
    assert page.status_code == 200 and "Scorecard" in page.text
    # Every link of the page opens for them; the whole round's pages and downloads do not.
    assert [link for link in _links_answer(client, page, known_round.id) if link[1] != 200] == []
    assert client.get(f"/review/rounds/{known_round.id}/units/meetings").status_code == 403
    assert client.get(f"/review/rounds/{known_round.id}").status_code == 403
    assert client.get(f"/review/rounds/{known_round.id}/answers.csv").status_code == 403


@pytest.mark.parametrize("scale", ["three_points", "odd_values", "top_box", "seven_points"])
def test_a_round_on_another_scale_shows_its_own_satisfied_points(client, auth, scaled_round, scale):
    round_, expected = scaled_round(scale)
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{round_.id}?lang=en")
    assert page.status_code == 200
    n, satisfied = (sum(row[i] for row in expected.values()) for i in (0, 1))
    points = " or ".join(str(v) for v in OTHER_SCALES[scale][1])  # 3, 7 or 9, 5
    assert f">{satisfied / n * 100:.1f}%<" in page.text
    assert f"of all ratings are satisfied ({points})" in page.text
    item = client.get(f"/review/rounds/{round_.id}/items/doc_timeliness?lang=en")
    n, satisfied, _ = expected["doc_timeliness"]
    assert item.status_code == 200 and f">{satisfied / n * 100:.1f}%<" in item.text
    assert f"satisfied ({points})" in item.text
    for path in (
        "charts/distribution.png",
        "charts/rates.png",
        "charts/quadrant.png",
        "report.pdf",
    ):
        assert client.get(f"/review/rounds/{round_.id}/{path}").status_code == 200, path


# --- downloads: who may take what, and the audit log --------------------------------------

DOWNLOADS = [
    ("answers.csv", "raw_answers_downloaded", "csv"),
    ("tables/items.csv", "results_downloaded", "csv"),
    ("results.xlsx", "raw_answers_downloaded", "xlsx"),
    ("report.pdf", "results_downloaded", "pdf"),
]
DOWNLOAD_EVENTS = ("results_downloaded", "raw_answers_downloaded")


def _downloads() -> list:
    from sqlalchemy import select

    from survey.models import AuditEvent

    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(DOWNLOAD_EVENTS)).order_by(AuditEvent.id)
        )
    )


@pytest.mark.parametrize(("path", "action", "fmt"), DOWNLOADS)
def test_every_download_of_results_is_in_the_audit_log(
    client, auth, known_round, path, action, fmt
):
    user = auth.login(role="quality_lead")
    assert client.get(f"/review/rounds/{known_round.id}/{path}?lang=en").status_code == 200
    (event,) = _downloads()
    assert (event.action, event.actor, event.target) == (
        action,
        user.email,
        f"round:{known_round.id}",
    )
    assert (event.detail["format"], event.detail["language"]) == (fmt, "en")
    if action == "raw_answers_downloaded":  # a named round's: with the units
        assert event.detail["unit_codes"] is True
    if path.startswith("tables/"):
        assert event.detail["table"] == "items"


def test_a_download_that_is_refused_or_missing_writes_nothing(client, auth, known_round):
    auth.login(role="designer")
    assert client.get(f"/review/rounds/{known_round.id}/answers.csv").status_code == 403
    auth.logout()
    auth.login(role="quality_lead")
    assert client.get(f"/review/rounds/{known_round.id}/tables/nothing.csv").status_code == 404
    assert _downloads() == []


def test_without_the_permission_a_reader_gets_no_raw_answers_of_a_named_round(
    app, client, auth, known_round, make_round
):
    import io

    from openpyxl import load_workbook

    from tests.survey.review.data import audience_round

    app.config["RAW_ANSWER_ROLES"] = []  # admins only
    anonymous = audience_round(make_round)
    for round_ in (known_round, anonymous):  # an open round's figures are sealed for them
        round_.status = "closed"
    db.session.commit()
    auth.login(role="quality_lead")
    assert client.get(f"/review/rounds/{known_round.id}/answers.csv").status_code == 403
    response = client.get(f"/review/rounds/{known_round.id}/results.xlsx?lang=en")
    sheets = load_workbook(io.BytesIO(response.data)).sheetnames
    assert "Raw data" not in sheets and {"Summary", "Items", "Questions"} <= set(sheets)
    (event,) = _downloads()
    assert (event.action, event.detail["format"]) == ("results_downloaded", "xlsx")
    # An anonymous round's raw answers name no unit: every reader of the results takes them.
    assert client.get(f"/review/rounds/{anonymous.id}/answers.csv").status_code == 200
    last = _downloads()[-1]
    assert (last.action, last.detail["unit_codes"]) == ("raw_answers_downloaded", False)
    # Admins always may.
    auth.logout()
    auth.login(role="admin")
    assert client.get(f"/review/rounds/{known_round.id}/answers.csv").status_code == 200


def test_an_items_note_shows_its_comment_and_the_button_to_make_it_an_action(
    client, auth, make_round, rate
):
    from survey import corrective
    from survey.extensions import db
    from survey.models import utcnow

    round_ = rate(make_round(), 9, 10, low=1, comments=("文件丢了",))
    corrective.run_rules(round_, utcnow())
    db.session.commit()
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{round_.id}/items/doc_timeliness?lang=en").text
    note = page.split('id="note"')[1].split("</section>")[0]
    assert "文件丢了" in note and "Make it a corrective action" in note


def test_one_persons_comments_are_not_listed_side_by_side(client, auth, known_round, answer):
    # Found by review: listed response by response, a comment labelled "other groups" stood
    # beside the same person's comment on another question that named their group.
    for _ in range(3):
        answer(known_round, "departments", {"doc_timeliness": 1, "mtg_minutes": 1},
               {"doc_timeliness": "slow A", "mtg_minutes": "late B"})  # fmt: skip
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}/comments?lang=en").text
    order = [text for text in re.findall(r"(slow A|late B)", page)]
    # Grouped by question: all of one question's comments, then the other's.
    assert order in (["slow A"] * 3 + ["late B"] * 3, ["late B"] * 3 + ["slow A"] * 3)
