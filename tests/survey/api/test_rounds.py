"""GET /api/v1/rounds and /api/v1/rounds/<id>/results: the dashboard's figures as JSON."""

from __future__ import annotations

import json

import pytest

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


def test_the_previous_round_comes_with_the_z_test(client, auth, two_rounds):
    before, after = two_rounds
    auth.login(role="quality_lead")
    previous = client.get(f"/api/v1/rounds/{after.id}/results").json["previous_round"]
    assert previous["id"] == before.id
    documents = next(r for r in previous["categories"] if r["category"] == "services.documents")
    # 6 of 6 satisfied before, 7 of 10 after.
    z, p = analysis.two_proportion_z_test(6, 6, 7, 10)
    assert documents["rate_before"] == 1.0 and documents["rate_after"] == 0.7
    assert documents["z"] == pytest.approx(z) and documents["p_value"] == pytest.approx(p)


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
