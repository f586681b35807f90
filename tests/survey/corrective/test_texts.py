"""Names of the corrective-action codes: every code the registries know has one."""

from __future__ import annotations

from analysis import RULES
from survey.corrective import texts
from survey.corrective.states import ACTIVE, ENDED, TRANSITIONS


def test_every_rule_of_the_registry_has_a_label():
    assert set(texts.RULE_LABELS) == set(RULES)


def test_every_status_and_transition_has_a_name(app):
    with app.test_request_context():
        assert set(texts.status_labels()) == {*ACTIVE, *ENDED}
    assert set(texts.TRANSITION_LABELS) == set(TRANSITIONS)
