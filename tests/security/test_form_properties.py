"""Any form posted to the survey page, the login page or the design round form gets an answer
below 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from survey.extensions import db
from tests.factories import PASSWORD

FIELD_NAMES = st.one_of(
    st.sampled_from(
        [
            "action",
            "submission_key",
            "q_doc_timeliness",
            "c_doc_timeliness",
            "q_comment",
            "email",
            "password",
            "next",
            "name",
            "version_id",
            "opens_on",
            "closes_on",
            "groups",
            "min_group_size",
            "anonymous",
            "csrf_token",
        ]
    ),
    st.text(max_size=30),
)
VALUES = st.one_of(
    st.text(max_size=200),
    st.just("\0"),
    st.just("x" * 5000),
    st.sampled_from(
        ["submit", "save", "switch-en", "1", "5", "-1", "1e308", "2004-02-30", "＝1+1", "<script>"]
    ),
)
FORMS = st.lists(st.tuples(FIELD_NAMES, VALUES), max_size=12)  # repeated keys allowed

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def survey_path(client, make_invitation):
    invitation = make_invitation()
    client.get(f"/r/{invitation.token}")
    return f"/r/i/{invitation.id}"


@SETTINGS
@given(form=FORMS)
def test_any_survey_form_gets_no_server_error(client, survey_path, form):
    assert client.post(survey_path, data=MultiDict(form)).status_code < 500
    db.session.rollback()


@SETTINGS
@given(form=FORMS)
def test_any_login_form_gets_no_server_error(client, form):
    assert client.post("/login", data=MultiDict(form)).status_code < 500


@SETTINGS
@given(form=FORMS)
def test_any_round_form_gets_no_server_error(client, make_user, office_version, form):
    if not hasattr(client, "_logged_in"):
        user = make_user(role="designer")
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        client._logged_in = True
    assert client.post("/design/rounds/new", data=MultiDict(form)).status_code < 500
