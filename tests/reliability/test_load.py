"""Nothing lost under load, short version (the full size is `make reliability`): the survey served
by a real gunicorn (several workers) on a fresh SQLite (WAL) database, and on PostgreSQL when
TEST_DATABASE_URL is set (in a database of its own, `<name>_load`, recreated here); 4 clients
submit 120 distinct invitations, 20 of them twice at the same moment from two browsers. The
client-side ledger is compared with the database afterwards."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from load import reliability_failures, survey_load  # noqa: E402

INVITATIONS = 120
DUPLICATES = 20
CLIENTS = 4
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _load_database_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL)
    return url.set(database=f"{url.database}_load").render_as_string(hide_password=False)


@pytest.mark.timeout(240)
def test_no_response_lost_duplicated_or_failed_under_load(tmp_path: Path) -> None:
    database = _load_database_url() if TEST_DATABASE_URL else "sqlite"
    figures = survey_load(
        database, INVITATIONS, DUPLICATES, CLIENTS, tmp_path, workers=4, time_limit=180
    )
    assert figures["submits"] == INVITATIONS + DUPLICATES
    assert figures["duplicate_submits"] == DUPLICATES
    assert reliability_failures(figures, INVITATIONS) == [], figures
    assert figures["stored"] == INVITATIONS
    assert figures["duplicates"] == 0
    assert figures["incomplete"] == 0
    assert figures["http_5xx"] == 0
    assert figures["lost"] == 0
