"""The template library's pages: a designer shares a published version, a designer of another
office finds it in the library, adopts it and sees which items are the template's."""

from __future__ import annotations

from sqlalchemy import select

from survey import offices, tenancy
from survey.extensions import db
from survey.models import AuditEvent, QuestionnaireTemplate, QuestionnaireVersion

EN = {"Accept-Language": "en"}


def test_a_designer_shares_a_version_and_another_office_adopts_it(
    app, client, office_version, make_user, login_as
):
    login_as(make_user("designer", email="d@a.test"))
    assert (
        "Share as template" in client.get(f"/design/versions/{office_version.id}", headers=EN).text
    )
    shared = client.post(
        f"/design/versions/{office_version.id}/share", headers=EN, follow_redirects=True
    )
    assert "Shared as revision 1 of the template" in shared.text
    template = db.session.scalar(select(QuestionnaireTemplate))
    again = client.post(
        f"/design/versions/{office_version.id}/share", headers=EN, follow_redirects=True
    )
    assert "already this version" in again.text
    assert db.session.scalars(select(QuestionnaireTemplate)).all() == [template]

    beta = offices.create("beta", "乙市政府办公室", "Beta City Office")
    db.session.commit()
    with tenancy.office(beta.id):
        designer = make_user("designer", email="d@b.test")
    client.post("/logout")
    login_as(designer)
    library = client.get("/design/templates", headers=EN)
    assert "Shaoxing Municipal Government Office" in library.text and "not adopted" in library.text
    detail = client.get(f"/design/templates/{template.id}", headers=EN)
    assert "doc_timeliness" in detail.text and "Adopt as a draft" in detail.text
    adopted = client.post(
        f"/design/templates/{template.id}/adopt", headers=EN, follow_redirects=True
    )
    assert "Adopted as draft version 1" in adopted.text
    assert "shared item" in adopted.text and "adopted from another office" in adopted.text
    assert "Share as template" not in adopted.text  # an adopted version is not shared again
    with tenancy.office(beta.id):
        version = db.session.scalar(select(QuestionnaireVersion))
        assert (version.template_id, version.status) == (template.id, "draft")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "template_adopted"))
        assert event.target == f"version:{version.id}"
    assert "uses the latest revision" in client.get("/design/templates", headers=EN).text
    detail = client.get(f"/design/templates/{template.id}", headers=EN).text
    assert "uses revision 1" in detail and "Adopt" not in detail  # adopted: no button again
    again = client.post(f"/design/templates/{template.id}/adopt", headers=EN, follow_redirects=True)
    assert "adopted this revision already: version 1" in again.text


def test_the_publisher_has_no_adopt_button_and_a_draft_no_share_button(
    app, client, office_version, make_user, login_as
):
    login_as(make_user("designer"))
    client.post(f"/design/versions/{office_version.id}/share")
    template = db.session.scalar(select(QuestionnaireTemplate))
    assert "Adopt" not in client.get(f"/design/templates/{template.id}", headers=EN).text
    refused = client.post(
        f"/design/templates/{template.id}/adopt", headers=EN, follow_redirects=True
    )
    assert "This office shares this template" in refused.text
    draft = client.post(
        f"/design/versions/{office_version.id}/new-draft", headers=EN, follow_redirects=True
    )
    assert "Share as template" not in draft.text
