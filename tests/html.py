"""Reading what a page shows, for assertions that do not depend on attribute order."""

from __future__ import annotations

from html.parser import HTMLParser


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.checked: dict[str, list[str]] = {}
        self.textareas: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and "checked" in attrs:
            self.checked.setdefault(attrs["name"], []).append(attrs.get("value"))
        if tag == "textarea":
            self._textarea = attrs["name"]
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.textareas[self._textarea] += data


def form_values(html: str) -> dict[str, object]:
    """The checked radio/checkbox values and textarea texts of a page, by field name."""
    parser = _Inputs()
    parser.feed(html)
    values: dict[str, object] = {k: v[0] if len(v) == 1 else v for k, v in parser.checked.items()}
    values.update({k: v.strip() for k, v in parser.textareas.items() if v.strip()})
    return values
