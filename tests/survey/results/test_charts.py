"""The review's charts: the right table, images of the expected size, drawn once per data
version."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

import analysis
from analysis import chart_text
from survey.results import charts, round_results
from survey.results.charts import Chart

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.


@pytest.fixture
def draws(monkeypatch):
    """Counts the calls of analysis.charts.rate_chart (and still draws)."""
    calls = []
    real = analysis.charts.rate_chart

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis.charts, "rate_chart", counting)
    return calls


def test_a_rate_chart_is_a_png_of_its_figure_size(known_round):
    results = round_results(known_round)
    image = Image.open(io.BytesIO(charts.image(results, Chart("rates", "en"))))
    # 9 x (1.6 + 0.45 per item) inches at 100 dpi, three rated items.
    assert image.format == "PNG" and image.size == (900, round((1.6 + 0.45 * 3) * 100))


def test_the_cache_returns_the_same_bytes_without_drawing_again(known_round, draws):
    results = round_results(known_round)
    first = charts.image(results, Chart("rates", "zh"))
    second = charts.image(round_results(known_round), Chart("rates", "zh"))
    assert first == second and len(draws) == 1


def test_a_new_response_draws_the_chart_again(known_round, answer, draws):
    charts.image(round_results(known_round), Chart("rates", "en"))
    answer(known_round, "departments", {"doc_timeliness": 5})
    charts.image(round_results(known_round), Chart("rates", "en"))
    assert len(draws) == 2


def test_each_language_is_drawn_and_kept_on_its_own(known_round, draws):
    results = round_results(known_round)
    assert charts.image(results, Chart("rates", "zh")) != charts.image(
        results, Chart("rates", "en")
    )

    assert len(draws) == 2


def test_svg_is_served_as_svg(known_round):
    svg = charts.image(round_results(known_round), Chart("heatmap", "en"), "svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


def test_a_category_chart_draws_only_its_items(known_round):
    table = charts.table(round_results(known_round), Chart("rates", "en", "services.documents"))
    assert list(table["question"].astype(str)) == ["doc_timeliness"]


def test_the_heat_map_follows_the_questionnaire_order_and_hides_small_cells(known_round):
    table = charts.table(round_results(known_round), Chart("heatmap", "en"))
    assert list(table["group"].astype(str).unique()) == ["mayors", "departments"]
    assert table[table["group"] == "mayors"]["suppressed"].all()


def test_alt_text_names_the_lowest_item_in_the_language(known_round):
    results = round_results(known_round)
    assert "Accuracy of meeting minutes" in charts.alt(results, Chart("rates", "en"))
    assert "会议纪要" in charts.alt(results, Chart("rates", "zh"))


def test_the_trend_has_both_rounds_in_order(two_rounds):
    before, after = two_rounds
    table = charts.table(round_results(after), Chart("trend", "en"))
    assert list(table["round_id"].unique()) == [before.id, after.id]


# --- the chart-kind registry -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(charts.CHART_KINDS))
def test_every_chart_kind_has_a_table_a_figure_and_alt_text(two_rounds, kind):
    _, current = two_rounds
    results = round_results(current)
    chart = Chart(kind, "en")
    assert isinstance(charts.table(results, chart), pd.DataFrame)
    assert isinstance(charts.figure(results, chart), Figure)
    assert charts.alt(results, chart).strip()


def test_the_pages_show_registered_kinds_in_the_registrys_order():
    assert charts.kinds_on("round") == list(charts.CHART_KINDS)
    assert charts.kinds_on("category") == ["rates", "distribution"]
    # analysis.chart_text writes an alt text for exactly the registered kinds.
    assert set(chart_text._ALT_BUILDERS) == set(charts.CHART_KINDS)


def test_a_chart_of_an_unregistered_kind_is_refused(client, auth, known_round):
    auth.login(role="quality_lead")
    assert client.get(f"/review/rounds/{known_round.id}/charts/pie.png").status_code == 404
