"""Messages of domain errors: an English template marked with N_ (so that pybabel extracts it)
and its parameters, read in the reader's language inside a request and in English elsewhere
(the CLI, logs), where a lazy string would need a request to choose the language."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import gettext

# The one extraction marker, shared with the questionnaire loader.
from questionnaires.messages import N_  # noqa: F401


def translate(template: str, params: dict[str, Any]) -> str:
    # A parameter may itself be a message (a reason inside "line 3: ..."): it reads first.
    values = {k: str(v) for k, v in params.items()}
    if has_request_context():
        return gettext(template, **values)
    return template % values if values else template


class TranslatedError(ValueError):
    """An error with a message to show: a template marked N_ and its parameters."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template, self.params = template, params

    def __str__(self) -> str:
        return translate(self.template, self.params)
