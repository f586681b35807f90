"""Messages that the app translates where it shows them: a template and its parameters.

This package knows nothing of Flask or Babel, so it cannot translate; it marks each English
template with `N_` (found by ``pybabel extract -k N_``) and keeps the values apart, and the app
looks the template up in the user's language and fills it in. ``str()`` gives the English text,
which the CLI and the logs show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def N_(template: str) -> str:
    """Mark `template` for extraction; it is translated where it is shown, not here."""
    return template


@dataclass(frozen=True)
class Message:
    """An English `template` with ``%(name)s`` placeholders; a parameter may be a Message."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, translate: Callable[[str], str]) -> str:
        """The text with `translate` applied to this template and every nested one."""
        values = {
            name: value.render(translate) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }
        text = translate(self.template)
        return text % values if values else text

    def __str__(self) -> str:
        return self.render(lambda template: template)


def message(template: str, **params: object) -> Message:
    return Message(template, params)
