"""The designer's journey in a real browser, on a desk PC in Chinese: a new questionnaire with a
rating and a text question built in the editor's pages, previewed for one group, published; a
round for two groups, invitations issued, the round opened, the links downloaded as CSV, and
one link opened by a respondent.

Screenshots of the steps are written to test-artifacts/browser/<test name>/.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP
from tests.browser.design_page import notice, submit

LOCALE = "zh-CN"
CODE = "browser-journey"
TITLE = "浏览器测试问卷"
RATING = "您对文件办理的及时性是否满意？"
FREE_TEXT = "您还有什么建议？"
ROUND = "浏览器测试轮次"
GROUPS = ("mayors", "departments")


def create_questionnaire(page: Page, base: str, shot) -> None:
    page.goto(f"{base}/design/")
    expect(page.locator("h1")).to_have_text("问卷")
    shot(page, "questionnaires")
    page.get_by_role("link", name="新建问卷").click()
    expect(page.locator("h1")).to_have_text("新建问卷")
    page.locator("input[name=code]").fill(CODE)
    page.locator("input[name=title_zh]").fill(TITLE)
    page.locator("input[name=title_en]").fill("Browser test questionnaire")
    shot(page, "new-questionnaire")
    submit(page, "创建问卷")
    notice(page, "问卷已创建，请添加第一个部分。")
    expect(page.locator("h1")).to_have_text(TITLE)
    shot(page, "created")


def set_groups(page: Page, shot) -> None:
    page.get_by_role("link", name="编辑设置").click()
    for group in GROUPS:
        page.locator(f"input[name=groups][value={group}]").check()
    shot(page, "settings")
    submit(page, "保存设置")
    notice(page, "设置已保存。")


def add_section(page: Page, shot) -> None:
    page.get_by_role("link", name="添加部分").click()
    page.locator("input[name=code]").fill("documents")
    page.locator("input[name=title_zh]").fill("文件办理")
    page.locator("input[name=title_en]").fill("Documents")
    shot(page, "new-section")
    submit(page, "保存部分")
    notice(page, "部分已添加，请添加其中的题目。")


def add_question(page: Page, shot, code: str, qtype: str, zh: str, en: str, **more) -> None:
    page.locator("#section-documents").get_by_role("link", name="添加题目").click()
    page.locator("input[name=code]").fill(code)
    page.locator("select[name=type]").select_option(qtype)
    page.locator("textarea[name=text_zh]").fill(zh)
    page.locator("textarea[name=text_en]").fill(en)
    if "category" in more:
        page.locator("input[name=category]").fill(more["category"])
    if not more.get("required", True):
        page.locator("input[name=required]").uncheck()
    shot(page, f"new-question-{code}")
    submit(page, "保存题目")
    notice(page, "题目已添加。")
    expect(page.locator(f"#question-{code}")).to_contain_text(zh)


def preview_for(page: Page, group: str, shot) -> None:
    page.get_by_role("link", name="预览", exact=True).first.click()
    expect(page.locator(".preview-banner")).to_contain_text("预览——答案不会保存")
    page.locator("#preview-group").select_option(group)
    page.locator(".preview-banner").get_by_role("button", name="显示").click()
    page.wait_for_load_state()
    expect(page.locator("#preview-group")).to_have_value(group)
    expect(page.locator("#question-timeliness")).to_contain_text(RATING)
    # The rating scale: five points, grouped in a fieldset with the question as its legend.
    scale = page.locator("input[type=radio][name=q_timeliness]")
    expect(scale).to_have_count(5)
    expect(page.locator("#question-timeliness legend")).to_contain_text(RATING)
    expect(page.locator("#question-suggestions")).to_contain_text(FREE_TEXT)
    shot(page, f"preview-{group}", full_page=True)
    page.go_back()
    page.go_back()
    page.wait_for_load_state()


def create_round(page: Page, base: str, shot) -> None:
    page.goto(f"{base}/design/rounds/new")
    expect(page.locator("h1")).to_have_text("新建调查轮次")
    page.locator("input[name=name]").fill(ROUND)
    option = page.locator("select[name=version_id] option", has_text=TITLE)
    page.locator("select[name=version_id]").select_option(option.get_attribute("value"))
    for group in GROUPS:
        page.locator(f"input[name=audience_groups][value={group}]").check()
    shot(page, "new-round", full_page=True)
    submit(page, "创建调查轮次")
    notice(page, "调查轮次已创建。请先发放邀请，再开始调查。")
    expect(page.locator("h1")).to_contain_text(ROUND)
    shot(page, "round-created")


def issue_and_open(page: Page, shot) -> None:
    submit(page, "发放邀请")
    expect(page.locator(".notice--success")).to_contain_text(re.compile(r"已发放 \d+ 份邀请"))
    shot(page, "invitations-issued")
    submit(page, "开始本轮调查")
    notice(page, "本轮调查已开始。")
    shot(page, "round-open")


def download_links(page: Page, base: str, shot) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name="下载链接（CSV）").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, f"the CSV has no invitation rows:\n{text[:500]}"
    assert "link" in rows[0], f"no `link` column in the CSV header: {list(rows[0])}"
    links = [row["link"] for row in rows]
    assert all(link.startswith(f"{base}/r/") for link in links), links[:3]
    shot(page, "csv-downloaded")
    return rows


def test_designer_builds_publishes_and_opens_a_round(new_page, login, live_server, shot):
    base = live_server.url
    page = new_page(LOCALE, **DESKTOP)
    login(page, "designer")
    shot(page, "logged-in")

    create_questionnaire(page, base, shot)
    set_groups(page, shot)
    add_section(page, shot)
    add_question(
        page,
        shot,
        "timeliness",
        "rating",
        RATING,
        "Are you satisfied with how promptly documents are handled?",
        category="services.documents",
    )
    add_question(page, shot, "suggestions", "text", FREE_TEXT, "Any suggestions?", required=False)
    shot(page, "questions", full_page=True)

    preview_for(page, "departments", shot)

    submit(page, "发布")
    notice(page, "已发布：调查轮次现在可以使用此版本。")
    shot(page, "published")

    create_round(page, base, shot)
    issue_and_open(page, shot)
    rows = download_links(page, base, shot)

    respondent = new_page(LOCALE, **DESKTOP)
    respondent.goto(rows[0]["link"])
    expect(respondent.locator("h1")).to_contain_text(TITLE)
    expect(respondent.locator("input[type=radio][name=q_timeliness]")).to_have_count(5)
    expect(respondent.locator("textarea[name=q_suggestions]")).to_be_visible()
    shot(respondent, "respondent-sees-survey", full_page=True)
