"""A clerk defines a 7-point scale in the office's scale library and uses it on a question of
a new draft questionnaire, on a desk PC in English; the preview asks the question on 7 points.
The scale editor is shot on a desk PC and on a phone (test-artifacts/browser/<test name>/).
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.design_page import fill_library_scale, notice, submit

LOCALE = "en-US"
SEVEN = [
    ("很不满意", "Very dissatisfied"),
    ("不满意", "Dissatisfied"),
    ("有点不满意", "Somewhat dissatisfied"),
    ("一般", "Neutral"),
    ("有点满意", "Somewhat satisfied"),
    ("满意", "Satisfied"),
    ("很满意", "Very satisfied"),
]


def create_scale(page: Page, base: str, shot) -> None:
    names = ("七级满意度", "Satisfaction, 1 to 7")
    fill_library_scale(page, base, "satisfaction7", names, SEVEN, (1, 2, 3), (6, 7))
    shot(page, "scale-editor-desk", full_page=True)
    submit(page, "Save scale")
    notice(page, "Scale satisfaction7 saved.")
    row = page.locator("#scale-satisfaction7")
    expect(row).to_contain_text("1 Very dissatisfied … 7 Very satisfied")
    expect(row).to_contain_text("6 or 7")
    shot(page, "scale-library", full_page=True)


def use_it_in_a_draft(page: Page, base: str, shot) -> None:
    page.goto(f"{base}/design/questionnaires/new")
    page.locator("input[name=code]").fill("scale-journey")
    page.locator("input[name=title_zh]").fill("七级量表问卷")
    page.locator("input[name=title_en]").fill("Seven-point questionnaire")
    submit(page, "Create questionnaire")
    notice(page, "Questionnaire created.")
    page.get_by_role("link", name="Add section").click()
    page.locator("input[name=code]").fill("overall")
    page.locator("input[name=title_zh]").fill("总体")
    page.locator("input[name=title_en]").fill("Overall")
    submit(page, "Save section")
    page.locator("#section-overall").get_by_role("link", name="Add question").click()
    page.locator("input[name=code]").fill("overall7")
    page.locator("select[name=type]").select_option("rating")
    page.locator("textarea[name=text_zh]").fill("总体而言，您对我办的服务满意吗？")
    page.locator("textarea[name=text_en]").fill("Overall, how satisfied are you with the office?")
    page.locator("select[name=scale]").select_option("library:satisfaction7")
    page.locator("textarea[name=follow_up_en]").fill("Please tell us why")
    shot(page, "question-with-library-scale", full_page=True)
    submit(page, "Save question")
    notice(page, "Question added.")
    expect(page.locator("#question-overall7")).to_contain_text("satisfaction7")
    page.get_by_role("link", name="Preview", exact=True).first.click()
    page.wait_for_load_state()
    points = page.locator("input[type=radio][name=q_overall7]")
    expect(points).to_have_count(7)
    expect(page.locator("#question-overall7")).to_contain_text("Somewhat satisfied")
    # The follow-up opens on the scale's low points: 1, 2 and 3.
    expect(page.locator("#question-overall7 [data-low-max]")).to_have_attribute("data-low-max", "3")
    shot(page, "preview-seven-points", full_page=True)


def test_a_clerk_makes_a_7_point_scale_and_uses_it_on_a_question(
    new_page, login, live_server, shot
):
    base = live_server.url
    page = new_page(LOCALE, **DESKTOP)
    login(page, "designer")
    create_scale(page, base, shot)
    use_it_in_a_draft(page, base, shot)

    phone = new_page(LOCALE, **PHONE)
    login(phone, "designer")
    phone.goto(f"{base}/design/scales")
    phone.locator("#scale-satisfaction7").get_by_role("link").click()
    expect(phone.get_by_label("English label of point 7", exact=True)).to_have_value(
        "Very satisfied"
    )
    shot(phone, "scale-editor-phone", full_page=True)
