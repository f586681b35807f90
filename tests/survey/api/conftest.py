"""API tokens for the API tests: make_token(user, scopes) -> the plaintext secret."""

from __future__ import annotations

import pytest

from survey import api_tokens
from survey.extensions import db
from survey.models import utcnow


@pytest.fixture
def make_token():
    def make(user, scopes=("read_results",), name="report script") -> str:
        _, secret = api_tokens.create(user, name, list(scopes), utcnow())
        db.session.commit()
        return secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
