"""A form's errors read as sentences (which field, what is wrong), never as a Python dict."""

from __future__ import annotations

import html


def test_a_missing_count_is_named_in_chinese_not_shown_as_a_dict(client, auth, make_round):
    round_ = make_round(status="draft", audience_groups=["mayors"])
    auth.login(role="designer")
    client.post(
        f"/design/rounds/{round_.id}/invitations",
        data={"count": "", "group": ""},
        headers={"Accept-Language": "zh"},
    )
    page = html.unescape(client.get(f"/design/rounds/{round_.id}?lang=zh").text)
    assert "每个单位的邀请数" in page and "请检查邀请设置" in page
    assert "{'" not in page and "['" not in page


def test_each_field_with_an_error_is_named_with_its_reason(app, client, auth, make_round):
    round_ = make_round(status="draft", audience_groups=["mayors"])
    auth.login(role="designer")
    client.post(
        f"/design/rounds/{round_.id}/invitations",
        data={"count": "99", "group": ""},
        headers={"Accept-Language": "en"},
    )
    page = html.unescape(client.get(f"/design/rounds/{round_.id}?lang=en").text)
    assert "Invitations per unit: Number must be between 1 and 50." in page
