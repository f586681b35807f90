"""Every interface string is translated into Simplified Chinese."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
# As in babel.cfg and the Makefile: the questionnaire loader and domain errors mark their
# messages with N_ (they are read in English outside a request), translated where shown.
METHODS = [
    ("survey/**.py", "python"),
    ("questionnaires/**.py", "python"),
    ("templates/**.html", "jinja2"),
]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}


def interface_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_string_has_a_chinese_translation():
    with open(ROOT / "survey/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and m.string and not m.fuzzy
    }
    missing = sorted(interface_strings() - translated)
    assert missing == [], f"{len(missing)} strings need a translation (make translations)"


def test_extraction_finds_the_interface():
    strings = interface_strings()
    assert "Submit answers" in strings and len(strings) > 300


def test_extraction_finds_the_questionnaire_loaders_messages():
    strings = interface_strings()
    assert "%(what)s: a %(type)s question needs choices" in strings
    assert "the file is empty" in strings
