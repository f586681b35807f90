"""Each role's start page leads to the work of that role."""

from __future__ import annotations

import pytest

LINKS = {
    "designer": {"/design/", "/design/rounds", "/design/units"},
    "admin": {"/design/", "/design/rounds", "/design/units", "/review/", "/actions/",
              "/admin/audit"},
}  # fmt: skip


@pytest.mark.parametrize("role", list(LINKS))
def test_the_staff_start_page_links_to_the_work_of_the_role(client, auth, role):
    auth.login(role=role)
    page = client.get("/")
    assert page.status_code == 200
    shown = {link for link in LINKS["admin"] if f'href="{link}"' in page.text}
    assert shown == LINKS[role]
    for link in shown:
        assert client.get(link).status_code == 200, link
