"""GET /api/v1/rounds and /api/v1/rounds/<id>/results: the dashboard's figures as JSON."""

from __future__ import annotations

import json

import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

import analysis
from survey import rounds
from survey.extensions import db
from survey.models import utcnow
from survey.results import answers_frame

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.


@pytest.mark.parametrize("path", ["/api/v1/rounds", "/api/v1/rounds/{r}/results"])
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), ("respondent", 403), ("designer", 403), ("quality_lead", 200), ("admin", 200)],
)
def test_only_quality_leads_and_admins_read_results(client, auth, known_round, path, role, status):
    if role:
        auth.login(role=role)
    response = client.get(path.format(r=known_round.id))
    assert response.status_code == status and response.is_json
    if status == 401:
        assert response.json["login"] == "/login"


def test_rounds_list_their_response_rate(client, auth, known_round):
    auth.login(role="quality_lead")
    (row,) = client.get("/api/v1/rounds").json["rounds"]
    assert (row["id"], row["responses"], row["submitted"], row["response_rate"]) == (
        known_round.id,
        10,
        10,
        1.0,
    )
    assert row["results_url"] == f"/api/v1/rounds/{known_round.id}/results"


def test_results_equal_the_cli_output(client, auth, runner, known_round):
    auth.login(role="quality_lead")
    items = client.get(f"/api/v1/rounds/{known_round.id}/results").json["items"]
    cli = json.loads(runner.invoke(args=["analyse", str(known_round.id), "--json"]).output)
    assert [r["question"] for r in items] == [r["question"] for r in cli]
    for api_row, cli_row in zip(items, cli):
        for key, value in cli_row.items():
            assert api_row[key] == (pytest.approx(value) if isinstance(value, float) else value)


def test_results_equal_the_analysis(client, auth, known_round):
    auth.login(role="quality_lead")
    body = client.get(f"/api/v1/rounds/{known_round.id}/results?lang=en").json
    headline = analysis.headline_table(answers_frame(known_round))
    assert {r["category"]: r["rate"] for r in body["categories"]} == pytest.approx(
        dict(zip(headline["category"].astype(str), headline["rate"]))
    )

    assert body["categories"][0]["category_label"] == "Document processing"
    assert body["summary"]["respondents"] == 10 and body["previous_round"] is None


def test_a_small_group_has_no_figures(client, auth, known_round):
    auth.login(role="quality_lead")
    groups = client.get(f"/api/v1/rounds/{known_round.id}/results").json["groups"]
    mayors = next(g for g in groups if g["group"] == "mayors")
    assert mayors["suppressed"] and mayors["rate"] is None and mayors["n"] is None


def test_what_the_anonymity_rule_holds_back_is_named(client, auth, known_round, answer):
    # Two departments answer the liaison item: too few to publish it, or count it anywhere.
    for _ in range(2):
        answer(known_round, "departments", {"liaison_contact": 1})
    auth.login(role="quality_lead")
    body = client.get(f"/api/v1/rounds/{known_round.id}/results?lang=en").json
    assert [w["question"] for w in body["withheld_items"]] == ["liaison_contact"]
    assert "liaison_contact" not in {i["question"] for i in body["items"]}
    # The 4 mayors, and the departments hidden with them (the round minus one is the other).
    assert body["other_groups"] == ["departments", "mayors"]
    page = client.get(f"/review/rounds/{known_round.id}?lang=en").text
    assert "Not shown: 1 item was answered by fewer than 5 respondents" in page


def test_the_previous_round_comes_with_the_test_and_the_adjusted_p_value(client, auth, two_rounds):
    before, after = two_rounds
    auth.login(role="quality_lead")
    previous = client.get(f"/api/v1/rounds/{after.id}/results").json["previous_round"]
    assert previous["id"] == before.id
    documents = next(r for r in previous["categories"] if r["category"] == "services.documents")
    # 6 of 6 satisfied before, 7 of 10 after: an expected count of 1.1, so Fisher's exact test.
    z, _ = analysis.two_proportion_z_test(6, 6, 7, 10)
    assert documents["rate_before"] == 1.0 and documents["rate_after"] == 0.7
    assert documents["z"] == pytest.approx(z) and documents["test"] == "fisher"
    assert documents["p_value"] == pytest.approx(fisher_exact([[6, 0], [7, 3]]).pvalue)
    tested = [r for r in previous["categories"] if r["p_value"] is not None]
    q = multipletests([r["p_value"] for r in tested], method="fdr_bh")[1]
    assert [r["p_adjusted"] for r in tested] == pytest.approx(q)
    assert [r["significant"] for r in tested] == (q < 0.05).tolist()


