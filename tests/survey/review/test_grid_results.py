"""A grid's rows are items like any rating: on the dashboard, on their own item page, in the
raw-answers export (one column per row code) and none for the grid itself. The office survey
asks its four document items as the grid doc_aspects; the known round answers doc_timeliness."""

from __future__ import annotations

import csv
import io

from questionnaires import DEFINITIONS_DIR, load

GRID_ROWS = [
    q.code
    for q in load(DEFINITIONS_DIR / "office-services.yaml").questions()
    if q.grid and q.grid.code == "doc_aspects"
]


def test_the_dashboard_and_item_page_list_a_grid_row_as_an_item(client, auth, known_round):
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{known_round.id}?lang=en").text
    assert f"/review/rounds/{known_round.id}/items/doc_timeliness" in page
    assert "doc_aspects" not in page  # the grid itself is no item
    item = client.get(f"/review/rounds/{known_round.id}/items/doc_timeliness?lang=en")
    assert item.status_code == 200 and "Timeliness of document handling" in item.text
    assert client.get(f"/review/rounds/{known_round.id}/items/doc_aspects").status_code == 404


def test_the_raw_answers_have_a_column_per_grid_row(client, auth, known_round):
    auth.login(role="quality_lead")
    text = client.get(f"/review/rounds/{known_round.id}/answers.csv").text
    header = next(csv.reader(io.StringIO(text[1:])))
    assert GRID_ROWS == ["doc_timeliness", "doc_accuracy", "doc_standards", "doc_circulation"]
    assert set(GRID_ROWS) <= set(header) and "doc_aspects" not in header
