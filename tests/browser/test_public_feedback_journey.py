"""Public feedback in a real browser: a citizen scans the hall's poster with a phone and rates
the service poorly, leaving a phone number; the office's quality lead, at a desk, contacts
them, records the reply and closes the case. The poster's QR code is read from the PDF the
designer downloads (pdftoppm and zxing-cpp, as tests/survey/test_posters.py reads it), and
that link is the one the phone opens.

The phone is set to Chinese, as most citizens' are, and the public page follows the browser's
language: what it should say is looked up in the app's own Chinese catalogue, so the test
holds whether or not a message is translated yet. The lead works in English.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import date
from pathlib import Path

import zxingcpp
from babel.dates import format_date
from babel.support import Translations
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, ROOT, LiveServer
from tests.system import require

CHINESE = Translations.load(str(ROOT / "survey" / "translations"), ["zh"])
HALL = "hall-1"
COMMENT = "取号机坏了，排队等了四十分钟，窗口只开了两个。"
AGAIN = "再评一次：还是不满意。"
PHONE_NUMBER = "139 0575 4321"
CONTACT_NOTE = (
    "Phoned Ms Wang the next morning: she waited 40 minutes, the ticket machine was down."
)
REPLY = "The ticket machine was repaired the same day and a third counter opens at peak hours."
DPI = 150


def zh(message: str) -> str:
    """What the public page says in Chinese: the catalogue's translation, else the message."""
    return CHINESE.gettext(message)


def _query(live_server: LiveServer, sql: str, *args) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{live_server.database}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, args).fetchall()


def _link_of_poster(page: Page, live_server: LiveServer, name_en: str, tmp_path: Path) -> str:
    """The designer downloads the service point's poster; the link its QR code holds."""
    page.goto(f"{live_server.url}/feedback/points")
    card = page.locator(".card").filter(has_text=name_en)
    expect(card).to_have_count(1)
    href = card.get_by_role("link", name="Poster with QR code (PDF)").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.body())
    require(bool(shutil.which("pdftoppm")), "poppler-utils")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(pdf), str(tmp_path / "poster")],
        check=True,
    )
    with Image.open(tmp_path / "poster.png") as image:
        codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(codes) == 1, f"the poster has {len(codes)} QR codes"
    return codes[0].text


def _rate(page: Page, score: str, comment: str) -> None:
    """On the open rating form: a score, the first reason, a comment, a name and a phone."""
    score_button = page.get_by_role("radio", name=zh(score), exact=True)
    score_button.tap()
    expect(score_button).to_be_checked()
    reason = page.get_by_role("checkbox", name=zh("I waited too long"), exact=True)
    reason.tap()
    expect(reason).to_be_checked()
    page.get_by_role("textbox", name=zh("Anything you would like to tell us?")).fill(comment)
    page.get_by_label(zh("Your name"), exact=True).fill("王女士")
    page.get_by_label(zh("Phone or e-mail"), exact=True).fill(PHONE_NUMBER)