def test_an_unknown_round_is_a_json_404(client, auth, app):
    auth.login(role="quality_lead")
    response = client.get("/api/v1/rounds/999/results")
    assert response.status_code == 404 and response.json["status"] == 404


def test_an_archived_round_is_listed_only_when_asked_for(client, auth, known_round):
    known_round.status = "closed"
    rounds.archive(known_round, utcnow())
    db.session.commit()
    auth.login(role="quality_lead")
    assert client.get("/api/v1/rounds").json["rounds"] == []
    (row,) = client.get("/api/v1/rounds?archived=1").json["rounds"]
    assert row["id"] == known_round.id
    assert row["archived_at"] == known_round.archived_at.isoformat()


@pytest.mark.parametrize("scale", ["three_points", "odd_values", "top_box"])
def test_results_of_a_round_on_another_scale_count_its_own_satisfied_points(
    client, auth, runner, scaled_round, scale
):
    round_, expected = scaled_round(scale)
    auth.login(role="quality_lead")
    response = client.get(f"/api/v1/rounds/{round_.id}/results")
    assert response.status_code == 200
    items = {row["question"]: row for row in response.json["items"]}
    assert set(items) == set(expected)
    for code, (n, satisfied, dissatisfied) in expected.items():
        row = items[code]
        assert (row["n"], row["satisfied"]) == (n, satisfied), code
        assert row["rate"] == pytest.approx(satisfied / n)
        assert row["dissatisfied_share"] == pytest.approx(dissatisfied / n)
    summary = response.json["summary"]
    assert summary["satisfied"] == sum(row[1] for row in expected.values())


# --- the API serves no raw answers, and every results answer is audited --------------------


def test_each_results_request_is_in_the_audit_log_once(client, auth, known_round):
    from survey import audit

    user = auth.login(role="quality_lead")
    client.get("/api/v1/rounds")  # the list of rounds is no download of results
    client.get(f"/api/v1/rounds/{known_round.id}/results?lang=en")
    client.get(f"/api/v1/rounds/{known_round.id}/results?lang=zh")
    events = list(db.session.scalars(audit.newest_first("results_downloaded")))
    assert [(e.actor, e.target, e.detail) for e in events] == [
        (user.email, f"round:{known_round.id}", {"format": "json", "language": lang})
        for lang in ("zh", "en")
    ]
    assert list(db.session.scalars(audit.newest_first("raw_answers_downloaded"))) == []


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_api_names_no_respondent_unit_or_invitee(app, client, auth, make_round, anonymous):
    from tests.survey.review.data import AUDIENCE, audience_round, person

    # A reader without the permission to take identified answers: the API holds none to give.
    app.config["RAW_ANSWER_ROLES"] = []
    round_ = audience_round(make_round, anonymous=anonymous)
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/rounds")}
    assert routes == {"api.rounds_index", "api.round_results_json", "api.round_comments"}
    auth.login(role="designer")
    assert client.get(f"/api/v1/rounds/{round_.id}/results").status_code == 403
    auth.logout()
    auth.login(role="quality_lead")
    text = client.get(f"/api/v1/rounds/{round_.id}/results?lang=en").text
    text += client.get("/api/v1/rounds").text
    text += client.get(f"/api/v1/rounds/{round_.id}/comments?lang=en").text
    people = [t for k in range(sum(AUDIENCE.values())) for t in person(k)]
    units = ["cppcc_office", "vmayor_exec", "dept_drc", "Office of the Mayor"]
    assert [t for t in people + units if t in text] == []
