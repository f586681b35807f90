"""An account whose password may be known to someone else loses its API tokens: an admin's
forced password change and a reset through a link revoke them (one audit event), and while the
account must change its password its tokens are refused."""

from __future__ import annotations

from survey import accounts, audit
from survey.extensions import db
from tests.survey.api.conftest import bearer


def _events(action: str) -> list:
    return list(db.session.scalars(audit.newest_first(action)))


def test_forcing_a_password_change_revokes_the_accounts_tokens(client, make_user, make_token):
    lead = make_user("quality_lead")
    secrets = [make_token(lead, name="one"), make_token(lead, name="two")]
    other = make_token(make_user("quality_lead"))
    accounts.force_password_change(lead)
    db.session.commit()
    for secret in secrets:
        response = client.get("/api/v1/rounds", headers=bearer(secret))
        assert response.status_code == 401 and response.json["message"].endswith("revoked.")
    assert client.get("/api/v1/rounds", headers=bearer(other)).status_code == 200
    (revoked,) = _events("api_tokens_revoked")
    assert revoked.target == f"user:{lead.id}"
    assert (revoked.detail["count"], revoked.detail["reason"]) == (2, "password change forced")
    assert sorted(revoked.detail["token"].split(", ")) == sorted(s[:12] for s in secrets)


def test_a_password_reset_revokes_the_accounts_tokens(client, make_user, make_token):
    lead = make_user("quality_lead")
    secret = make_token(lead)
    accounts.set_password(lead, "a new long passphrase 42", "reset")
    db.session.commit()
    assert client.get("/api/v1/rounds", headers=bearer(secret)).status_code == 401
    (revoked,) = _events("api_tokens_revoked")
    assert (revoked.detail["count"], revoked.detail["reason"]) == (1, "password reset")


def test_the_owner_changing_the_password_keeps_the_tokens(client, make_user, make_token):
    lead = make_user("quality_lead")
    secret = make_token(lead)
    accounts.set_password(lead, "a new long passphrase 42", "changed")
    db.session.commit()
    assert client.get("/api/v1/rounds", headers=bearer(secret)).status_code == 200
    assert _events("api_tokens_revoked") == []


def test_no_event_when_there_is_no_token_to_revoke(make_user):
    lead = make_user("quality_lead")
    accounts.force_password_change(lead)
    db.session.commit()
    assert _events("api_tokens_revoked") == []
    assert len(_events("password_change_forced")) == 1


def test_a_token_is_refused_while_its_account_must_change_its_password(
    client, make_user, make_token
):
    lead = make_user("quality_lead")
    secret = make_token(lead)
    # Set without revoking (an account created so, or the flag set by other means).
    lead.must_change_password = True
    db.session.commit()
    response = client.get("/api/v1/rounds", headers=bearer(secret))
    assert response.status_code == 401
    assert [e.detail["reason"] for e in _events("api_token_refused")] == [
        "password change required"
    ]
    lead.must_change_password = False
    db.session.commit()
    assert client.get("/api/v1/rounds", headers=bearer(secret)).status_code == 200


def test_a_reset_through_the_link_revokes_the_tokens_of_every_office(client, make_user, make_token):
    from survey import offices, tenancy

    lead = make_user("quality_lead")
    secret = make_token(lead)
    beta = offices.create("beta", "乙", "Beta")
    db.session.commit()
    with tenancy.office(beta.id):
        lead.role = "quality_lead"
        db.session.commit()
        other = make_token(lead)
    assert client.get("/api/v1/rounds", headers=bearer(other)).status_code == 200
    # The reset page's request works for no office: the person's tokens are revoked anyway.
    with tenancy.office(None):
        accounts.set_password(lead, "a new long passphrase 42", "reset")
        db.session.commit()
    for token in (secret, other):
        assert client.get("/api/v1/rounds", headers=bearer(token)).status_code == 401
