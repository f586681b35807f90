"""Messages of domain errors read in the reader's language in a request, in English elsewhere
(the CLI), and their templates are found by extraction."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask_babel import get_translations

from survey import invitations, rounds
from tests.survey.test_translations import interface_strings

GROUPS = "The questionnaire has no questions for: %(groups)s."
AUDIENCE = "unit %(code)s is not in this round's audience"
LINE = "line %(line)s: %(reason)s"


@contextmanager
def chinese(app, **messages):
    """A zh request whose catalog also holds `messages` (the .po is filled in at merge time)."""
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        catalog = get_translations()._catalog
        catalog.update(messages)
        try:
            yield
        finally:
            for msgid in messages:
                catalog.pop(msgid, None)


def test_a_round_error_reads_in_chinese_with_its_parameters(app, office_version):
    with pytest.raises(rounds.RoundError) as error:
        rounds.create("r", office_version, audience_groups=["mayors", "residents"])
    with chinese(app, **{GROUPS: "问卷中没有面向以下群体的问题：%(groups)s。"}):
        assert str(error.value) == "问卷中没有面向以下群体的问题：residents。"
    assert str(error.value) == "The questionnaire has no questions for: residents."


def test_an_invitation_error_names_its_line_in_chinese(app, make_round):
    round_ = make_round()
    with pytest.raises(invitations.InvitationError) as error:
        invitations.issue_named(round_, "mayor,甲\nnowhere,乙\n")
    texts = {AUDIENCE: "单位 %(code)s 不在本轮调查对象中", LINE: "第 %(line)s 行：%(reason)s"}
    with chinese(app, **texts):
        assert str(error.value) == "第 2 行：单位 'nowhere' 不在本轮调查对象中"
        assert error.value.reason == "单位 'nowhere' 不在本轮调查对象中"
    assert str(error.value) == "line 2: unit 'nowhere' is not in this round's audience"


def test_the_templates_are_extracted_for_translation():
    assert {GROUPS, AUDIENCE, LINE, "The round is already open."} <= interface_strings()
