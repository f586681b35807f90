"""The password policy: length, the common-password list, the account's own address or name."""

from __future__ import annotations

import pytest

from survey import passwords


@pytest.mark.parametrize(
    "password",
    ["password1234", "Password2024!", "qwertyuiop12", "1qaz2wsx3edc", "aaaaaaaaaaaaa",
     "abababababab", "woaini1314520", "shaoxing2026!!", "ILoveYou12345"],
)  # fmt: skip
def test_common_passwords_are_refused(app, password):
    assert passwords.problem(password) == passwords.TOO_COMMON


def test_the_list_is_shipped_and_large(app):
    common = passwords.common_passwords()
    assert len(common) > 10_000 and "password" in common


def test_short_and_long_passwords_are_refused(app):
    assert passwords.problem("a" * 11 + "b") is not passwords.TOO_SHORT  # 12: long enough
    assert passwords.problem("x7#kQ") == passwords.TOO_SHORT
    assert passwords.problem("x7#kQ" * 60) == passwords.TOO_LONG


def test_the_accounts_own_address_or_name_is_refused(app):
    assert (
        passwords.problem("zhang.wei@office.test", "zhang.wei@office.test", "")
        == passwords.TOO_PERSONAL
    )
    assert passwords.problem("LiNa Secretary 7", "x@office.test", "Li Na") == passwords.TOO_PERSONAL


@pytest.mark.parametrize("password", ["correct horse battery", "tea kettle under the bridge"])
def test_a_passphrase_passes(app, password):
    assert passwords.problem(password, "zhang.wei@office.test", "Zhang Wei") is None
