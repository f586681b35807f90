"""The editing tests' fixtures: an English request, and a draft of the small questionnaire."""

from __future__ import annotations

import pytest

from questionnaires import loads
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.questionnaire_store import save_version
from tests.survey.editing.drafts import SMALL


@pytest.fixture(autouse=True)
def request_context(app):
    """Editing errors are translated into the language of a request; these tests read English."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    version = save_version(loads(SMALL), status="draft")
    db.session.commit()
    return version
