"""`flask export-questionnaire CODE [--version N]` prints a version as a definition file."""

from __future__ import annotations

from questionnaires import DEFINITIONS_DIR, load, loads
from survey import editing
from survey.cli.questionnaires import export_questionnaire
from survey.extensions import db


def test_the_latest_version_is_printed_as_yaml_that_loads_back(runner, office_version):
    result = runner.invoke(export_questionnaire, ["office-services"])
    assert result.exit_code == 0, result.output
    assert loads(result.output) == load(DEFINITIONS_DIR / "office-services.yaml")


def test_a_version_number_picks_that_version(runner, app, office_version):
    draft = editing.new_draft(office_version)
    draft.title_en = "Renamed"
    db.session.commit()
    latest = runner.invoke(export_questionnaire, ["office-services"]).output
    first = runner.invoke(export_questionnaire, ["office-services", "--version", "1"]).output
    assert loads(latest).title.en == "Renamed"
    assert loads(first) == load(DEFINITIONS_DIR / "office-services.yaml")


def test_an_unknown_questionnaire_or_version_is_an_error(runner, office_version):
    unknown = runner.invoke(export_questionnaire, ["nothing"])
    assert unknown.exit_code == 1 and "no questionnaire 'nothing'" in unknown.output
    missing = runner.invoke(export_questionnaire, ["office-services", "--version", "9"])
    assert missing.exit_code == 1 and "no version 9 of questionnaire" in missing.output
