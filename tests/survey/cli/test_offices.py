"""``flask offices`` and ``--office``: an installation of several offices, from the command
line; ``flask demo-offices``: the demo of six offices that ``make run`` serves."""

from __future__ import annotations

from sqlalchemy import func, select

from survey import tenancy
from survey.extensions import db
from survey.models import (
    Office,
    QuestionnaireTemplate,
    QuestionnaireVersion,
    Response,
    Round,
    User,
)


def _office(code: str) -> Office:
    db.session.rollback()
    return db.session.scalar(select(Office).where(Office.code == code))


def test_offices_are_listed_created_and_renamed(runner):
    assert runner.invoke(args=["offices", "list"]).output.split("\t")[0] == "shaoxing"
    made = runner.invoke(
        args=["offices", "create", "Ningbo", "--name-zh", "宁波", "--name-en", "Ningbo"]
    )
    assert made.exit_code == 0, made.output
    assert _office("ningbo").name_en == "Ningbo"
    again = runner.invoke(args=["offices", "create", "ningbo", "--name-zh", "x", "--name-en", "x"])
    assert again.exit_code != 0 and "exists already" in again.output
    renamed = runner.invoke(args=["offices", "rename", "ningbo", "--name-en", "Ningbo City"])
    assert renamed.exit_code == 0 and _office("ningbo").name_en == "Ningbo City"
    assert [line.split("\t")[0] for line in runner.invoke(args=["offices", "list"]).output.splitlines()] == ["shaoxing", "ningbo"]  # fmt: skip


def test_with_several_offices_a_command_must_name_one(runner):
    runner.invoke(args=["offices", "create", "ningbo", "--name-zh", "宁波", "--name-en", "Ningbo"])
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0 and "--office CODE" in refused.output
    unknown = runner.invoke(args=["demo", "--office", "hangzhou"])
    assert unknown.exit_code != 0 and "no office has the code 'hangzhou'" in unknown.output
    done = runner.invoke(args=["demo", "--office", "ningbo", "--responses", "5"])
    assert done.exit_code == 0, done.output
    with tenancy.office(_office("ningbo").id):
        assert db.session.scalar(select(func.count()).select_from(Round)) == 1
    with tenancy.office(_office("shaoxing").id):
        assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_the_demo_of_six_offices_is_idempotent_and_shares_one_questionnaire(runner, client):
    runner.invoke(args=["demo", "--responses", "5"])
    first = runner.invoke(args=["demo-offices", "--responses", "6"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["demo-offices", "--responses", "6"])
    assert again.exit_code == 0, again.output
    db.session.rollback()
    codes = db.session.scalars(select(Office.code).order_by(Office.id)).all()
    assert codes == ["shaoxing", "ningbo", "xiacheng", "jiaxing", "huzhou", "shangyu"]
    # Shaoxing shares its questionnaire once; every other office's rounds use the adopted one.
    (template,) = db.session.scalars(select(QuestionnaireTemplate)).all()
    assert (template.code, template.revision) == ("office-services", 1)
    for code, wanted in [("shaoxing", 5)] + [(c, 6) for c in codes[1:]]:
        with tenancy.office(_office(code).id):
            count = select(func.count()).select_from(Response).join(Round)
            assert db.session.scalar(count) == wanted
            versions = select(Round.version_id).where(Round.status != "draft")
            linked = select(QuestionnaireVersion.template_id).where(
                QuestionnaireVersion.id.in_(versions)
            )
            assert set(db.session.scalars(linked)) == {template.id}
    # One account per role in each office, and the provincial lead in all six.
    assert db.session.scalar(select(func.count()).select_from(User)) == 4 * 6 + 1
    line = next(li for li in first.output.splitlines() if li.startswith("login shaoxing,"))
    _, office_codes, role, email, password = line.split()
    assert (office_codes, role) == (",".join(codes), "quality_lead")
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302
    home = client.get("/", follow_redirects=True).text
    assert home.count('<option value="') == 6 and "宁波市人民政府办公厅" in home


def test_the_demo_of_offices_runs_on_a_database_an_earlier_demo_made(runner):
    """An office whose questionnaire came from the file (the demo before templates) gets a new
    draft adopted from the template, published; its earlier version stays its own."""
    runner.invoke(args=["demo", "--responses", "5"])
    assert runner.invoke(args=["offices", "create", "ningbo", "--name-zh", "宁波", "--name-en",
                               "Ningbo"]).exit_code == 0  # fmt: skip
    earlier = runner.invoke(args=["demo", "--office", "ningbo", "--responses", "6"])
    assert earlier.exit_code == 0, earlier.output
    done = runner.invoke(args=["demo-offices", "--responses", "6"])
    assert done.exit_code == 0, done.output
    db.session.rollback()
    with tenancy.office(_office("ningbo").id):
        versions = db.session.scalars(
            select(QuestionnaireVersion).order_by(QuestionnaireVersion.number)
        )
        first, adopted = versions.all()[-2:]
        assert (first.template_id, adopted.template_id is not None) == (None, True)
        assert adopted.status == "published" and "Ningbo" in adopted.title_en