def test_a_citizens_poor_rating_is_followed_up_and_closed(
    live_server, new_page, login, shot, tmp_path
):
    printed = live_server.points[HALL]
    key = printed.rsplit("/s/", 1)[1]
    ((point_id, name_zh, name_en, deadline_days),) = _query(
        live_server,
        "SELECT p.id, p.name_zh, p.name_en, o.case_deadline_days FROM service_point p"
        " JOIN office o ON o.id = p.office_id WHERE p.link_key = ?",
        key,
    )

    # The designer's poster: its QR code holds the link the demo printed for the hall.
    designer = new_page("en-US", **DESKTOP)
    login(designer, "designer")
    link = _link_of_poster(designer, live_server, name_en, tmp_path)
    assert link == printed

    # A citizen scans it with a phone set to Chinese: the page is in Chinese, names the hall.
    phone = new_page("zh-CN", **PHONE)
    assert phone.goto(link).status == 200
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(phone.get_by_role("heading", level=1)).to_have_text(name_zh)
    expect(phone.get_by_role("radio")).to_have_count(5)
    expect(phone.get_by_role("status")).to_have_count(0)  # not rated here today
    _rate(phone, "Very dissatisfied", COMMENT)
    shot(phone, "rating-form")
    phone.get_by_role("button", name=zh("Send my rating")).tap()

    # Thanks: the office will call back within its working days, by the case's due date.
    expect(phone).to_have_url(f"{link}/thanks")
    thanks = phone.locator(".panel--success")
    expect(thanks.get_by_role("heading", level=1)).to_have_text(zh("Thank you for your rating"))
    ((case_id, due, status),) = _query(
        live_server,
        "SELECT c.id, c.due_date, c.status FROM feedback_case c"
        " JOIN public_rating r ON r.id = c.rating_id WHERE r.comment = ?",
        COMMENT,
    )
    due = date.fromisoformat(due)
    assert status == "open" and due >= date.today()
    promise = zh(
        "We are sorry the service fell short. The office will contact you within %(days)s"
        " working days, by %(date)s."
    ) % {"days": deadline_days, "date": format_date(due, "long", locale="zh")}
    expect(thanks).to_contain_text(promise)
    shot(phone, "thanks")

    # The same phone again the same day: told up front, and again on sending, that it has
    # rated already; nothing is stored.
    phone.goto(link)
    expect(phone.get_by_role("status")).to_contain_text(
        zh("You have rated this service today already")
    )
    _rate(phone, "Dissatisfied", AGAIN)
    phone.get_by_role("button", name=zh("Send my rating")).tap()
    expect(phone).to_have_url(f"{link}/thanks")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        zh("You have rated this service today already")
    )
    assert _query(live_server, "SELECT count(*) FROM public_rating WHERE comment = ?", AGAIN) == [
        (0,)
    ]
    shot(phone, "rated-already")

    # The quality lead finds the case in the open queue by what the citizen wrote.
    lead = new_page("en-US", **DESKTOP)
    login(lead, "quality_lead")  # lands on the results, which link to the open cases
    lead.get_by_role("link", name=re.compile(r"^Public feedback")).click()
    expect(lead).to_have_url(f"{live_server.url}/feedback/")
    expect(lead.get_by_role("heading", level=1)).to_have_text("Public feedback")
    row = lead.locator("table tbody tr").filter(has_text=COMMENT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(name_en)
    expect(row).to_contain_text("Very dissatisfied")
    expect(row).to_contain_text("I waited too long")
    expect(row.locator(".badge")).to_have_text("Awaiting a reply")
    row.get_by_role("link", name=name_en).click()
    expect(lead).to_have_url(f"{live_server.url}/feedback/cases/{case_id}")
    expect(lead.get_by_role("heading", level=1)).to_have_text(f"Case #{case_id}: {name_en}")
    expect(lead.locator("h1 + p .badge")).to_have_text("Awaiting a reply")
    expect(lead.locator("main")).to_contain_text(f"due {format_date(due, 'long', locale='en')}")
    facts = lead.locator(".facts")
    for shown in ("Very dissatisfied", "(1/5)", "I waited too long", COMMENT, "王女士"):
        expect(facts).to_contain_text(shown)
    expect(facts).to_contain_text(PHONE_NUMBER)
    history = lead.locator("#history .history__event")
    expect(history).to_have_count(1)

    # 1. The contact.
    lead.get_by_label("How was the citizen contacted, and what did they say?").fill(CONTACT_NOTE)
    lead.get_by_role("button", name="Record the contact").click()
    expect(lead.locator(".notice--success")).to_have_text("The contact was recorded.")
    expect(lead.locator("h1 + p .badge")).to_have_text("Citizen contacted")
    expect(lead.get_by_role("button", name="Record the contact")).to_have_count(0)
    expect(history).to_have_count(2)
    expect(history.last).to_contain_text("Citizen contacted")
    expect(history.last).to_contain_text(CONTACT_NOTE)

    # 2. The reply, the outcome, closed.
    lead.get_by_label("The reply given to the citizen, or what the review found").fill(REPLY)
    lead.get_by_label("Outcome").select_option("resolved")
    lead.get_by_role("button", name="Close the case").click()
    expect(lead.locator(".notice--success")).to_have_text("The case was closed.")
    expect(lead.locator("h1 + p .badge")).to_have_text("Closed")
    expect(lead.locator("main")).to_contain_text("closed on time")
    expect(lead.get_by_role("button", name="Close the case")).to_have_count(0)
    outcome = lead.locator("section", has=lead.get_by_role("heading", name="Outcome", exact=True))
    expect(outcome).to_contain_text("Resolved: the matter was put right")
    expect(outcome).to_contain_text(REPLY)
    expect(history).to_have_count(3)
    expect(history.last).to_contain_text("Closed")
    shot(lead, "case-closed", full_page=True)

    # The queue: gone from the open cases, listed under Closed.
    lead.get_by_role("link", name="Public feedback").first.click()
    expect(lead.locator("table tbody tr").filter(has_text=COMMENT)).to_have_count(0)
    lead.get_by_role("navigation", name="Which cases").get_by_role("link", name="Closed").click()
    expect(lead).to_have_url(re.compile(r"/feedback/\?show=closed$"))
    closed = lead.locator("table tbody tr").filter(has_text=COMMENT)
    expect(closed).to_have_count(1)
    expect(closed.locator(".badge")).to_have_text("Closed")
    expect(closed.locator(f"a[href='/feedback/cases/{case_id}']").first).to_be_visible()
    assert _query(
        live_server, "SELECT status, outcome, reply FROM feedback_case WHERE id = ?", case_id
    ) == [("closed", "resolved", REPLY)]

    # Ningbo's quality lead sees Ningbo's cases, never this one, not even by its address.
    ningbo = new_page("en-US", **DESKTOP)
    email, password = live_server.office_accounts[("ningbo", "quality_lead")]
    ningbo.goto(f"{live_server.url}/login")
    ningbo.locator("input[name=email]").fill(email)
    ningbo.locator("input[name=password]").fill(password)
    ningbo.locator("form [type=submit]").click()
    expect(ningbo.locator(".site-header__brand")).to_contain_text("Ningbo")
    ningbo.goto(f"{live_server.url}/feedback/?show=all")
    expect(ningbo.locator("table tbody tr").first).to_be_visible()  # Ningbo's own cases
    expect(ningbo.locator("main")).not_to_contain_text(COMMENT)
    expect(ningbo.locator(f"a[href='/feedback/cases/{case_id}']")).to_have_count(0)
    assert ningbo.goto(f"{live_server.url}/feedback/cases/{case_id}").status == 404
