"""What the browser tests do on the respondent's survey page, in the respondent's terms."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

# The user-visible texts the tests look for, by browser locale.
TEXT = {
    "en-US": {
        "lang": "en",
        "required": "Please answer this question.",
        "summary": "Please check these answers",
        "save": "Save and continue later",
        "submit": "Submit answers",
        "saved": "Your answers are saved.",
        "thanks": "Thank you, your answers were received",
        "already": "Already submitted",
    },
    "zh-CN": {
        "lang": "zh-CN",
        "required": "请回答此题。",
        "summary": "请检查以下答案",
        "save": "保存，稍后继续",
        "submit": "提交答案",
        "saved": "您的答案已保存。",
        "thanks": "谢谢！您的答案已收到",
        "already": "已经提交",
    },
}


def question(page: Page, code: str) -> Locator:
    return page.locator(f"#question-{code}")


def radio(page: Page, code: str, value: int | str) -> Locator:
    return page.locator(f"input[type=radio][name='q_{code}'][value='{value}']")


def follow_up(page: Page, code: str) -> Locator:
    """The "please tell us why" box of a rating question (its label and text area)."""
    return page.locator(f"#q_{code}__comment-box")


def comment(page: Page, code: str) -> Locator:
    return page.locator(f"#q_{code}__comment")


def progress_count(page: Page) -> str:
    return page.locator("#progress-count").inner_text()


def button(page: Page, locale: str, which: str) -> Locator:
    return page.get_by_role("button", name=TEXT[locale][which])


def unanswered_groups(page: Page) -> list[str]:
    """Names of the radio groups (ratings and single choices) with nothing checked yet."""
    return page.evaluate("""() => {
        const names = [...new Set([...document.querySelectorAll('.survey-form input[type=radio]')]
            .map(i => i.name))];
        return names.filter(n => !document.querySelector(`input[name="${n}"]:checked`));
    }""")


def answer_the_rest(page: Page, tap: bool = False) -> int:
    """Answer every radio group still open: ratings with 4 ("satisfied"), a choice with its
    first option. Returns how many groups it answered."""
    names = unanswered_groups(page)
    for name in names:
        choice = page.locator(f"input[type=radio][name='{name}'][value='4']")
        if not choice.count():
            choice = page.locator(f"input[type=radio][name='{name}']").first
        choice.tap() if tap else choice.check()
    return len(names)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing overflows)."""
    return page.evaluate(
        "() => Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth)"
    )


def uncovered(target: Locator) -> bool:
    """Whether the element is in the window and not hidden under something else (such as the
    sticky progress bar): the point at its centre belongs to it."""
    return target.evaluate("""e => {
        const r = e.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return hit !== null && (hit === e || e.contains(hit));
    }""")
