"""Issue 19's journey end to end, in a real browser: a clerk defines a 7-point scale in the
office's library, builds a questionnaire with a condition and a grid on that scale in the
editor's pages, previews it for a group (the condition taking effect without a reload) and
publishes it; a round is opened; respondents on a phone answer it, the grid appearing only for
those who say they used the meeting service; the quality lead's dashboard lists the grid's
rows as items, and the raw answers say "n/a" where the grid was not asked.

Screenshots of the steps are written to test-artifacts/browser/<test name>/.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.design_page import fill_library_scale, notice, submit
from tests.browser.survey_page import question, radio

LOCALE = "en-US"
CODE = "capable-journey"
TITLE = "Meeting services survey"
ROUND = "Meeting services, browser round"
SCALE = "agree7"
POINTS = [
    ("很不同意", "Strongly disagree"),
    ("不同意", "Disagree"),
    ("有点不同意", "Somewhat disagree"),
    ("说不清", "Neither"),
    ("有点同意", "Somewhat agree"),
    ("同意", "Agree"),
    ("很同意", "Strongly agree"),
]
ROWS = {"meet_notice": "Meetings are announced in good time", "meet_order": "Meetings run in order"}
# Five respondents used the meeting service (the round's anonymity threshold, so the rows get
# figures), one did not.
USED = ["yes"] * 5 + ["no"]


def create_scale(page: Page, base: str, shot) -> None:
    names = ("七级同意度", "Agreement, 1 to 7")
    fill_library_scale(page, base, SCALE, names, POINTS, (1, 2, 3), (6, 7))
    submit(page, "Save scale")
    notice(page, f"Scale {SCALE} saved.")
    shot(page, "scale-saved")


def build_questionnaire(page: Page, base: str, shot) -> None:
    page.goto(f"{base}/design/questionnaires/new")
    page.locator("input[name=code]").fill(CODE)
    page.locator("input[name=title_zh]").fill("会议服务调查")
    page.locator("input[name=title_en]").fill(TITLE)
    submit(page, "Create questionnaire")
    notice(page, "Questionnaire created")
    page.get_by_role("link", name="Edit settings").click()
    for group in ("mayors", "departments"):
        page.locator(f"input[name=groups][value={group}]").check()
    submit(page, "Save settings")
    page.get_by_role("link", name="Add section").click()
    page.locator("input[name=code]").fill("meetings")
    page.locator("input[name=title_zh]").fill("会议服务")
    page.locator("input[name=title_en]").fill("Meeting services")
    submit(page, "Save section")

    add = page.locator("#section-meetings").get_by_role("link", name="Add question")
    add.click()
    page.locator("input[name=code]").fill("used_meetings")
    page.locator("select[name=type]").select_option("choice")
    expect(page.locator("textarea[name=rows]")).to_be_hidden()
    expect(page.locator("select[name=scale]")).to_be_hidden()
    page.locator("textarea[name=text_zh]").fill("今年您是否使用过会议服务？")
    page.locator("textarea[name=text_en]").fill("Did you use the meeting service this year?")
    page.locator("textarea[name=choices]").fill("yes|是|Yes\nno|否|No")
    submit(page, "Save question")
    notice(page, "Question added.")

    page.locator("#section-meetings").get_by_role("link", name="Add question").click()
    page.locator("input[name=code]").fill("meeting_aspects")
    page.locator("select[name=type]").select_option("grid")
    # The form shows what a grid takes: rows and a scale, not choices nor number limits.
    expect(page.locator("textarea[name=rows]")).to_be_visible()
    expect(page.locator("select[name=scale]")).to_be_visible()
    expect(page.locator("textarea[name=choices]")).to_be_hidden()
    expect(page.locator("input[name=min_value]")).to_be_hidden()
    page.locator("textarea[name=text_zh]").fill("您是否同意以下说法？")
    page.locator("textarea[name=text_en]").fill("Do you agree with the following?")
    page.locator("input[name=category]").fill("services.meetings")
    page.locator("select[name=scale]").select_option(f"library:{SCALE}")
    page.locator("textarea[name=rows]").fill(
        "\n".join(
            [
                f"meet_notice|会议通知及时|{ROWS['meet_notice']}",
                f"meet_order|会议秩序良好|{ROWS['meet_order']}",
            ]
        )
    )
    page.locator("input[name=show_if]").fill("${used_meetings} = 'yes'")
    shot(page, "new-grid", full_page=True)
    submit(page, "Save question")
    notice(page, "Question added.")
    for code, text in ROWS.items():
        expect(page.locator(f"#question-{code}")).to_contain_text(text)
    shot(page, "questions", full_page=True)


def preview_for_departments(page: Page, shot) -> None:
    page.get_by_role("link", name="Preview", exact=True).first.click()
    page.locator("#preview-group").select_option("departments")
    page.locator(".preview-banner").get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    grid = question(page, "meeting_aspects")
    expect(grid).to_be_hidden()  # nothing answered yet: the condition does not hold
    radio(page, "used_meetings", "yes").check()
    expect(grid).to_be_visible()
    for code in ROWS:
        expect(page.locator(f"input[type=radio][name=q_{code}]")).to_have_count(7)
    expect(grid).to_contain_text("Somewhat agree")
    shot(page, "preview-yes", full_page=True)
    radio(page, "used_meetings", "no").check()
    expect(grid).to_be_hidden()
    page.go_back()
    page.go_back()
    page.wait_for_load_state()


def open_round(page: Page, base: str, shot) -> tuple[int, list[str]]:
    submit(page, "Publish")
    notice(page, "Published")
    page.goto(f"{base}/design/rounds/new")
    page.locator("input[name=name]").fill(ROUND)
    option = page.locator("select[name=version_id] option", has_text=TITLE)
    page.locator("select[name=version_id]").select_option(option.get_attribute("value"))
    for group in ("mayors", "departments"):
        page.locator(f"input[name=audience_groups][value={group}]").check()
    submit(page, "Create round")
    round_id = int(re.search(r"/design/rounds/(\d+)", page.url).group(1))
    submit(page, "Issue invitations")
    submit(page, "Open the round")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download links (CSV)").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    links = [row["link"] for row in csv.DictReader(io.StringIO(text))]
    shot(page, "round-open")
    return round_id, links


def answer_on_a_phone(page: Page, link: str, used: str, shot, first: bool) -> None:
    page.goto(link)
    grid = question(page, "meeting_aspects")
    expect(grid).to_be_hidden()
    radio(page, "used_meetings", used).tap()
    if used == "yes":
        expect(grid).to_be_visible()
        radio(page, "meet_notice", 6).tap()
        radio(page, "meet_order", 7).tap()
    else:
        expect(grid).to_be_hidden()
    if first:
        shot(page, "phone-answered", full_page=True)
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("Thank you")


def test_a_clerk_builds_a_grid_with_a_condition_and_respondents_answer_it_on_a_phone(
    new_page, login, live_server, shot
):
    base = live_server.url
    clerk = new_page(LOCALE, **DESKTOP)
    login(clerk, "designer")
    create_scale(clerk, base, shot)
    build_questionnaire(clerk, base, shot)
    preview_for_departments(clerk, shot)
    round_id, links = open_round(clerk, base, shot)
    assert len(links) >= len(USED)

    for number, used in enumerate(USED):
        answer_on_a_phone(new_page(LOCALE, **PHONE), links[number], used, shot, number == 0)

    lead = new_page(LOCALE, **DESKTOP)
    login(lead, "quality_lead")
    lead.goto(f"{base}/review/rounds/{round_id}?lang=en")
    for code, text in ROWS.items():
        item = lead.locator(f"a[href*='/items/{code}']").first
        expect(item).to_contain_text(text)
    shot(lead, "dashboard", full_page=True)

    raw = lead.request.get(f"{base}/review/rounds/{round_id}/answers.csv?lang=en")
    assert raw.ok, raw.status
    rows = list(csv.DictReader(io.StringIO(raw.text().lstrip("\ufeff"))))
    assert sorted(r["used_meetings"] for r in rows) == sorted(USED)
    # Asked of those who used the service only; "n/a": not asked (not: asked and skipped).
    assert sorted(r["meet_notice"] for r in rows) == ["6"] * 5 + ["n/a"]
    assert sorted(r["meet_order"] for r in rows) == ["7"] * 5 + ["n/a"]
