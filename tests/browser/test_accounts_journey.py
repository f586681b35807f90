"""An administrator's account journey in a real browser, in English: a new account, its owner
setting the password through the e-mailed link (read from the outbox) and logging in, then
disabled by the administrator: the owner's open page goes to the login page at its next step."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

NEW_PASSWORD = "plum blossom on the west lake"


def _link_to(live_server, email: str) -> str:
    # The worker beside the server sends it, within a second or two.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for path in sorted((live_server.instance / "outbox").glob("*.eml"), reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == email:
                content = message.get_body().get_content()
                return re.search(r"http\S+/password/reset/\S+", content)[0]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {email}")


def test_an_account_from_creation_to_disabling(live_server, new_page, login, shot):
    admin = new_page(locale="en-US", **DESKTOP)
    login(admin, "admin")
    admin.get_by_role("link", name="Staff accounts").click()
    expect(admin.locator("h1")).to_have_text("Staff accounts")
    admin.get_by_role("link", name="New account").click()
    email = "new.clerk@shaoxing.example"
    admin.get_by_label("E-mail").fill(email)
    admin.get_by_label("Name").fill("New clerk")
    admin.get_by_label("Role").select_option("designer")
    shot(admin, "new-account")
    admin.get_by_role("button", name="Create the account and e-mail a password link").click()
    expect(admin.locator(".notice--success")).to_contain_text(email)

    owner = new_page(locale="en-US", **PHONE)
    owner.goto(_link_to(live_server, email))
    expect(owner.locator("h1")).to_have_text("Set a new password")
    owner.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    owner.get_by_label("New password again").fill(NEW_PASSWORD)
    shot(owner, "set-password")
    owner.get_by_role("button", name="Set password").click()
    expect(owner.locator(".notice--success")).to_contain_text("Your password has been set")
    owner.locator("input[name=email]").fill(email)
    owner.locator("input[name=password]").fill(NEW_PASSWORD)
    owner.locator("form [type=submit]").click()
    expect(owner.get_by_role("link", name="Rounds and invitations")).to_be_visible()

    admin.reload()
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="Disable the account").click()
    expect(admin.locator(".notice--success")).to_contain_text("disabled and logged out")
    shot(admin, "disabled")

    owner.get_by_role("link", name="Rounds and invitations").click()
    assert "/login" in owner.url
