"""The password policy, one place for every form and the command line (ASVS 5.0 6.2): at least
12 characters, at most 256, no composition rules, and not one of the passwords attackers try
first (survey/data/common_passwords.txt, made by scripts/common_passwords.py), nor the
account's own e-mail address or name."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"

TOO_SHORT = _l("Use at least %(n)s characters.", n=MIN_LENGTH)
TOO_LONG = _l("Use at most %(n)s characters.", n=MAX_LENGTH)
TOO_COMMON = _l("This password is too common: it is among the first an attacker tries.")
TOO_PERSONAL = _l("Do not use your e-mail address or name as the password.")


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(COMMON_FILE.read_text(encoding="utf-8").split())


def _bare(text: str) -> str:
    """Lower case, spaces gone, and the decorations people add at the end (digits, !, ., @…)."""
    return re.sub(r"[\W\d_]+$", "", re.sub(r"\s+", "", text.lower()))


def problem(password: str, email: str = "", name: str = ""):
    """Why `password` is refused (a lazy, translated message), or None when it may be used."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    common = common_passwords()
    squeezed = re.sub(r"\s+", "", password.lower())
    if squeezed in common or _bare(password) in common:
        return TOO_COMMON
    if len(set(squeezed)) <= 2:  # "aaaaaaaaaaaa", "abababababab"
        return TOO_COMMON
    personal = {_bare(email.split("@")[0]), _bare(email), _bare(name)} - {""}
    if any(len(p) >= 4 and (p in squeezed or squeezed in p) for p in personal):
        return TOO_PERSONAL
    return None
