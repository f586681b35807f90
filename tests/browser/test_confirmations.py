"""Destructive buttons ask first: revoking an invitation in a real browser shows a question;
cancelling it leaves the invitation as it was, confirming it revokes the link."""

from __future__ import annotations

from playwright.sync_api import Dialog, expect

from tests.browser.conftest import DESKTOP


def test_revoking_an_invitation_asks_first(live_server, new_page, login, invitation, shot):
    link = invitation("congress")
    page = new_page("zh-CN", **DESKTOP)
    login(page, "designer")
    page.goto(f"{live_server.url}/design/rounds/{live_server.round_id}?status=sent&group=congress")
    row = page.locator("tr", has=page.locator(f"input[value='{link}']"))
    expect(row).to_have_count(1)
    asked: list[str] = []

    def answer(accept: bool):
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    row.get_by_role("button", name="撤销").click()
    assert asked == ["撤销这份邀请？其链接将失效。"]
    expect(row.locator(".badge")).to_have_text("未打开")  # nothing was sent
    shot(page, "revoke-cancelled")

    page.once("dialog", answer(True))
    row.get_by_role("button", name="撤销").click()
    page.wait_for_load_state()
    assert len(asked) == 2
    page.goto(
        f"{live_server.url}/design/rounds/{live_server.round_id}?status=revoked&group=congress"
    )
    expect(page.locator("tbody tr").filter(has_text="已撤销")).not_to_have_count(0)
    response = page.request.get(link, max_redirects=0)
    assert response.status == 404  # a revoked link answers like a wrong one
